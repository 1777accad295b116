"""Every fact about the one resource kind we manage: Datadog RUM replay heatmap snapshots.

The engine (load, diff, plan, apply) asks this module for field names, paths and request
bodies instead of hard-coding them. It imports nothing of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

#: JSON:API `type` of the resource.
RESOURCE_TYPE: Final = "snapshots"

#: Collection path (list, create); items live under it by id (update, delete).
COLLECTION_PATH: Final = "/api/v2/replay/heatmap/snapshots"

#: The natural key, in sort order. PATCH does not accept these fields, so a change to any of
#: them is a different snapshot (delete + create).
KEY_FIELDS: Final = ("application_id", "view_name", "device_type", "snapshot_name")

#: Fields PATCH can change, in display order.
MUTABLE_FIELDS: Final = (
    "event_id",
    "start",
    "is_device_type_selected_by_user",
    "session_id",
    "view_id",
)

#: Mutable fields the API requires on create and update.
REQUIRED_MUTABLE_FIELDS: Final = ("event_id", "start", "is_device_type_selected_by_user")

#: Mutable fields that may be left out; left out of the YAML they are not managed.
OPTIONAL_MUTABLE_FIELDS: Final = ("session_id", "view_id")

#: Defaults applied to a desired snapshot when the YAML leaves the field out.
DEFAULTS: Final[Mapping[str, bool | int | str]] = {"is_device_type_selected_by_user": False}

#: When the server created and last modified a snapshot (date-time strings); the older of
#: two duplicates is the one created first.
TIMESTAMP_FIELDS: Final = ("created_at", "modified_at")

#: Read-only fields set by the server; never diffed.
SERVER_FIELDS: Final = (
    "id",
    *TIMESTAMP_FIELDS,
    "created_by",
    "created_by_handle",
    "created_by_user_id",
    "org_id",
)

#: Allowed `device_type` values.
DEVICE_TYPES: Final = ("desktop", "mobile", "tablet")

#: Python types of the mutable fields as the API returns them.
MUTABLE_FIELD_TYPES: Final[Mapping[str, type]] = {
    "event_id": str,
    "start": int,
    "is_device_type_selected_by_user": bool,
    "session_id": str,
    "view_id": str,
}

#: Query parameters of the list call.
FILTER_VIEW_NAME: Final = "filter[view_name]"
FILTER_APPLICATION_ID: Final = "filter[application_id]"
FILTER_DEVICE_TYPE: Final = "filter[device_type]"
PAGE_LIMIT: Final = "page[limit]"


#: Ids that are no path segment of their own: a URL's "." and ".." address the collection
#: and its parent (clients and servers remove them), so a write to them would hit those.
DOT_SEGMENTS = frozenset({".", ".."})


def item_path(snapshot_id: str) -> str:
    """Path of one snapshot (update, delete). The id is escaped: it comes from the server.
    The listing refuses a dot-segment id; escaped here too, so that no id ever addresses
    anything but one snapshot."""
    segment = quote(snapshot_id, safe="")
    if segment in DOT_SEGMENTS:
        segment = segment.replace(".", "%2E")
    return f"{COLLECTION_PATH}/{segment}"


def list_params(
    application_id: str, view_name: str, limit: int, *, device_type: str | None = None
) -> dict[str, str]:
    """Query of the list call made per managed (application, view), optionally narrowed
    to one device type."""
    params = {
        FILTER_VIEW_NAME: view_name,
        FILTER_APPLICATION_ID: application_id,
        PAGE_LIMIT: str(limit),
    }
    if device_type is not None:
        params[FILTER_DEVICE_TYPE] = device_type
    return params


def create_attributes(key_values: Mapping[str, str], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes of POST: the natural key plus the managed mutable fields."""
    attributes: dict[str, Any] = {name: key_values[name] for name in KEY_FIELDS}
    attributes.update({name: fields[name] for name in MUTABLE_FIELDS if name in fields})
    return attributes


def update_attributes(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes of PATCH: only mutable fields are accepted; the required ones always sent."""
    return {name: fields[name] for name in MUTABLE_FIELDS if name in fields}


def create_document(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Body of POST around its attributes (see `create_attributes`)."""
    return {"data": {"type": RESOURCE_TYPE, "attributes": dict(attributes)}}


def create_body(key_values: Mapping[str, str], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Body of POST."""
    return create_document(create_attributes(key_values, fields))


def update_body(snapshot_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Body of PATCH."""
    attributes = update_attributes(fields)
    return {"data": {"id": snapshot_id, "type": RESOURCE_TYPE, "attributes": attributes}}
