"""The client's connections (httpx's own transports, `transport.Exchange`) against servers of
the test's own on 127.0.0.1: keep-alive reuse, connections bounded by the in-flight
windows, servers that close, and TLS (verified; an untrusted certificate fails closed)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from reconciler.api.client import ApiClient
from reconciler.api.errors import Unavailable
from reconciler.api.inflight import MAX_IN_FLIGHT
from reconciler.api.listing import list_views
from reconciler.core.model import ViewScope
from reconciler.core.secrets import Credentials
from support.factories import APP

BODY = b'{"data": []}'


class Server:
    """HTTP/1.1 on asyncio streams: counts connections and requests, answers `{"data": []}`
    after `delay` seconds; `close_after` answers per connection, then closes it."""

    def __init__(
        self, delay: float = 0.0, close_after: int | None = None, silently: bool = False
    ) -> None:
        self.delay = delay
        self.close_after = close_after
        self.silently = silently  # close without saying `Connection: close`
        self.connections = 0
        self.requests = 0
        self.in_flight = 0
        self.peak = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                try:
                    await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.requests += 1
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                await asyncio.sleep(self.delay)
                self.in_flight -= 1
                answered += 1
                closing = self.close_after is not None and answered >= self.close_after
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(BODY)}\r\n"
                if closing and not self.silently:
                    head += "Connection: close\r\n"
                writer.write(head.encode() + b"\r\n" + BODY)
                await writer.drain()
                if closing:
                    return
        finally:
            writer.close()


def run(
    server: Server,
    go: Callable[[str], Awaitable[object]],
    tls: ssl.SSLContext | None = None,
) -> object:
    async def main() -> object:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
        port = listener.sockets[0].getsockname()[1]
        scheme = "https" if tls else "http"
        async with listener:
            return await go(f"{scheme}://127.0.0.1:{port}")

    return asyncio.run(main())


def scopes(count: int) -> list[ViewScope]:
    return [ViewScope(APP, f"/v{i:04d}") for i in range(count)]


def test_sequential_requests_share_one_connection() -> None:
    server = Server()

    async def go(url: str) -> None:
        async with ApiClient(url, Credentials("k", "k")) as client:
            for scope in scopes(20):
                assert await client.list_snapshots(scope.application_id, scope.view_name, 10) == []

    run(server, go)
    assert (server.requests, server.connections) == (20, 1)


def test_connections_stay_within_the_in_flight_windows() -> None:
    server = Server(delay=0.02)

    async def go(url: str) -> int:
        async with ApiClient(url, Credentials("k", "k")) as client:
            listing = await list_views(client, scopes(300), page_limit=10, parallelism=None)
            return len(listing.views)

    assert run(server, go) == 300
    assert server.peak <= MAX_IN_FLIGHT
    assert server.connections <= MAX_IN_FLIGHT


def test_a_server_that_closes_after_each_answer_costs_a_new_connection_not_an_error() -> None:
    server = Server(close_after=1)

    async def go(url: str) -> int:
        async with ApiClient(url, Credentials("k", "k")) as client:
            listing = await list_views(client, scopes(10), page_limit=10, parallelism=1)
            return len(listing.views)

    assert run(server, go) == 10
    assert (server.requests, server.connections) == (10, 10)


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    server = Server(close_after=1, silently=True)

    async def go(url: str) -> int:
        async with ApiClient(url, Credentials("k", "k")) as client:
            for scope in scopes(5):
                await client.list_snapshots(scope.application_id, scope.view_name, 10)
                await asyncio.sleep(0.05)  # the server's close arrives meanwhile
            return client.request_count

    assert run(server, go) == 5  # no attempt was lost on a dead connection
    assert (server.requests, server.connections) == (5, 5)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        ["openssl", "req", "-x509", *ec, "-keyout", str(key), "-out", str(cert), *subject],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def test_tls_with_a_trusted_certificate(certificate: tuple[Path, Path]) -> None:
    server = Server()
    trusting = ssl.create_default_context(cafile=str(certificate[0]))

    async def go(url: str) -> None:
        transport = httpx.AsyncHTTPTransport(verify=trusting)
        async with ApiClient(url, Credentials("k", "k"), transport=transport) as client:
            for scope in scopes(3):
                assert await client.list_snapshots(scope.application_id, scope.view_name, 10) == []

    run(server, go, tls=server_tls(certificate))
    assert (server.requests, server.connections) == (3, 1)


def test_tls_with_an_untrusted_certificate_fails_closed(certificate: tuple[Path, Path]) -> None:
    server = Server()

    async def go(url: str) -> None:
        async with ApiClient(url, Credentials("k", "k")) as client:  # the default: CA bundle
            with pytest.raises(Unavailable, match="certificate verify failed"):
                await client.list_snapshots(APP, "/v", 10)

    run(server, go, tls=server_tls(certificate))
    assert server.requests == 0


def test_the_environment_cannot_make_an_untrusted_certificate_trusted(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSL_CERT_FILE / SSL_CERT_DIR are not read: only the CA bundle decides."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.setenv("SSL_CERT_DIR", str(certificate[0].parent))
    server = Server()

    async def go(url: str) -> None:
        async with ApiClient(url, Credentials("k", "k")) as client:
            with pytest.raises(Unavailable, match="certificate verify failed"):
                await client.list_snapshots(APP, "/v", 10)

    run(server, go, tls=server_tls(certificate))
    assert server.requests == 0
