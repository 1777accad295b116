"""Choosing what to export: one view's remote snapshots -> the entries a file declares.

Decisions:
- Snapshots sorted by (snapshot_name, device_type); fields in a fixed order (FIELD_ORDER).
- Several remote snapshots with one natural key: the oldest expressible one (by the instant
  of created_at, then id: `RemoteSnapshot.age_order`) is exported; the others are named in
  a warning.
- A snapshot the file format cannot express (no event_id, no valid start, ...) is skipped
  with a warning: its view is managed, so `plan` would delete it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reconciler.core import resource
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import FieldValue, RemoteSnapshot

#: Order of the fields of one exported snapshot.
FIELD_ORDER: Final = ("snapshot_name", "device_type", *resource.MUTABLE_FIELDS)

_MAX_START: Final = 2**63 - 1

#: One snapshot as written in a file: field name -> value, in FIELD_ORDER.
Entry = dict[str, FieldValue]


class ExportError(ReconcilerError):
    """Export or merge cannot proceed (listing failed, file does not fit)."""


@dataclass(frozen=True, slots=True)
class ExportedView:
    """The entries of one view, sorted, plus the warnings met while choosing them."""

    view_name: str
    entries: tuple[Entry, ...]
    warnings: tuple[str, ...]


def describe(view_name: str, device_type: str, snapshot_name: str) -> str:
    """`/checkout desktop "hero"`, as plan's text output names a snapshot."""
    return f"{view_name} {device_type} {json.dumps(snapshot_name, ensure_ascii=False)}"


def export_view(view_name: str, snapshots: Sequence[RemoteSnapshot]) -> ExportedView:
    """The entries that declare `snapshots` (one view's listing) exactly as they are."""
    warnings: list[str] = []
    groups: dict[tuple[str, str], list[RemoteSnapshot]] = defaultdict(list)
    for snapshot in snapshots:
        groups[(snapshot.key.snapshot_name, snapshot.key.device_type)].append(snapshot)
    entries: list[Entry] = []
    for (name, device), group in sorted(groups.items()):
        where = describe(view_name, device, name)
        ordered = sorted(group, key=lambda s: s.age_order)
        candidates: list[tuple[RemoteSnapshot, Entry, list[str]]] = []
        for snapshot in ordered:
            entry, problem, notes = _entry(snapshot)
            if entry is None:
                warnings.append(
                    f"warning: skipped {where} (id {snapshot.id}): {problem}, which a snapshots "
                    "file cannot express; its view is managed, so plan would delete it"
                )
            else:
                candidates.append((snapshot, entry, notes))
        if not candidates:
            continue
        kept, entry, notes = candidates[0]
        warnings.extend(f"warning: {where}: {note}" for note in notes)
        if len(group) > 1:
            ids = ", ".join(s.id for s in ordered)
            warnings.append(
                f"warning: duplicate remote snapshots {where}: ids {ids}; exported {kept.id} "
                "(the oldest); plan will delete the others as duplicates"
            )
        entries.append(entry)
    return ExportedView(view_name, tuple(entries), tuple(warnings))


def _entry(snapshot: RemoteSnapshot) -> tuple[Entry | None, str, list[str]]:
    """(entry, "", notes), or (None, why it cannot be written, [])."""
    key, fields = snapshot.key, snapshot.fields
    if not key.snapshot_name:
        return None, "its snapshot_name is empty", []
    if key.device_type not in resource.DEVICE_TYPES:
        return None, f"device_type {json.dumps(key.device_type)} is not one of the allowed", []
    event_id = fields.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return None, "it has no event_id", []
    start = fields.get("start")
    if type(start) is not int or not 0 <= start <= _MAX_START:
        return None, "it has no start that is an integer >= 0", []
    entry: Entry = {
        "snapshot_name": key.snapshot_name,
        "device_type": key.device_type,
        "event_id": event_id,
        "start": start,
    }
    notes: list[str] = []
    selected = fields.get("is_device_type_selected_by_user")
    if selected is True:
        entry["is_device_type_selected_by_user"] = True
    elif selected is not False:
        # The file's default (false) applies: plan will set it.
        notes.append("is_device_type_selected_by_user is not set remotely; plan will set false")
    for name in resource.OPTIONAL_MUTABLE_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value:
            entry[name] = value
        elif name in fields:
            notes.append(f"{name} {json.dumps(value)} cannot be declared; left unmanaged")
    return entry, "", notes


def check_application_id(application_id: str) -> None:
    """--application-id must be what the file format accepts: a UUID."""
    if not _UUID.fullmatch(application_id):
        raise ExportError(f"--application-id {application_id!r} is not a UUID")


_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def remote_by_view(
    listing: Mapping[Any, Sequence[RemoteSnapshot]], view_names: Sequence[str]
) -> list[ExportedView]:
    """One ExportedView per view name, from a listing keyed by ViewScope."""
    by_name = {scope.view_name: snapshots for scope, snapshots in listing.items()}
    return [export_view(name, by_name.get(name, ())) for name in view_names]
