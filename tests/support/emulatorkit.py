"""Helpers of the emulator tests: valid bodies, a fake clock, small request wrappers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from reconciler.emulator import EmulatorSettings, create_app

KEYS = {"DD-API-KEY": "api-key", "DD-APPLICATION-KEY": "app-key"}
COLLECTION = "/api/v2/replay/heatmap/snapshots"
#: `GET /_emulator/config` of an emulator given no options (the seed aside): every default
#: is the plain behaviour.
PLAIN_CONFIG: dict[str, object] = {
    "fail_rate": 0.0,
    "latency_ms": 0.0,
    "drop_after_commit_rate": 0.0,
    "rate_limit": None,
    "rate_period": 1,
    "page_limit_default": 100,
    "page_limit_max": 1000,
    "page_cap_mode": "silent",
    "max_body_bytes": 1_048_576,
    "reject_page_limit_below_one": False,
    "reject_empty_view_filter": False,
    "reject_mismatched_patch_id": False,
    "list_lag_ms": 0.0,
    "sparse_items": [],
    "timestamp_precision": "fixed",
    "normalize_view_names": False,
    "error_style": "strings",
    "extra_attributes": False,
    "repeat_ids_rate": 0.0,
    "create_without_id_rate": 0.0,
    "concurrent_writer_rate": 0.0,
}


class FakeClock:
    """Stands in for time.monotonic in rate-limit windows."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def attributes(**overrides: Any) -> dict[str, Any]:
    """Valid create attributes."""
    base: dict[str, Any] = {
        "application_id": "aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb",
        "view_name": "/home",
        "device_type": "desktop",
        "snapshot_name": "Home hero",
        "event_id": "11111111-2222-3333-4444-555555555555",
        "start": 1500,
        "is_device_type_selected_by_user": False,
    }
    base.update(overrides)
    return base


def create_body(**overrides: Any) -> dict[str, Any]:
    return {"data": {"type": "snapshots", "attributes": attributes(**overrides)}}


def update_body(snapshot_id: str | None = None, **attrs: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "snapshots",
        "attributes": {
            "event_id": "e-2",
            "start": 2000,
            "is_device_type_selected_by_user": True,
            **attrs,
        },
    }
    if snapshot_id is not None:
        data["id"] = snapshot_id
    return {"data": data}


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post(COLLECTION, json=create_body(**overrides))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def list_view(client: httpx.AsyncClient, view: str = "/home", **params: Any) -> Any:
    response = await client.get(COLLECTION, params={"filter[view_name]": view, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def client_for(
    settings: EmulatorSettings | None = None, headers: Mapping[str, str] | None = KEYS
) -> httpx.AsyncClient:
    """A client of a new in-process emulator app (httpx.ASGITransport) sending `headers`:
    valid keys unless told otherwise (None: no keys)."""
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://e", headers=headers)


async def seed(client: httpx.AsyncClient, count: int, **overrides: object) -> list[dict[str, Any]]:
    """`count` snapshots s0, s1, ... through the admin endpoint (no keys, no faults)."""
    items = [attributes(snapshot_name=f"s{i}", **overrides) for i in range(count)]
    response = await client.post("/_emulator/snapshots", json={"data": items})
    assert response.status_code == 201
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def stored(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every stored snapshot, as the admin endpoint lists them."""
    data: list[dict[str, Any]] = (await client.get("/_emulator/snapshots")).json()["data"]
    return data
