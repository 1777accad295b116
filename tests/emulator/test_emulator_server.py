"""serve_in_thread: a real uvicorn server on 127.0.0.1 that starts fast, answers fast and
shuts down cleanly."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from emulator.emulatorkit import COLLECTION, KEYS

from reconciler.emulator import serve_in_thread
from reconciler.emulator.server import bind


def test_serves_on_loopback_and_releases_the_port() -> None:
    with serve_in_thread() as url:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        response = httpx.get(f"{url}{COLLECTION}", params={"filter[view_name]": "/"}, headers=KEYS)
        assert response.status_code == 200
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


def test_small_responses_are_not_delayed_by_nagle() -> None:
    # With Nagle on, each response waits for the client's delayed ACK: ~40 ms per request.
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
    with serve_in_thread() as url, httpx.Client(base_url=url, headers=KEYS) as client:
        client.get("/_emulator/stats")
        started = time.perf_counter()
        for _ in range(20):
            client.get(COLLECTION, params={"filter[view_name]": "/"})
        assert time.perf_counter() - started < 0.5
