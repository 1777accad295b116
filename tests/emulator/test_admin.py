"""Admin endpoints under /_emulator/: no keys, no faults, not counted; reset, bulk seed and
the live configuration."""

from __future__ import annotations

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from reconciler.emulator.stats import FAULTS
from support.emulatorkit import (
    COLLECTION,
    PLAIN_CONFIG,
    attributes,
    client_for,
    create,
    list_view,
)

pytestmark = pytest.mark.anyio


async def test_admin_needs_no_keys_and_is_not_counted(settings: EmulatorSettings) -> None:
    settings.fail_rate = 1.0
    settings.rate_limit = 0
    async with client_for(settings, headers=None) as c:
        seeded = await c.post("/_emulator/snapshots", json={"data": [attributes()]})
        assert seeded.status_code == 201
        [data] = seeded.json()["data"]
        assert data["type"] == "snapshots"
        assert (await c.get("/_emulator/snapshots")).json() == {"data": [data]}
        stats = (await c.get("/_emulator/stats")).json()
        assert stats == {
            "requests": {},
            "committed": {"create": 0, "update": 0, "delete": 0},
            "total_requests": 0,
            "faults": dict.fromkeys(FAULTS, 0),
            "keys_sha256": {},
            "snapshots": 1,
        }


async def test_reset_clears_snapshots_counters_and_windows(client: httpx.AsyncClient) -> None:
    await client.post("/_emulator/config", json={"rate_limit": 1})
    await create(client)
    assert (await client.post(COLLECTION, json={})).status_code == 429
    response = await client.post("/_emulator/reset")
    assert response.status_code == 200
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["total_requests"] == 0
    assert stats["snapshots"] == 0
    await create(client)  # a fresh window


async def test_bulk_seed_quiet_and_validation(client: httpx.AsyncClient) -> None:
    items = [attributes(snapshot_name=f"s{i}") for i in range(5)]
    response = await client.post("/_emulator/snapshots?quiet=1", json={"data": items})
    assert response.json() == {"count": 5}
    names = [s["attributes"]["snapshot_name"] for s in await list_view(client)]
    assert names == [f"s{i}" for i in range(5)]
    bad = await client.post("/_emulator/snapshots", json={"data": [attributes(start="x")]})
    assert bad.status_code == 400
    assert bad.json()["errors"] == ["data[0]: attribute 'start' must be an integer"]
    bad = await client.post("/_emulator/snapshots", json={"data": {}})
    assert bad.status_code == 400
    bad = await client.post(
        "/_emulator/snapshots", json={"data": [attributes() | {"created_at": "yesterday"}]}
    )
    assert bad.status_code == 400


async def test_config_changes_and_reports_settings(client: httpx.AsyncClient) -> None:
    current = (await client.get("/_emulator/config")).json()
    assert current == {**PLAIN_CONFIG, "seed": 7}
    changed = await client.post(
        "/_emulator/config", json={"fail_rate": 0.25, "rate_limit": 5, "rate_period": 2}
    )
    assert changed.status_code == 200
    assert changed.json() == current | {"fail_rate": 0.25, "rate_limit": 5, "rate_period": 2}
    bad: list[object] = [
        {"fail_rate": 2},
        {"rate_period": 0},
        {"seed": 1},
        {"latency_ms": "1"},
        [],
        {"page_cap_mode": "loud"},
        {"sparse_items": ["start", "colour"]},
        {"sparse_items": "start"},
        {"normalize_view_names": 1},
        {"page_limit_max": True},
        {"repeat_ids_rate": 1.5},
        {"accepted_keys": [["a", "b"]]},
    ]
    for body in bad:
        response = await client.post("/_emulator/config", json=body)
        assert response.status_code == 400, body
        assert response.json()["errors"]
