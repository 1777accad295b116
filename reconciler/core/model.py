"""Immutable value types shared by the pipeline: desired -> remote -> diff -> planner -> executor.

Imports nothing of ours but `core.text`, which makes a problem's path and message inert
where it is printed. Every type is a frozen dataclass so that values can be shared
between stages (and threads or tasks) without copies, and sorted deterministically.

The files' side (keys, desired snapshots and views, problems) and the remote side (listed
snapshots, listed, failed and removed views). The operations of a plan are the plan stage's
(`reconciler.plan.operations`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from reconciler.core.text import leading_path, printable

#: A mutable field's value as YAML and the API give it.
FieldValue = str | int | bool


@dataclass(frozen=True, order=True, slots=True)
class SnapshotKey:
    """Natural key of a snapshot; fields in resource.KEY_FIELDS order, so sorting is stable."""

    application_id: str
    view_name: str
    device_type: str
    snapshot_name: str

    @property
    def scope(self) -> ViewScope:
        return ViewScope(self.application_id, self.view_name)

    def as_dict(self) -> dict[str, str]:
        return {
            "application_id": self.application_id,
            "view_name": self.view_name,
            "device_type": self.device_type,
            "snapshot_name": self.snapshot_name,
        }

    def __str__(self) -> str:
        return f"{self.view_name} [{self.device_type}] {self.snapshot_name!r}"


@dataclass(frozen=True, order=True, slots=True)
class ViewScope:
    """One managed (application, view): the unit of listing, pruning and safety."""

    application_id: str
    view_name: str

    def __str__(self) -> str:
        return f"{self.application_id} {self.view_name}"


@dataclass(frozen=True, order=True, slots=True)
class SourcePosition:
    """Where something was written: 1-based line and column, as editors count."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True, slots=True)
class Problem:
    """One user-facing problem, printed as `path:line:col: message`."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{leading_path(self.path)}:{self.line}:{self.col}: {printable(self.message)}"


@dataclass(frozen=True, slots=True)
class DesiredSnapshot:
    """A snapshot declared in a file. `fields` holds only the managed mutable fields."""

    key: SnapshotKey
    fields: Mapping[str, FieldValue]
    position: SourcePosition


@dataclass(frozen=True, slots=True)
class ManagedView:
    """A view key in a snapshots file: its remote snapshots are reconciled."""

    scope: ViewScope
    position: SourcePosition


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Everything the snapshot files declare, already validated."""

    views: tuple[ManagedView, ...]
    snapshots: tuple[DesiredSnapshot, ...]


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

    @property
    def age_order(self) -> tuple[bool, int, str]:
        """Sort key of copies with one key: oldest first by parsed `created_at` (exact
        microseconds, an instant, never text: "…00Z" is older than "…00.5Z"), undated last,
        then by id. Every run, and every command, orders the same copies the same way."""
        created = self.created
        micros = 0 if created is None else (created - _EPOCH) // timedelta(microseconds=1)
        return (created is None, micros, self.id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: ASCII digits only (`re.ASCII`): `\d` alone would read "２０２６" as a year.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))",
    re.ASCII,
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
