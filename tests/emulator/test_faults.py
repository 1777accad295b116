"""Fault injection: seeded 5xx, latency, and writes committed but answered by a drop."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.emulator import EmulatorSettings, serve_in_thread
from support.emulatorkit import COLLECTION, KEYS, client_for, create_body, stored, update_body

pytestmark = pytest.mark.anyio


async def statuses_of_creates(settings: EmulatorSettings, count: int) -> list[int]:
    async with client_for(settings) as client:
        return [
            (await client.post(COLLECTION, json=create_body(start=i))).status_code
            for i in range(count)
        ]


async def test_fail_rate_is_reproducible_with_a_seed() -> None:
    first = await statuses_of_creates(EmulatorSettings(fail_rate=0.5, seed=11), 40)
    again = await statuses_of_creates(EmulatorSettings(fail_rate=0.5, seed=11), 40)
    other = await statuses_of_creates(EmulatorSettings(fail_rate=0.5, seed=12), 40)
    assert first == again
    assert first != other
    assert set(first) > {201}
    assert set(first) <= {201, 500, 502, 503, 504}


async def test_a_failed_request_does_not_touch_the_store() -> None:
    async with client_for(EmulatorSettings(fail_rate=1.0, seed=1)) as client:
        response = await client.post(COLLECTION, json=create_body())
        assert response.status_code in (500, 502, 503, 504)
        assert response.json()["errors"]
        assert "x-ratelimit-name" in response.headers
        assert (await stored(client)) == []
        stats = (await client.get("/_emulator/stats")).json()
        assert stats["committed"]["create"] == 0


async def test_latency_is_added(settings: EmulatorSettings) -> None:
    settings.latency_ms = 60
    async with client_for(settings) as client:
        started = time.perf_counter()
        await client.get(COLLECTION, params={"filter[view_name]": "/"})
        assert time.perf_counter() - started >= 0.05


async def test_drop_after_commit_in_process_is_a_502_after_the_commit() -> None:
    settings = EmulatorSettings(drop_after_commit_rate=1.0, seed=3)
    async with client_for(settings) as client:
        response = await client.post(COLLECTION, json=create_body())
        assert response.status_code == 502
        assert response.json() == {"errors": ["Bad Gateway"]}
        listed = await client.get(COLLECTION, params={"filter[view_name]": "/home"})
        [snapshot] = listed.json()["data"]  # committed: visible in the next list
        patched = await client.patch(f"{COLLECTION}/{snapshot['id']}", json=update_body())
        assert patched.status_code == 502
        deleted = await client.delete(f"{COLLECTION}/{snapshot['id']}")
        assert deleted.status_code == 502
        assert (await stored(client)) == []
        stats = (await client.get("/_emulator/stats")).json()
        assert stats["committed"] == {"create": 1, "update": 1, "delete": 1}
        assert stats["requests"]["create"] == {"502": 1}


async def test_drop_after_commit_never_hits_reads_or_rejected_writes() -> None:
    settings = EmulatorSettings(drop_after_commit_rate=1.0, seed=3)
    async with client_for(settings) as client:
        assert (await client.get(COLLECTION, params={"filter[view_name]": "/"})).status_code == 200
        assert (await client.post(COLLECTION, json={})).status_code == 400
        assert (await client.delete(f"{COLLECTION}/missing")).status_code == 404


def test_drop_after_commit_on_a_real_server_is_a_transport_error() -> None:
    settings = EmulatorSettings(drop_after_commit_rate=1.0, seed=3)
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, headers=KEYS) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(COLLECTION, json=create_body())
        listed = client.get(COLLECTION, params={"filter[view_name]": "/home"})
        [snapshot] = listed.json()["data"]  # the write was committed before the drop
        with pytest.raises(httpx.RemoteProtocolError):
            client.patch(f"{COLLECTION}/{snapshot['id']}", json=update_body())
        with pytest.raises(httpx.RemoteProtocolError):
            client.delete(f"{COLLECTION}/{snapshot['id']}")
        assert client.get("/_emulator/snapshots").json()["data"] == []
        stats = client.get("/_emulator/stats").json()
        assert stats["requests"]["create"] == {"dropped": 1}
        assert stats["committed"] == {"create": 1, "update": 1, "delete": 1}


def test_drop_style_status_answers_502_on_a_real_server() -> None:
    settings = EmulatorSettings(drop_after_commit_rate=1.0, drop_style="status")
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, headers=KEYS) as client:
        assert client.post(COLLECTION, json=create_body()).status_code == 502


async def test_drop_style_disconnect_in_process_raises_out_of_the_app() -> None:
    # Only a real server can turn this into a closed connection; in-process the transport
    # surfaces the app's exception, which is why "auto" answers 502 there.
    settings = EmulatorSettings(drop_after_commit_rate=1.0, drop_style="disconnect")
    async with client_for(settings) as client:
        with pytest.raises(Exception, match="connection dropped"):
            await client.post(COLLECTION, json=create_body())
