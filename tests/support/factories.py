"""Small builders of value types for the pure engine tests."""

from __future__ import annotations

from reconciler.core.model import (
    DesiredSnapshot,
    DesiredState,
    FieldValue,
    ManagedView,
    RemoteSnapshot,
    SnapshotKey,
    SourcePosition,
    ViewScope,
)

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
APP2 = "0c7f7c52-9d37-4a6a-8b1e-2f0a4f3c5d10"


def key_attributes(
    name: str, view: str = "/checkout", device: str = "desktop", app: str = APP
) -> dict[str, str]:
    """The key of a snapshot as the API's attributes name it (the tests' own statement)."""
    return {"application_id": app, "view_name": view, "device_type": device, "snapshot_name": name}


def create_body(name: str, **values: object) -> dict[str, object]:
    """The exact body of the create request of snapshot `name` (/checkout, desktop)."""
    return {"data": {"type": "snapshots", "attributes": {**key_attributes(name), **values}}}


def key(name: str, view: str = "/checkout", device: str = "desktop", app: str = APP) -> SnapshotKey:
    return SnapshotKey(app, view, device, name)


def fields(
    event_id: str = "evt-1", start: int = 1500, selected: bool = False, **optional: FieldValue
) -> dict[str, FieldValue]:
    return {
        "event_id": event_id,
        "start": start,
        "is_device_type_selected_by_user": selected,
        **optional,
    }


def want(k: SnapshotKey, line: int = 1, **kwargs: FieldValue) -> DesiredSnapshot:
    return DesiredSnapshot(k, fields(**kwargs), SourcePosition("snapshots/a.yaml", line, 7))  # type: ignore[arg-type]


def have(
    k: SnapshotKey,
    snapshot_id: str,
    created_at: str = "2026-01-01T00:00:00.000Z",
    **kwargs: FieldValue,
) -> RemoteSnapshot:
    values = fields(**kwargs)  # type: ignore[arg-type]
    attributes = {**k.as_dict(), **values, "created_at": created_at}
    return RemoteSnapshot(snapshot_id, k, values, created_at, attributes)


def state(*snapshots: DesiredSnapshot, views: tuple[ViewScope, ...] = ()) -> DesiredState:
    scopes = sorted({s.key.scope for s in snapshots} | set(views))
    managed = tuple(
        ManagedView(scope, SourcePosition("snapshots/a.yaml", 1, 1)) for scope in scopes
    )
    return DesiredState(managed, tuple(snapshots))
