"""Desired vs remote, per natural key. Pure: values in, unordered operations out.

Rules (SPEC section 5): desired only -> create; remote only -> delete (when prune is on and
no `ignore` glob matches the name); both -> patch when a managed mutable field differs.
Several remote snapshots with one key: keep one, patch it if needed, delete the others as
duplicates (`Delete.delete_reason == "duplicate"`). The survivor rule is deterministic, so
two runs racing on the same listing keep the same copy: the oldest copy that already
matches, else the oldest; "oldest" by parsed `created_at` (an instant, never text), a copy
without a readable `created_at` after every dated one, ties by id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase

from deepdiff import DeepDiff

from reconciler import resource
from reconciler.model import (
    Create,
    Delete,
    DeleteReason,
    DesiredSnapshot,
    FieldChange,
    FieldValue,
    Operation,
    Patch,
    RemoteSnapshot,
    SnapshotKey,
    ViewScope,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DiffOptions:
    prune: bool = True
    ignore: tuple[str, ...] = ()


def diff(
    desired: Iterable[DesiredSnapshot],
    remote: Mapping[ViewScope, Sequence[RemoteSnapshot]],
    options: DiffOptions = DiffOptions(),
) -> list[Operation]:
    """Operations that turn `remote` into `desired`, for the scopes in `remote` only.

    `remote` holds every listed scope (a scope with no snapshots maps to an empty sequence);
    desired snapshots of scopes that were not listed (listing failed) are left out.
    """
    remote_by_key: dict[SnapshotKey, list[RemoteSnapshot]] = defaultdict(list)
    for snapshots in remote.values():
        for snapshot in snapshots:
            remote_by_key[snapshot.key].append(snapshot)

    operations: list[Operation] = []
    declared: set[SnapshotKey] = set()
    for want in desired:
        if want.key.scope not in remote:
            continue
        declared.add(want.key)
        candidates = remote_by_key.get(want.key, [])
        if not candidates:
            operations.append(_create(want))
            continue
        keep, changes = choose_survivor(want, candidates)
        if changes:
            operations.append(_patch(want, keep, changes))
        for extra in candidates:
            if extra is not keep:
                operations.extend(_delete(extra, "duplicate", options))

    for key, snapshots in remote_by_key.items():
        if key not in declared:
            for snapshot in snapshots:
                operations.extend(_delete(snapshot, "not declared", options))
    return operations


def field_changes(want: DesiredSnapshot, have: RemoteSnapshot) -> tuple[FieldChange, ...]:
    """Managed fields whose remote value differs (type included: `1` is not `true`). A field
    the listing did not report (`have.unreported`) is unknown and never compared."""
    managed = {name: have.fields.get(name) for name in want.fields if name not in have.unreported}
    if _same(managed, want.fields):
        return ()
    # Only pairs that differ at all reach DeepDiff (it costs ~0.25 ms a pair).
    wanted = {name: want.fields[name] for name in managed}
    names = {str(name) for name in DeepDiff(managed, wanted).affected_root_keys}
    order = resource.MUTABLE_FIELDS
    return tuple(
        FieldChange(name, have.fields.get(name), want.fields[name])
        for name in sorted(names, key=order.index)
    )


def _same(have: Mapping[str, FieldValue | None], want: Mapping[str, FieldValue]) -> bool:
    # Plain equality says True == 1; a type mismatch is a real difference for the API.
    return all(have[name] == want[name] and type(have[name]) is type(want[name]) for name in have)


def survivor_order(snapshot: RemoteSnapshot) -> tuple[bool, int, str]:
    """Sort key of copies with one key: oldest first by parsed `created_at` (exact
    microseconds), undated last, then by id. Every run orders the same copies the same way."""
    created = snapshot.created
    micros = 0 if created is None else (created - _EPOCH) // timedelta(microseconds=1)
    return (created is None, micros, snapshot.id)


def choose_survivor(
    want: DesiredSnapshot, candidates: Sequence[RemoteSnapshot]
) -> tuple[RemoteSnapshot, tuple[FieldChange, ...]]:
    """The copy to keep and its changes: the oldest already matching, else the oldest."""
    ordered = sorted(candidates, key=survivor_order)
    for snapshot in ordered:
        if not field_changes(want, snapshot):
            return snapshot, ()
    oldest = ordered[0]
    return oldest, field_changes(want, oldest)


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


def _delete(have: RemoteSnapshot, reason: DeleteReason, options: DiffOptions) -> list[Delete]:
    if not options.prune or is_ignored(have.key.snapshot_name, options.ignore):
        return []
    return [Delete(key=have.key, snapshot_id=have.id, delete_reason=reason)]


def is_ignored(snapshot_name: str, ignore: Sequence[str]) -> bool:
    return any(fnmatchcase(snapshot_name, pattern) for pattern in ignore)
