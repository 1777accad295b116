"""Drift attribution (`plan --base REF`): for each operation and each field it changes, who
made the difference, from three states: the snapshot files at REF (the last applied desired
state: CI applies the base branch), the files now, and Datadog now.

- `change`: the files changed since REF, and Datadog still matches REF.
- `drift`: Datadog differs from REF, and the files did not change: applying undoes an edit
  made in Datadog (a snapshot deleted there is created again, one created there deleted).
- `conflict`: the files changed, and Datadog changed the same snapshot since REF.

Per field: the files changed it when its value at REF differs from the files' value now
(absence counts: an optional field managed now and not then); Datadog changed it when the
field was managed at REF and the listed value differs from it. An operation is `conflict`
when its fields (or the snapshot's existence) were changed on both sides, else the side that
changed them. Rules where a field says nothing:

- a view not managed at REF (a new file, a new view): every operation there is `change`
  (REF said nothing of that view; adopting it is the files' decision);
- a create: the snapshot at REF (same key) and not listed: deleted in Datadog (`drift`,
  `conflict` when the files also changed its fields); not at REF: `change`;
- a delete: the snapshot not at REF: created in Datadog (`drift`); at REF: removed from the
  files (`change`, `conflict` when Datadog also edited it); a duplicate copy is `drift`;
- a replace (key change) compares whole snapshots, key included: its state at REF is the
  new key's snapshot there, else the old key's; the files changed it when that differs from
  the files now, Datadog when it differs from the listed snapshot. A rename in the files of
  a snapshot edited in Datadog is a `conflict`; a rename in Datadog is `drift`.

Pure: values in, values out; computed once per plan (`engine.compute_plan`), carried by the
plan document and saved plans, never re-derived by a renderer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.core.model import (
    DesiredSnapshot,
    DesiredState,
    FieldValue,
    RemoteSnapshot,
    SnapshotKey,
    ViewScope,
)
from reconciler.core.resource import MUTABLE_FIELDS
from reconciler.plan.operations import Create, Delete, Operation, Patch

Label = Literal["change", "drift", "conflict"]
LABELS: tuple[Label, ...] = ("change", "drift", "conflict")

#: An operation's identity in a plan: kind, key and remote id (None for a create).
Identity = tuple[str, SnapshotKey, str | None]


def identity(op: Operation) -> Identity:
    return (op.kind, op.key, None if isinstance(op, Create) else op.snapshot_id)


@dataclass(frozen=True, slots=True)
class FieldAttribution:
    """One field: its value in the files at REF, in Datadog now and in the files now (None:
    absent or not managed there; a create's `remote` and a delete's `desired` are None)."""

    name: str
    label: Label
    base: FieldValue | None
    remote: FieldValue | None
    desired: FieldValue | None


@dataclass(frozen=True, slots=True)
class OperationAttribution:
    """One operation's label, its fields', and what the listing says of the remote snapshot
    (`modified_at`; `created_by_handle` for a snapshot created in Datadog)."""

    label: Label
    fields: tuple[FieldAttribution, ...] = ()
    modified_at: str | None = None
    created_by_handle: str | None = None
    #: The snapshot was deleted in Datadog since REF (the operation creates it again).
    deleted_remotely: bool = False
    #: The listed snapshot was created in Datadog since REF (not declared at REF).
    created_remotely: bool = False

    def field(self, name: str) -> FieldAttribution | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True, slots=True)
class Attribution:
    """A plan's attribution against the files at `ref` (`commit`), per operation identity."""

    ref: str
    commit: str
    operations: Mapping[Identity, OperationAttribution]

    def of(self, op: Operation) -> OperationAttribution | None:
        return self.operations.get(identity(op))

    def counts(self, operations: Iterable[Operation]) -> Counter[str]:
        """How many of `operations` carry each label, as plans show them (a replace once:
        the delete half of a replace is not counted)."""
        found = (self.of(op) for op in operations if op.kind != "replaced")
        return Counter(label.label for label in found if label is not None)

    def drift_only(self, operations: Sequence[Operation]) -> bool:
        """The plan has operations and every one undoes an edit made in Datadog: nothing is
        pending from the files (what a scheduled check branches on)."""
        counts = self.counts(operations)
        return bool(operations) and counts["drift"] == sum(counts.values())


def attribute(
    operations: Sequence[Operation],
    ref: str,
    commit: str,
    base: DesiredState,
    listed: Mapping[ViewScope, Sequence[RemoteSnapshot]],
) -> Attribution:
    """The attribution of `operations` (a plan's: they carry the files' values now), from
    the files at REF (`base`) and the listing (`listed`)."""
    then = {s.key: s for s in base.snapshots}
    remote = {s.id: s for snapshots in listed.values() for s in snapshots}
    managed_then = {view.scope for view in base.views}
    replaced = {
        op.replaces.snapshot_id: op
        for op in operations
        if isinstance(op, Create) and op.replaces is not None
    }
    found: dict[Identity, OperationAttribution] = {}
    for op in operations:
        if op.key.scope not in managed_then:
            found[identity(op)] = OperationAttribution("change")
        elif isinstance(op, Create):
            found[identity(op)] = _create(op, then, remote)
        elif isinstance(op, Patch):
            found[identity(op)] = _patch(op, then.get(op.key), remote.get(op.snapshot_id))
        else:
            partner = replaced.get(op.snapshot_id) if op.delete_reason == "replaced" else None
            if partner is not None:
                found[identity(op)] = _create(partner, then, remote)
            else:
                found[identity(op)] = _delete(op, then.get(op.key), remote.get(op.snapshot_id))
    return Attribution(ref, commit, found)


