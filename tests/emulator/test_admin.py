"""Admin endpoints under /_emulator/ and persistence across a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorSettings, serve_in_thread
from reconciler.emulator.stats import FAULTS
from reconciler.emulator.store import list_query
from support.emulatorkit import (
    COLLECTION,
    KEYS,
    PLAIN_CONFIG,
    attributes,
    client_for,
    create,
    list_view,
)

APP_ID = attributes()["application_id"]

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


async def test_stats_count_requests_by_operation_and_status(client: httpx.AsyncClient) -> None:
    created = await create(client)
    await list_view(client)
    await client.get(COLLECTION)
    await client.delete(f"{COLLECTION}/{created['id']}")
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["requests"] == {
        "create": {"201": 1},
        "delete": {"204": 1},
        "list": {"200": 1, "400": 1},
    }
    assert stats["committed"] == {"create": 1, "update": 0, "delete": 1}
    assert stats["total_requests"] == 4


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


async def test_large_listing_is_one_indexed_query_in_creation_order(tmp_path: Path) -> None:
    # 10,000 snapshots over 10 views; one view of 1,000 lists exactly its own, in creation
    # order, with the index (no full scan, no sort): what keeps big listings fast. Timing
    # figures belong in bench/.
    items = [
        attributes(view_name=f"/v{i % 10}", snapshot_name=f"s{i}", start=i) for i in range(10_000)
    ]
    db = str(tmp_path / "emulator.sqlite3")
    async with client_for(EmulatorSettings(db_path=db)) as c:
        await c.post("/_emulator/snapshots?quiet=1", json={"data": items})
        listed = await list_view(c, "/v3", **{"page[limit]": "1000"})
    assert [s["attributes"]["start"] for s in listed] == list(range(3, 10_000, 10))
    assert {s["attributes"]["view_name"] for s in listed} == {"/v3"}
    for application_id in (APP_ID, None):
        sql, params = list_query("/v3", application_id, None, 1000)
        with sqlite3.connect(db) as connection:
            plan = " ".join(
                str(row) for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            )
        assert "USING INDEX snapshots_by_view" in plan, plan
        if application_id is not None:  # the engine always filters on it: no sort step
            assert "TEMP B-TREE" not in plan, plan


async def test_file_database_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.sqlite3")
    async with client_for(EmulatorSettings(db_path=db)) as c:
        first = await create(c, session_id="s")
        second = await create(c)
        await c.delete(f"{COLLECTION}/{second['id']}")
    async with client_for(EmulatorSettings(db_path=db)) as c:
        assert await list_view(c) == [first]
        third = await create(c)
        assert third["attributes"]["created_at"] > first["attributes"]["created_at"]


def test_file_database_survives_a_real_server_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.sqlite3")
    params = {"filter[view_name]": "/home"}
    with serve_in_thread(EmulatorSettings(db_path=db)) as url:
        created = httpx.post(
            f"{url}{COLLECTION}",
            json={"data": {"type": "snapshots", "attributes": attributes()}},
            headers=KEYS,
        )
        assert created.status_code == 201
    with serve_in_thread(EmulatorSettings(db_path=db)) as url:
        listed = httpx.get(f"{url}{COLLECTION}", params=params, headers=KEYS)
        assert listed.json()["data"] == [created.json()["data"]]
