"""The counters of GET /_emulator/stats: requests by operation and status, committed writes,
injected faults (always all present), and digests of the keys received, never the keys."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from reconciler.emulator.stats import FAULTS, Stats, key_digest
from support.emulatorkit import COLLECTION, KEYS, client_for, create, list_view

pytestmark = pytest.mark.anyio


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


async def test_keys_received_are_counted_by_digest_only() -> None:
    async with client_for(headers=None) as c:
        params = {"filter[view_name]": "/"}
        await c.get(COLLECTION, params=params, headers=KEYS)
        await c.get(COLLECTION, params=params, headers=KEYS)
        await c.get(
            COLLECTION, params=params, headers={"DD-API-KEY": "other-api", "DD-APPLICATION-KEY": ""}
        )
        response = await c.get("/_emulator/stats")
    assert response.json()["keys_sha256"] == {
        key_digest(KEYS["DD-API-KEY"]): 2,
        key_digest(KEYS["DD-APPLICATION-KEY"]): 2,
        key_digest("other-api"): 1,
    }
    for key in (*KEYS.values(), "other-api"):
        assert key not in response.text


def test_a_key_digest_is_the_hex_sha256_of_the_key() -> None:
    assert key_digest("abc") == hashlib.sha256(b"abc").hexdigest()
    assert key_digest("abc") == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_every_fault_counter_is_reported_even_at_zero() -> None:
    stats = Stats()
    stats.fault("lagged_listings")
    stats.fault("lagged_listings")
    assert stats.as_json()["faults"] == dict.fromkeys(FAULTS, 0) | {"lagged_listings": 2}
    with pytest.raises(AssertionError):
        stats.fault("not_a_fault")


def test_reset_forgets_every_count() -> None:
    stats = Stats()
    stats.request("create", 201)
    stats.request("create", "dropped")
    stats.committed("create")
    stats.keys("some-key")
    stats.fault("server_errors")
    assert stats.as_json()["requests"] == {"create": {"201": 1, "dropped": 1}}
    stats.reset()
    assert stats.as_json() == {
        "requests": {},
        "committed": {"create": 0, "update": 0, "delete": 0},
        "total_requests": 0,
        "faults": dict.fromkeys(FAULTS, 0),
        "keys_sha256": {},
    }
