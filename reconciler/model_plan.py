"""The remote side and the plans of `reconciler.model`: listed snapshots, field changes,
operations, listed and failed views. Import them from `reconciler.model`, which loads this
module on first use (the offline commands never do)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

from reconciler.model import FieldValue, SnapshotKey, SourcePosition, ViewScope


@dataclass(frozen=True, slots=True)
class RemoteSnapshot:
    """A snapshot as listed from the API. `fields` holds the mutable fields it returned."""

    id: str
    key: SnapshotKey
    fields: Mapping[str, FieldValue]
    created_at: str = ""
    #: Every attribute as returned, server fields included (for fingerprints and export).
    attributes: Mapping[str, Any] = field(default_factory=dict)
    #: Fields every snapshot has that the listing left out (a sparse listing): unknown, so
    #: never compared (comparing would plan the same patch on every run).
    unreported: frozenset[str] = frozenset()

    @property
    def created(self) -> datetime | None:
        """`created_at` parsed; None when absent or not a timestamp."""
        return parse_timestamp(self.created_at)


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))"
)


def parse_timestamp(text: str) -> datetime | None:
    """An ISO-8601 date-time with 0 to 6 fraction digits and `Z` or an offset, as an aware
    datetime; None otherwise. Timestamps are compared as instants, never as text: real v2
    responses vary the number of fraction digits, and "…00.5Z" sorts after "…00.25Z"."""
    match = _TIMESTAMP.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu:
        zone = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        if offset >= timedelta(hours=24):
            return None
        zone = timezone(-offset if sign == "-" else offset)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        return None


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


@dataclass(frozen=True, order=True, slots=True)
class ListedView:
    """A view that was listed: how many snapshots it held and a fingerprint of them all
    (None when not computed: only saved and JSON plans need it)."""

    scope: ViewScope
    snapshot_count: int
    fingerprint: str | None = None


@dataclass(frozen=True, order=True, slots=True)
class ViewError:
    """A view whose listing failed or may be truncated: it is never planned on."""

    scope: ViewScope
    message: str

    def __str__(self) -> str:
        return f"view {self.scope.view_name} of application {self.scope.application_id}: " + (
            self.message
        )


@dataclass(frozen=True, order=True, slots=True)
class RemovedView:
    """A view managed at the `--base` ref that no file manages now: its remote snapshots
    stay. `snapshot_count` is None when it could not be listed; `position` is where the
    view key was written at the base ref."""

    scope: ViewScope
    snapshot_count: int | None
    position: SourcePosition | None = None

    @property
    def message(self) -> str:
        where = f"view {self.scope.view_name} of application {self.scope.application_id}"
        declare = f"declare `{self.scope.view_name}: []` to delete them"
        if self.snapshot_count is None:
            return (
                f"{where} is no longer managed: it could not be listed; its snapshots stay "
                f"in Datadog; {declare}"
            )
        noun = "snapshot stays" if self.snapshot_count == 1 else "snapshots stay"
        return f"{where} is no longer managed: {self.snapshot_count} {noun} in Datadog; {declare}"
