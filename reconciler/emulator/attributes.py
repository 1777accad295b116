"""The attribute names of a heatmap snapshot, per the API contract: the one list the
emulator's validation, storage and sparse listings share (never the engine's)."""

from __future__ import annotations

from typing import Final

# Attribute name -> expected JSON type, per SnapshotCreateRequestDataAttributes.
ATTRIBUTE_TYPES: Final[dict[str, type]] = {
    "application_id": str,
    "view_name": str,
    "device_type": str,
    "snapshot_name": str,
    "event_id": str,
    "start": int,
    "is_device_type_selected_by_user": bool,
    "session_id": str,
    "view_id": str,
}
#: Attributes a create must carry: all the writable ones but the two optional ids.
CREATE_REQUIRED: Final = tuple(
    name for name in ATTRIBUTE_TYPES if name not in ("session_id", "view_id")
)
#: Read-only server fields: rejected in requests rather than silently ignored.
SERVER_FIELDS: Final = (
    "created_at",
    "modified_at",
    "created_by",
    "created_by_handle",
    "created_by_user_id",
    "org_id",
)
#: Every attribute of a stored snapshot, in the order of the API's items.
ITEM_ATTRIBUTES: Final = (*ATTRIBUTE_TYPES, *SERVER_FIELDS)
