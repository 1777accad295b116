"""Every realism option and world fault at once, across seeds: what the emulator answers
may be late, sparse, repeated or without ids, but it never invents, loses or duplicates a
write of its own, and the admin view always shows the truth."""

from __future__ import annotations

import random
from typing import Any

import pytest

from reconciler.emulator import EmulatorSettings
from support.emulatorkit import COLLECTION, FakeClock, client_for, create_body, stored, update_body

pytestmark = pytest.mark.anyio

VIEWS = ("/a", "/B/", "/c")


async def run_seed(seed: int) -> None:
    clock = FakeClock()
    settings = EmulatorSettings(
        clock=clock,
        seed=seed,
        page_limit_max=8,
        page_cap_mode="reject" if seed % 2 else "silent",
        list_lag_ms=300,
        sparse_items=("start",),
        timestamp_precision="variable",
        normalize_view_names=bool(seed % 3),
        error_style="objects",
        extra_attributes=True,
        repeat_ids_rate=0.3,
        create_without_id_rate=0.3,
        concurrent_writer_rate=0.2,
    )
    rng = random.Random(seed)
    async with client_for(settings) as c:
        deleted: set[str] = set()
        for step in range(60):
            clock.advance(rng.choice((0.0, 0.1, 0.4)))
            view = rng.choice(VIEWS)
            listed = await stored(c)
            action = rng.random()
            if action < 0.4:
                response = await c.post(COLLECTION, json=create_body(view_name=view, start=step))
                assert response.status_code == 201
            elif action < 0.55 and listed:
                target = rng.choice(listed)["id"]
                response = await c.patch(f"{COLLECTION}/{target}", json=update_body(start=step))
                assert response.status_code == 200
            elif action < 0.7 and listed:
                target = rng.choice(listed)["id"]
                assert (await c.delete(f"{COLLECTION}/{target}")).status_code == 204
                deleted.add(target)
            else:
                limit = rng.choice((3, 8, 9))
                params = {"filter[view_name]": view, "page[limit]": str(limit)}
                before = await stored(c)
                head = await c.head(COLLECTION, params=params)
                response = await c.get(COLLECTION, params=params)
                assert (await stored(c)) == before
                if limit > 8 and settings.page_cap_mode == "reject":
                    assert response.status_code == head.status_code == 400
                    assert response.json()["errors"][0]["detail"] == "page[limit] must be <= 8"
                    continue
                assert response.status_code == head.status_code == 200
                items = response.json()["data"]
                assert len(items) <= min(limit, 8)
                known = {s["id"] for s in before} | deleted
                assert {item["id"] for item in items} <= known  # nothing invented
                assert all("start" not in item["attributes"] for item in items)
        stats: dict[str, Any] = (await c.get("/_emulator/stats")).json()
        committed, faults = stats["committed"], stats["faults"]
        stored_now = await stored(c)
        # Every create committed once (plus the other writer's), every delete removed one.
        expected = committed["create"] + faults["concurrent_writes"] - committed["delete"]
        assert len(stored_now) == stats["snapshots"] == expected
        assert all("start" in s["attributes"] for s in stored_now)  # the admin sees it all
        assert len({s["id"] for s in stored_now}) == len(stored_now)
        assert faults["lagged_listings"] > 0, faults
        assert faults["creates_without_id"] + faults["creates_empty_body"] > 0, faults
        assert faults["repeated_ids_same"] + faults["repeated_ids_renamed"] > 0, faults


@pytest.mark.parametrize("seed", range(6))
async def test_every_option_at_once_keeps_the_store_honest(seed: int) -> None:
    await run_seed(seed)
