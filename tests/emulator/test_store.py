"""SQLite persistence of snapshots: what a row answers, strictly increasing timestamps (list
order is creation order), indexed listings, seeding in one transaction, and a file database
that survives a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorSettings, serve_in_thread
from reconciler.emulator.store import Owner, SnapshotStore, format_timestamp, list_query
from support.emulatorkit import COLLECTION, KEYS, attributes, client_for, create, list_view

pytestmark = pytest.mark.anyio

APP_ID = attributes()["application_id"]
OWNER = Owner("Someone", "someone@example.com", 5, 6)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (1_700_000_000_999, "2023-11-14T22:13:20.999Z"),
    ],
)
def test_timestamps_are_utc_with_milliseconds_and_z(ms: int, text: str) -> None:
    assert format_timestamp(ms) == text


def test_a_stored_snapshot_answers_every_attribute_and_omits_unset_optional_ones() -> None:
    store = SnapshotStore()
    created = store.create(attributes(), OWNER, 1000)
    assert created == {
        "id": created["id"],
        "type": "snapshots",
        "attributes": attributes()
        | {
            "created_at": "1970-01-01T00:00:01.000Z",
            "modified_at": "1970-01-01T00:00:01.000Z",
            "created_by": "Someone",
            "created_by_handle": "someone@example.com",
            "created_by_user_id": 5,
            "org_id": 6,
        },
    }
    assert store.get(created["id"]) == created
    assert store.get("missing") is None


def test_timestamps_increase_strictly_even_within_one_millisecond() -> None:
    store = SnapshotStore()
    first = store.create(attributes(), OWNER, 5000)
    second = store.create(attributes(), OWNER, 5000)
    earlier_clock = store.create(attributes(), OWNER, 10)  # a wall clock that went back
    stamps = [s["attributes"]["created_at"] for s in (first, second, earlier_clock)]
    assert stamps == [
        "1970-01-01T00:00:05.000Z",
        "1970-01-01T00:00:05.001Z",
        "1970-01-01T00:00:05.002Z",
    ]
    assert [s["id"] for s in store.all()] == [first["id"], second["id"], earlier_clock["id"]]
    patched = store.update(first["id"], {"start": 1}, 5000)
    assert patched is not None
    assert patched["attributes"]["modified_at"] == "1970-01-01T00:00:05.003Z"
    assert patched["attributes"]["created_at"] == "1970-01-01T00:00:05.000Z"


def test_an_update_sets_only_what_it_is_given() -> None:
    store = SnapshotStore()
    created = store.create(attributes(session_id="s-1", view_id="v-1"), OWNER, 1000)
    patched = store.update(created["id"], {"is_device_type_selected_by_user": True}, 2000)
    assert patched is not None
    changed = {k: v for k, v in patched["attributes"].items() if created["attributes"][k] != v}
    assert changed == {
        "is_device_type_selected_by_user": True,
        "modified_at": patched["attributes"]["modified_at"],
    }
    assert store.update("missing", {"start": 1}, 3000) is None


def test_delete_says_whether_there_was_one_to_delete() -> None:
    store = SnapshotStore()
    created = store.create(attributes(), OWNER, 1000)
    assert store.delete(created["id"]) is True
    assert store.delete(created["id"]) is False
    assert store.count() == 0


def test_a_seed_is_one_transaction() -> None:
    store = SnapshotStore()
    good = (attributes(snapshot_name="good"), None, None)
    too_big = (attributes(start=2**64), None, None)  # SQLite cannot hold it
    with pytest.raises(OverflowError):
        store.seed([good, too_big], OWNER, 1000)
    assert store.count() == 0
    seeded = store.seed([good], OWNER, 1000)
    assert store.all() == seeded


def test_seeded_times_are_kept_and_later_writes_come_after_them() -> None:
    store = SnapshotStore()
    [old] = store.seed([(attributes(), 7000, None)], OWNER, 1000)
    assert old["attributes"]["created_at"] == old["attributes"]["modified_at"]
    assert old["attributes"]["created_at"] == "1970-01-01T00:00:07.000Z"
    [edited] = store.seed([(attributes(), 2000, 9000)], OWNER, 1000)
    assert edited["attributes"]["modified_at"] == "1970-01-01T00:00:09.000Z"
    new = store.create(attributes(), OWNER, 1000)
    assert new["attributes"]["created_at"] == "1970-01-01T00:00:09.001Z"


def test_clear_empties_the_store_and_restarts_its_clock() -> None:
    store = SnapshotStore()
    store.create(attributes(), OWNER, 9000)
    store.clear()
    assert store.all() == []
    assert store.create(attributes(), OWNER, 10)["attributes"]["created_at"] == (
        "1970-01-01T00:00:00.010Z"
    )


def test_a_listing_filters_exactly_and_stops_at_its_limit() -> None:
    store = SnapshotStore()
    rows = [
        store.create(attributes(application_id=app, device_type=device), OWNER, 1000)
        for app in ("a", "b")
        for device in ("desktop", "mobile")
    ]
    store.create(attributes(view_name="/other", application_id="a"), OWNER, 1000)
    assert store.query("/home", None, None, 10) == rows
    assert store.query("/home", "a", None, 10) == rows[:2]
    assert store.query("/home", None, "mobile", 10) == [rows[1], rows[3]]
    assert store.query("/home", "b", "desktop", 10) == [rows[2]]
    assert store.query("/home", None, None, 3) == rows[:3]
    assert store.query("/HOME", None, None, 10) == []


def test_a_listing_query_binds_every_value_as_a_parameter() -> None:
    sql, params = list_query("/v'; DROP TABLE snapshots; --", "app", "desktop", 5)
    assert params == ["/v'; DROP TABLE snapshots; --", "app", "desktop", 5]
    assert "DROP" not in sql
    assert sql.endswith(
        "WHERE view_name = ? AND application_id = ? AND device_type = ? "
        "ORDER BY created_at, id LIMIT ?"
    )


async def test_created_at_order_survives_explicit_seed_times(client: httpx.AsyncClient) -> None:
    newer = attributes(snapshot_name="newer") | {"created_at": "2026-01-02T00:00:00Z"}
    older = attributes(snapshot_name="older") | {"created_at": "2026-01-01T00:00:00.5+00:00"}
    await client.post("/_emulator/snapshots", json={"data": [newer, older]})
    listed = await list_view(client)
    assert [s["attributes"]["snapshot_name"] for s in listed] == ["older", "newer"]
    assert listed[0]["attributes"]["created_at"] == "2026-01-01T00:00:00.500Z"
    assert listed[0]["attributes"]["modified_at"] == "2026-01-01T00:00:00.500Z"


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


def test_a_reopened_file_database_keeps_its_clock(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.sqlite3")
    store = SnapshotStore(db)
    first = store.create(attributes(), OWNER, 10_000)
    store.close()
    store = SnapshotStore(db)
    assert store.all() == [first]
    later = store.create(attributes(), OWNER, 1)
    assert later["attributes"]["created_at"] == "1970-01-01T00:00:10.001Z"
    store.close()


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
