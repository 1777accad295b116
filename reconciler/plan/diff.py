"""Desired vs remote, per natural key. Pure: values in, unordered operations out.

Rules (SPEC section 5): desired only -> create; remote only -> delete (when prune is on and
no `ignore` glob matches the name); both -> patch when a managed mutable field differs
(a cheap, type-strict check finds such pairs; DeepDiff then explains their field changes,
in one pass over all of them). Several remote snapshots with one key: keep one, patch it
if needed, delete the others as duplicates (`Delete.delete_reason == "duplicate"`). The
survivor rule is deterministic, so two runs racing on the same listing keep the same copy:
the oldest copy that already matches, else the oldest; "oldest" by parsed `created_at` (an
instant, never text), a copy without a readable `created_at` after every dated one, ties by
id.

Replace (a key change: `snapshot_name` or `device_type`, which PATCH cannot change): a
create and a "not declared" delete of the same (application, view) are one replace when
they share `event_id` and `start`, differ in exactly one key field (a rename keeps the
device type, a device change keeps the name), and no other create or delete of that view
is such a match for either (one to one; an ambiguous pairing stays a create plus a
delete). The create half runs in the create phase and the delete half (`delete_reason ==
"replaced"`) in the delete phase, so nothing is deleted before its replacement exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.core import resource
from reconciler.core.globs import any_match
from reconciler.core.model import (
    DesiredSnapshot,
    FieldValue,
    RemoteSnapshot,
    SnapshotKey,
    ViewScope,
)
from reconciler.plan.operations import (
    Create,
    Delete,
    DeleteReason,
    FieldChange,
    Operation,
    Patch,
    Replacement,
)


@dataclass(frozen=True, slots=True)
class DiffOptions:
    prune: bool = True
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DiffResult:
    """The operations, plus the deletes that were not planned: remote snapshots kept by an
    `ignore` glob, and deletes left out because `prune` is off."""

    operations: list[Operation]
    ignored: tuple[SnapshotKey, ...] = ()
    unpruned: tuple[SnapshotKey, ...] = ()


def diff(
    desired: Iterable[DesiredSnapshot],
    remote: Mapping[ViewScope, Sequence[RemoteSnapshot]],
    options: DiffOptions = DiffOptions(),
) -> list[Operation]:
    """Operations that turn `remote` into `desired`, for the scopes in `remote` only.

    `remote` holds every listed scope (a scope with no snapshots maps to an empty sequence);
    desired snapshots of scopes that were not listed (listing failed) are left out.
    """
    return diff_report(desired, remote, options).operations


def diff_report(
    desired: Iterable[DesiredSnapshot],
    remote: Mapping[ViewScope, Sequence[RemoteSnapshot]],
    options: DiffOptions = DiffOptions(),
) -> DiffResult:
    """`diff`, with the counts of deletes not planned (see DiffResult)."""
    remote_by_key: dict[SnapshotKey, list[RemoteSnapshot]] = defaultdict(list)
    for snapshots in remote.values():
        for snapshot in snapshots:
            remote_by_key[snapshot.key].append(snapshot)

    operations: list[Operation] = []
    patches: list[tuple[DesiredSnapshot, RemoteSnapshot]] = []
    kept: dict[str, list[SnapshotKey]] = {"ignored": [], "unpruned": []}
    declared: set[SnapshotKey] = set()
    # Plain tuples: a scope built and hashed per snapshot would cost more than the rest.
    listed = {(scope.application_id, scope.view_name) for scope in remote}
    for want in desired:
        key = want.key
        if (key.application_id, key.view_name) not in listed:
            continue
        declared.add(key)
        candidates = remote_by_key.get(key, ())
        if not candidates:
            operations.append(_create(want))
            continue
        keep = choose_survivor(want, candidates)
        if differs(want, keep):
            patches.append((want, keep))
        for extra in candidates:
            if extra is not keep:
                operations.extend(_delete(extra, "duplicate", options, kept))

    operations.extend(
        _patch(want, have, changes)
        for (want, have), changes in zip(patches, explain(patches), strict=True)
    )
    undeclared: list[tuple[Delete, RemoteSnapshot]] = []
    for key, snapshots in remote_by_key.items():
        if key not in declared:
            for snapshot in snapshots:
                for op in _delete(snapshot, "not declared", options, kept):
                    undeclared.append((op, snapshot))
    operations = _pair_replaces(operations, undeclared)
    return DiffResult(operations, tuple(kept["ignored"]), tuple(kept["unpruned"]))


def _replace_key(fields: Mapping[str, FieldValue | None]) -> tuple[object, ...] | None:
    event_id, start = fields.get("event_id"), fields.get("start")
    if not isinstance(event_id, str) or type(start) is not int:
        return None
    return (event_id, start)


def _key_changes(old: SnapshotKey, new: SnapshotKey) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, getattr(old, name), getattr(new, name))
        for name in ("device_type", "snapshot_name")
        if getattr(old, name) != getattr(new, name)
    )


def _pair_replaces(
    operations: list[Operation], undeclared: list[tuple[Delete, RemoteSnapshot]]
) -> list[Operation]:
    """Creates and undeclared deletes paired one to one into replaces (module docstring)."""
    creates: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for index, op in enumerate(operations):
        if isinstance(op, Create):
            pair = _replace_key(op.fields)
            if pair is not None:
                creates[(op.key.scope, *pair)].append(index)
    deletes: dict[tuple[object, ...], list[tuple[Delete, RemoteSnapshot]]] = defaultdict(list)
    for op, snapshot in undeclared:
        known = {k: v for k, v in snapshot.fields.items() if k not in snapshot.unreported}
        pair = _replace_key(known)
        if pair is not None:
            deletes[(op.key.scope, *pair)].append((op, snapshot))
    result = list(operations)
    replaced: set[str] = set()
    for group, indexes in creates.items():
        olds = [op for op, _ in deletes.get(group, [])]
        news = [operations[index] for index in indexes]
        matches = [
            (index, old)
            for index, new in zip(indexes, news, strict=True)
            for old in olds
            if len(_key_changes(old.key, new.key)) == 1
        ]
        for index, old in matches:
            if sum(1 for i, _ in matches if i == index) != 1:
                continue
            if sum(1 for _, o in matches if o is old) != 1:
                continue
            create = operations[index]
            assert isinstance(create, Create)
            changes = _key_changes(old.key, create.key)
            result[index] = Create(
                key=create.key,
                fields=create.fields,
                position=create.position,
                replaces=Replacement(old.snapshot_id, changes),
            )
            replaced.add(old.snapshot_id)
    for op, _ in undeclared:
        if op.snapshot_id in replaced:
            result.append(Delete(key=op.key, snapshot_id=op.snapshot_id, delete_reason="replaced"))
        else:
            result.append(op)
    return result


def differs(want: DesiredSnapshot, have: RemoteSnapshot) -> bool:
    """Does a managed field's remote value differ (type included: `1` is not `true`)? A
    field the listing did not report (`have.unreported`) is unknown and never compared."""
    fields, unreported = have.fields, have.unreported
    for name, value in want.fields.items():
        if name not in unreported and not _same(fields.get(name), value):
            return True
    return False


def _same(have: FieldValue | None, want: FieldValue) -> bool:
    # Values are flat scalars; plain equality says True == 1, and a type mismatch is a real
    # difference for the API.
    return have == want and type(have) is type(want)


def explain(
    pairs: Sequence[tuple[DesiredSnapshot, RemoteSnapshot]],
) -> list[tuple[FieldChange, ...]]:
    """The field changes of each pair (known to differ), as DeepDiff finds them in one pass
    over all of them (a type change is a change; what `differs` does not compare is not
    compared). Imported only when there is something to explain: validating, and planning
    without a patch, never load it."""
    if not pairs:
        return []
    from deepdiff import DeepDiff

    # One flat level keyed by (pair, field): DeepDiff costs about three times as much per
    # field when each pair is a dict of its own.
    then: dict[tuple[int, str], FieldValue | None] = {}
    now: dict[tuple[int, str], FieldValue] = {}
    for index, (want, have) in enumerate(pairs):
        for name, value in want.fields.items():
            if name not in have.unreported:
                then[index, name], now[index, name] = have.fields.get(name), value
    changed: list[list[str]] = [[] for _ in pairs]
    for levels in DeepDiff(then, now, view="tree", threshold_to_diff_deeper=0).values():
        for level in levels:
            [(index, name)] = level.path(output_format="list")
            changed[index].append(name)
    order = resource.MUTABLE_FIELDS.index
    return [
        tuple(
            FieldChange(name, then[index, name], now[index, name])
            for name in sorted(names, key=order)
        )
        for index, names in enumerate(changed)
    ]


def choose_survivor(want: DesiredSnapshot, candidates: Sequence[RemoteSnapshot]) -> RemoteSnapshot:
    """The copy to keep: the oldest already matching, else the oldest (patched)."""
    if len(candidates) == 1:
        return candidates[0]
    ordered = sorted(candidates, key=lambda snapshot: snapshot.age_order)
    for snapshot in ordered:
        if not differs(want, snapshot):
            return snapshot
    return ordered[0]


def _create(want: DesiredSnapshot) -> Create:
    return Create(key=want.key, fields=want.fields, position=want.position)


def _patch(want: DesiredSnapshot, have: RemoteSnapshot, changes: tuple[FieldChange, ...]) -> Patch:
    # The patch carries every managed field: the API requires event_id, start and
    # is_device_type_selected_by_user on each update, and the desired state always has them.
    return Patch(
        key=want.key,
        snapshot_id=have.id,
        changes=changes,
        fields=want.fields,
        position=want.position,
    )


def _delete(
    have: RemoteSnapshot,
    reason: DeleteReason,
    options: DiffOptions,
    kept: dict[str, list[SnapshotKey]],
) -> list[Delete]:
    if is_ignored(have.key.snapshot_name, options.ignore):
        kept["ignored"].append(have.key)
        return []
    if not options.prune:
        kept["unpruned"].append(have.key)
        return []
    return [Delete(key=have.key, snapshot_id=have.id, delete_reason=reason)]


def is_ignored(snapshot_name: str, ignore: Sequence[str]) -> bool:
    return any_match(snapshot_name, ignore)
