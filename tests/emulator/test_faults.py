"""Fault injection: seeded 5xx, latency, and writes committed but answered by a drop."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorSettings, serve_in_thread
from reconciler.emulator.faults import SERVER_ERRORS, ConnectionDropped, DroppedResponse, Faults
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


# ---- the seeded stream of decisions --------------------------------------------------------


def test_a_fault_at_rate_zero_draws_nothing_so_others_keep_their_decisions() -> None:
    alone, beside = Faults(5), Faults(5)
    drops = []
    for _ in range(50):
        assert beside.server_error(0) is None
        assert beside.repeated_item(0, 10) is None
        assert beside.create_without_id(0) is None
        assert beside.concurrent_writer(0) is None
        drops.append(beside.drop_after_commit(0.5))
    assert drops == [alone.drop_after_commit(0.5) for _ in range(50)]
    assert set(drops) == {True, False}


def test_reseeding_replays_the_decisions() -> None:
    faults = Faults(8)
    first = [faults.server_error(0.5) for _ in range(30)]
    faults.reseed(8)
    assert [faults.server_error(0.5) for _ in range(30)] == first
    assert set(first) - {None} <= set(SERVER_ERRORS)
    assert None in first


def test_a_repeated_item_is_within_the_listing() -> None:
    faults = Faults(2)
    assert faults.repeated_item(1.0, 0) is None  # nothing to repeat
    seen = [faults.repeated_item(1.0, 3) for _ in range(200)]
    drawn = [repeat for repeat in seen if repeat is not None]
    assert len(drawn) == 200  # rate 1: every listing
    assert {index for index, _, _ in drawn} == {0, 1, 2}
    assert {position for _, position, _ in drawn} == {0, 1, 2, 3}
    assert {renamed for _, _, renamed in drawn} == {True, False}


async def test_a_dropped_answer_without_a_body_still_promises_one_byte() -> None:
    # A 204 cannot carry a body, so the truncation is shown on a 200 that promises one byte.
    sent: list[dict[str, object]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    dropped = DroppedResponse(204, {"x-ratelimit-name": "n"}, None)
    with pytest.raises(ConnectionDropped):
        await dropped({"type": "http"}, receive, send)
    [start] = sent  # the headers went out, the body never does
    assert start["status"] == 200
    raw_headers = start["headers"]
    assert isinstance(raw_headers, list)
    headers = dict(raw_headers)
    assert headers[b"content-length"] == b"1"
    assert headers[b"x-ratelimit-name"] == b"n"
    with_body = DroppedResponse(201, {}, {"data": {"id": "x"}})
    assert with_body.status_code == 201
    assert with_body.headers["content-length"] == str(len(b'{"data": {"id": "x"}}'))
