"""Faults of the world around the API, each alone: a listing that holds an id twice, a
committed create answered without its id, another writer creating the same snapshot.
Seeded, counted in /_emulator/stats, never applied to the admin endpoints."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from support.emulatorkit import (
    COLLECTION,
    attributes,
    client_for,
    create,
    create_body,
    list_view,
)

pytestmark = pytest.mark.anyio


async def faults(client: httpx.AsyncClient) -> dict[str, int]:
    counted: dict[str, int] = (await client.get("/_emulator/stats")).json()["faults"]
    return counted


async def stored(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await client.get("/_emulator/snapshots")).json()["data"]
    return data


async def seed(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    items = [attributes(snapshot_name=f"s{i}", start=i) for i in range(count)]
    data: list[dict[str, Any]] = (
        await client.post("/_emulator/snapshots", json={"data": items})
    ).json()["data"]
    return data


async def test_repeated_ids_same_or_renamed_and_counted() -> None:
    async with client_for(EmulatorSettings(repeat_ids_rate=1.0, seed=3)) as client:
        seeded = await seed(client, 4)
        by_id = {s["id"]: s for s in seeded}
        kinds: Counter[str] = Counter()
        for _ in range(30):
            listed = await list_view(client)
            assert len(listed) == 5
            [(twice, count)] = [
                (i, n) for i, n in Counter(s["id"] for s in listed).items() if n > 1
            ]
            assert count == 2
            copies = [s for s in listed if s["id"] == twice]
            assert by_id[twice] in copies  # one of them is the real one
            other = copies[1] if copies[0] == by_id[twice] else copies[0]
            if other == by_id[twice]:
                kinds["same"] += 1
            else:
                name = by_id[twice]["attributes"]["snapshot_name"]
                assert other["attributes"] == by_id[twice]["attributes"] | {
                    "snapshot_name": f"{name} (copy)"
                }
                kinds["renamed"] += 1
            assert {s["id"] for s in listed} == set(by_id)
        assert kinds["same"] > 0
        assert kinds["renamed"] > 0
        counted = await faults(client)
        assert counted["repeated_ids_same"] == kinds["same"]
        assert counted["repeated_ids_renamed"] == kinds["renamed"]
        assert await stored(client) == seeded  # the store holds each once
        # Never more than page[limit] items, and still one id twice (the last other item
        # gives way); an empty listing has nothing to repeat.
        for _ in range(10):
            full = await list_view(client, **{"page[limit]": "4"})
            assert len(full) == 4
            assert len({s["id"] for s in full}) == 3
        assert await list_view(client, "/empty") == []


async def test_creates_without_id_are_committed_and_counted() -> None:
    async with client_for(EmulatorSettings(create_without_id_rate=1.0, seed=5)) as client:
        shapes: Counter[str] = Counter()
        for i in range(20):
            response = await client.post(COLLECTION, json=create_body(start=i))
            assert response.status_code == 201
            if response.content == b"":
                shapes["empty"] += 1
                continue
            data = response.json()["data"]
            assert "id" not in data
            assert data["type"] == "snapshots"
            assert data["attributes"]["start"] == i
            shapes["no_id"] += 1
        assert shapes["empty"] > 0
        assert shapes["no_id"] > 0
        assert sorted(s["attributes"]["start"] for s in await stored(client)) == list(range(20))
        counted = await faults(client)
        assert counted["creates_empty_body"] == shapes["empty"]
        assert counted["creates_without_id"] == shapes["no_id"]
        stats = (await client.get("/_emulator/stats")).json()
        assert stats["committed"]["create"] == 20
        # Patches and deletes are not affected.
        some = (await stored(client))[0]["id"]
        assert (await client.delete(f"{COLLECTION}/{some}")).status_code == 204


async def test_a_concurrent_writer_commits_the_same_snapshot_with_its_own_id() -> None:
    async with client_for(EmulatorSettings(concurrent_writer_rate=1.0, seed=9)) as client:
        order: Counter[str] = Counter()
        for i in range(12):
            ours = await create(client, start=i)
            copies = [s for s in await stored(client) if s["attributes"]["start"] == i]
            assert len(copies) == 2
            theirs = next(s for s in copies if s["id"] != ours["id"])
            strip = ("created_at", "modified_at")
            assert {k: v for k, v in theirs["attributes"].items() if k not in strip} == {
                k: v for k, v in ours["attributes"].items() if k not in strip
            }
            order["theirs first" if copies[0] is theirs else "ours first"] += 1
        assert order["theirs first"] > 0
        assert order["ours first"] > 0
        counted = await faults(client)
        assert counted["concurrent_writes"] == 12
        stats = (await client.get("/_emulator/stats")).json()
        assert stats["committed"]["create"] == 12
        assert stats["snapshots"] == 24


async def run_mixed(seed_value: int) -> list[Any]:
    settings = EmulatorSettings(
        repeat_ids_rate=0.5, create_without_id_rate=0.5, concurrent_writer_rate=0.5, seed=seed_value
    )
    seen: list[Any] = []
    async with client_for(settings) as client:
        for i in range(10):
            response = await client.post(COLLECTION, json=create_body(start=i))
            seen.append(response.content != b"" and "id" in response.json()["data"])
            seen.append([s["attributes"]["start"] for s in await list_view(client)])
        seen.append(await faults(client))
    return seen


async def test_world_faults_are_reproducible_with_a_seed() -> None:
    first, again, other = await run_mixed(21), await run_mixed(21), await run_mixed(22)
    assert first == again
    assert first != other
    assert all(first[-1][name] > 0 for name in ("concurrent_writes", "creates_without_id"))


async def test_admin_endpoints_are_never_faulted_or_lagged() -> None:
    settings = EmulatorSettings(
        repeat_ids_rate=1.0,
        create_without_id_rate=1.0,
        concurrent_writer_rate=1.0,
        list_lag_ms=60_000,
        sparse_items=("start",),
        seed=1,
    )
    async with client_for(settings) as client:
        seeded = await seed(client, 3)
        assert await stored(client) == seeded  # each once, with every attribute, at once
        response = await client.post("/_emulator/snapshots", json={"data": [attributes()]})
        assert "id" in response.json()["data"][0]
        assert (await client.get("/_emulator/stats")).json()["snapshots"] == 4
        assert await faults(client) == dict.fromkeys(await faults(client), 0)