def _label(files: bool, datadog: bool) -> Label:
    if files and datadog:
        return "conflict"
    return "drift" if datadog else "change"


def _same(a: FieldValue | None, b: FieldValue | None) -> bool:
    return a == b and type(a) is type(b)


def _known(snapshot: RemoteSnapshot | None, name: str) -> bool:
    return snapshot is not None and name not in snapshot.unreported


def _stamps(snapshot: RemoteSnapshot | None) -> dict[str, Any]:
    if snapshot is None:
        return {}
    attributes = snapshot.attributes
    modified = attributes.get("modified_at")
    return {"modified_at": modified if isinstance(modified, str) else None}


def _handle(snapshot: RemoteSnapshot | None) -> str | None:
    handle = None if snapshot is None else snapshot.attributes.get("created_by_handle")
    return handle if isinstance(handle, str) else None


def _field(
    name: str, base: DesiredSnapshot | None, remote: FieldValue | None, desired: FieldValue | None
) -> FieldAttribution:
    """A field the listing reported (the diff compares no other)."""
    at_base = None if base is None else base.fields.get(name)
    files = not _same(at_base, desired)
    datadog = base is not None and name in base.fields and not _same(remote, at_base)
    return FieldAttribution(name, _label(files, datadog), at_base, remote, desired)


def _combined(fields: Sequence[FieldAttribution]) -> Label:
    labels = {f.label for f in fields}
    files = bool(labels & {"change", "conflict"})
    return _label(files, bool(labels & {"drift", "conflict"}))


def _patch(
    op: Patch, base: DesiredSnapshot | None, remote: RemoteSnapshot | None
) -> OperationAttribution:
    if base is None:  # declared now, listed, not declared at REF: created in Datadog
        fields = tuple(FieldAttribution(c.name, "conflict", None, c.old, c.new) for c in op.changes)
        return OperationAttribution(
            "conflict",
            fields,
            **_stamps(remote),
            created_by_handle=_handle(remote),
            created_remotely=True,
        )
    fields = tuple(_field(c.name, base, c.old, c.new) for c in op.changes)
    return OperationAttribution(_combined(fields), fields, **_stamps(remote))


def _create(
    op: Create,
    then: Mapping[SnapshotKey, DesiredSnapshot],
    remote: Mapping[str, RemoteSnapshot],
) -> OperationAttribution:
    desired_fields = op.fields
    if op.replaces is None:
        base = then.get(op.key)
        if base is None:
            return OperationAttribution("change")
        # At REF and not listed: deleted in Datadog.
        fields = tuple(
            FieldAttribution(
                name, "conflict", base.fields.get(name), None, desired_fields.get(name)
            )
            for name in sorted({*base.fields, *desired_fields}, key=MUTABLE_FIELDS.index)
            if not _same(base.fields.get(name), desired_fields.get(name))
        )
        label: Label = "conflict" if fields else "drift"
        return OperationAttribution(label, fields, deleted_remotely=True)
    old = remote.get(op.replaces.snapshot_id)
    before = {c.name: str(c.old) for c in op.replaces.changes}
    old_key = SnapshotKey(
        op.key.application_id,
        op.key.view_name,
        before.get("device_type", op.key.device_type),
        before.get("snapshot_name", op.key.snapshot_name),
    )
    base = then.get(op.key) or then.get(old_key)
    found: list[FieldAttribution] = []
    for change in op.replaces.changes:
        at_base = None if base is None else getattr(base.key, change.name)
        files = at_base != change.new
        datadog = at_base != change.old
        found.append(
            FieldAttribution(change.name, _label(files, datadog), at_base, change.old, change.new)
        )
    remote_fields = {} if old is None else old.fields
    for name in sorted({*desired_fields, *(base.fields if base else {})}, key=MUTABLE_FIELDS.index):
        listed = remote_fields.get(name)
        if _known(old, name) and not _same(listed, desired_fields.get(name)):
            found.append(_field(name, base, listed, desired_fields.get(name)))
    label = _combined(found) if base is not None else "conflict"
    if base is not None:
        return OperationAttribution(label, tuple(found), **_stamps(old))
    return OperationAttribution(
        label, tuple(found), **_stamps(old), created_by_handle=_handle(old), created_remotely=True
    )


def _delete(
    op: Delete, base: DesiredSnapshot | None, remote: RemoteSnapshot | None
) -> OperationAttribution:
    if base is None or op.delete_reason == "duplicate":  # created in Datadog
        return OperationAttribution(
            "drift", **_stamps(remote), created_by_handle=_handle(remote), created_remotely=True
        )
    # Removed from the files; did Datadog edit it since REF?
    fields = tuple(
        FieldAttribution(name, "conflict", value, remote.fields.get(name), None)
        for name, value in base.fields.items()
        if remote is not None and _known(remote, name) and not _same(remote.fields.get(name), value)
    )
    return OperationAttribution("conflict" if fields else "change", fields, **_stamps(remote))
