"""serve_in_thread: a real uvicorn server on 127.0.0.1 that starts fast, answers fast and
shuts down cleanly; its socket and its quiet log."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest
from starlette.requests import ClientDisconnect

from reconciler.emulator import serve_in_thread
from reconciler.emulator.faults import ConnectionDropped
from reconciler.emulator.server import bind, build_server, url_of
from support.emulatorkit import COLLECTION, KEYS


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


def test_accepted_connections_disable_nagle() -> None:
    # With Nagle on, each small response waits for the client's delayed ACK (~40 ms per
    # request). asyncio sets TCP_NODELAY on accepted sockets only when the listening socket
    # says IPPROTO_TCP; uvicorn serves our socket through loop.create_server(sock=...), so
    # check that an accepted connection of such a socket has TCP_NODELAY (no timing).
    nodelay: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            nodelay.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def serve_once() -> None:
        sock = bind("127.0.0.1", 0)
        assert sock.proto == socket.IPPROTO_TCP
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        async with server:
            host, port = sock.getsockname()[:2]
            _, writer = await asyncio.open_connection(host, port)
            while not nodelay:
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(asyncio.wait_for(serve_once(), timeout=30))
    assert nodelay
    assert nodelay[0] != 0


def test_a_port_in_use_is_refused_at_bind() -> None:
    taken = bind("127.0.0.1", 0)
    try:
        host, port = taken.getsockname()[:2]
        assert url_of(taken) == f"http://127.0.0.1:{port}"
        with pytest.raises(OSError, match="Address already in use"):
            bind(host, port)
    finally:
        taken.close()


def test_an_emulated_drop_or_a_departed_client_is_not_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    build_server(None, log_config=False)
    logger = logging.getLogger("uvicorn.error")
    bug = ValueError("a real bug")
    for error in (ConnectionDropped("emulated"), ClientDisconnect(), bug):
        try:
            raise error
        except Exception:
            logger.exception("Exception in ASGI application")
    assert [record.exc_info[1] for record in caplog.records if record.exc_info] == [bug]


def test_an_ipv6_address_is_bound_and_bracketed_in_the_url() -> None:
    sock = bind("::1", 0)
    try:
        assert (sock.family, url_of(sock)) == (
            socket.AF_INET6,
            f"http://[::1]:{sock.getsockname()[1]}",
        )
    finally:
        sock.close()
