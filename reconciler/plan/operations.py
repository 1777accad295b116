"""A plan's operations: create, patch and delete values, each with its field changes and the
request that carries it out, in the plan's order (creates, then patches, then deletes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.core.model import FieldValue, SnapshotKey, SourcePosition


@dataclass(frozen=True, order=True, slots=True)
class FieldChange:
    """One field of a patch: `old` is None when the remote did not return the field."""

    name: str
    old: FieldValue | None
    new: FieldValue


@dataclass(frozen=True, slots=True)
class Request:
    """The exact HTTP request an operation sends."""

    method: Literal["POST", "PATCH", "DELETE"]
    path: str
    body: Mapping[str, Any] | None


#: "replaced": the delete half of a replace (its create half makes the new snapshot first).
DeleteReason = Literal["not declared", "duplicate", "replaced"]


#: What an operation is, as plans show it: a delete of a duplicate is its own kind (it loses
#: nothing: a copy with the same key is kept); a replace is a create ("replace") and the
#: delete of the snapshot it replaces ("replaced"), counted once, as a replace.
Kind = Literal["create", "patch", "delete", "duplicate", "replace", "replaced"]


@dataclass(frozen=True, slots=True)
class Replacement:
    """What a create replaces: the remote snapshot (deleted in the delete phase, after the
    create) and its key fields that differ (old -> new)."""

    snapshot_id: str
    changes: tuple[FieldChange, ...]


# Operations carry values only; the request each one sends is derived from them in one
# place when it is sent (`resource` bodies; `planfile.request_of` for display).
@dataclass(frozen=True, slots=True)
class Create:
    key: SnapshotKey
    fields: Mapping[str, FieldValue]
    position: SourcePosition | None = None
    #: Set when this create replaces a remote snapshot (a key change).
    replaces: Replacement | None = None

    phase: Literal["create"] = "create"

    @property
    def reason(self) -> str:
        return "new" if self.replaces is None else "replaces " + self.replaces.snapshot_id

    @property
    def kind(self) -> Kind:
        return "create" if self.replaces is None else "replace"


@dataclass(frozen=True, slots=True)
class Patch:
    key: SnapshotKey
    snapshot_id: str
    changes: tuple[FieldChange, ...]
    #: Every managed field, as the body sends them (the API requires the required ones on
    #: each update); `changes` are those that differ.
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    position: SourcePosition | None = None

    phase: Literal["patch"] = "patch"

    @property
    def kind(self) -> Kind:
        return "patch"

    @property
    def reason(self) -> str:
        return "changed: " + ", ".join(change.name for change in self.changes)


@dataclass(frozen=True, slots=True)
class Delete:
    key: SnapshotKey
    snapshot_id: str
    #: "duplicate": another copy with the same key is kept (the executor relies on it).
    delete_reason: DeleteReason = "not declared"

    phase: Literal["delete"] = "delete"

    @property
    def kind(self) -> Kind:
        if self.delete_reason == "duplicate":
            return "duplicate"
        return "replaced" if self.delete_reason == "replaced" else "delete"

    @property
    def reason(self) -> str:
        return self.delete_reason


Operation = Create | Patch | Delete

#: Phase order: all creates, then patches, then deletes (nothing deleted before its
#: replacement exists).
PHASES: tuple[Literal["create", "patch", "delete"], ...] = ("create", "patch", "delete")


def operation_sort_key(op: Operation) -> tuple[int, SnapshotKey, str]:
    """Phase first, then natural key, then id: byte-identical plans for identical inputs."""
    snapshot_id = "" if isinstance(op, Create) else op.snapshot_id
    return (PHASES.index(op.phase), op.key, snapshot_id)
