"""Listing lag: a write shows in listings only `list_lag_ms` after its commit; until then a
listing shows each snapshot as it was before its first unseen write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from reconciler.emulator.lag import ListingLag, lagged
from support.emulatorkit import COLLECTION, FakeClock, create, list_view, stored, update_body

pytestmark = pytest.mark.anyio


def item(snapshot_id: str, created_at: str, view: str = "/home", **attrs: Any) -> dict[str, Any]:
    return {
        "id": snapshot_id,
        "attributes": {"created_at": created_at, "view_name": view, **attrs},
    }


# ---- the record of writes ------------------------------------------------------------------


def test_the_earliest_write_after_the_cutoff_decides_what_is_shown() -> None:
    lag = ListingLag()
    before_patch = item("a", "t1", start=1)
    lag.record(10.0, "a", None)  # created
    lag.record(11.0, "a", before_patch)  # then patched
    lag.record(12.0, "b", item("b", "t0"))  # deleted
    assert lag.versions_at(9.0) == {"a": None, "b": item("b", "t0")}
    assert lag.versions_at(10.0) == {"a": before_patch, "b": item("b", "t0")}
    assert lag.versions_at(11.5) == {"b": item("b", "t0")}


def test_records_older_than_the_cutoff_are_forgotten() -> None:
    lag = ListingLag()
    for moment in (1.0, 2.0, 3.0):
        lag.record(moment, f"s{moment}", None)
    assert len(lag) == 3
    lag.versions_at(2.0)
    assert len(lag) == 1
    assert lag.versions_at(0.0) == {"s3.0": None}  # forgotten ones do not come back
    lag.reset()
    assert len(lag) == 0


def test_a_lagged_listing_swaps_versions_in_sorts_filters_and_cuts() -> None:
    current = [item("new", "2026-01-03"), item("kept", "2026-01-01"), item("patched", "2026-01-02")]
    shown = {
        "new": None,  # created after the cutoff: hidden
        "patched": item("patched", "2026-01-02", start=1),  # the old version
        "gone": item("gone", "2026-01-01"),  # deleted after the cutoff: still listed
        "elsewhere": item("elsewhere", "2026-01-00", view="/other"),
    }

    def on_home(version: dict[str, Any]) -> bool:
        return bool(version["attributes"]["view_name"] == "/home")

    listed = lagged(current, shown, on_home, limit=10)
    assert [entry["id"] for entry in listed] == ["gone", "kept", "patched"]  # created_at, id
    assert listed[2] == shown["patched"]
    assert [entry["id"] for entry in lagged(current, shown, on_home, limit=2)] == ["gone", "kept"]


# ---- through the list endpoint -------------------------------------------------------------


async def test_lag_hides_a_create_then_shows_it(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    settings.list_lag_ms = 1000
    created = await create(client)  # the creator gets its answer at once
    assert await list_view(client) == []
    assert await stored(client) == [created]  # the admin view is never lagged
    clock.advance(0.999)
    assert await list_view(client) == []
    clock.advance(0.002)
    assert await list_view(client) == [created]
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["faults"]["lagged_listings"] == 2


async def test_lag_keeps_a_deleted_one_and_the_old_version_of_a_patched_one(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    first, second = await create(client), await create(client, snapshot_name="two")
    settings.list_lag_ms = 500
    patch = update_body(event_id="e-new", start=9)
    patched = await client.patch(f"{COLLECTION}/{first['id']}", json=patch)
    assert patched.status_code == 200
    assert (await client.delete(f"{COLLECTION}/{second['id']}")).status_code == 204
    assert await list_view(client) == [first, second]  # as they were before the writes
    assert [s["id"] for s in await stored(client)] == [first["id"]]
    clock.advance(0.501)
    assert await list_view(client) == [patched.json()["data"]]


async def test_lag_shows_the_version_before_the_first_unseen_write(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    settings.list_lag_ms = 1000
    created = await create(client)
    patch = update_body(event_id="e-new", start=9)
    clock.advance(0.6)
    patched = await client.patch(f"{COLLECTION}/{created['id']}", json=patch)
    assert await list_view(client) == []  # the create itself is not visible yet
    clock.advance(0.5)
    assert await list_view(client) == [created]  # the create is, the patch not yet
    clock.advance(0.5)
    assert await list_view(client) == [patched.json()["data"]]


async def test_lag_respects_the_page_limit_and_filters(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    old = [await create(client, snapshot_name=f"old{i}") for i in range(3)]
    settings.list_lag_ms = 100
    for snapshot in old:
        await client.delete(f"{COLLECTION}/{snapshot['id']}")
    await create(client, view_name="/other")
    assert await list_view(client, **{"page[limit]": "2"}) == old[:2]
    assert await list_view(client, "/other") == []
    clock.advance(0.2)
    assert await list_view(client) == []
    assert len(await list_view(client, "/other")) == 1


async def test_writes_made_without_a_lag_are_not_recorded(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    created = await create(client)
    settings.list_lag_ms = 1000
    assert await list_view(client) == [created]  # written before the lag: listed at once
