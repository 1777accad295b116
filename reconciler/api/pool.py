"""Keep-alive HTTP/1.1 connections to the one origin a client talks to: an httpx transport
over httpcore's HTTP/1.1 connections (on `streams`, asyncio's own), without httpcore's
connection pool.

httpcore's pool re-examines every connection and every queued request on each request and
each response (`has_expired` on each, through anyio's `get_extra_info`, which rebuilds a
dict per call): its cost grows with the requests in flight. Here a request takes the most
recently used idle connection (checked once) or opens one, and hands it back when its
response is closed, so each request costs the same at 64 in flight as at 1 (bench/plan.py,
bench/plan_floor.py). Connections are bounded by the caller's in-flight windows
(`inflight.MAX_IN_FLIGHT` per bucket); at most `max_idle` are kept open. No HTTP/2, no
proxy (`trust_env` is never honoured), no retry of a failed connect (`retrying` decides).

Everything else is httpcore's and httpx's own: the HTTP/1.1 state machine (h11), read and
write timeouts (from the request's `timeout` extension), certificate verification (an
`httpx.create_ssl_context`), and the exception types (httpcore's mapped to httpx's, as
`httpx.AsyncHTTPTransport` does).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Final

import httpcore
import httpx

from reconciler.api.streams import AsyncioBackend

#: Idle connections kept open for reuse.
MAX_IDLE: Final = 64
#: Seconds an idle connection is kept (httpx's default).
KEEPALIVE_EXPIRY: Final = 5.0

# httpcore's errors and httpx's of the same name, most specific first: the first match is
# the one raised.
_MAPPED: Final[tuple[tuple[type[Exception], type[httpx.TransportError]], ...]] = tuple(
    (getattr(httpcore, name), getattr(httpx, name))
    for name in (
        "ConnectTimeout",
        "ReadTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "TimeoutException",
        "ConnectError",
        "ReadError",
        "WriteError",
        "NetworkError",
        "UnsupportedProtocol",
        "LocalProtocolError",
        "RemoteProtocolError",
        "ProtocolError",
    )
)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for source, target in _MAPPED:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class OriginPool(httpx.AsyncBaseTransport):
    """Keep-alive connections to one origin (scheme, host, port)."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        *,
        max_idle: int = MAX_IDLE,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._keepalive_expiry = keepalive_expiry
        self._idle: list[httpcore.AsyncHTTP11Connection] = []
        self._backend = AsyncioBackend()
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            connection = await self._checkout(core)
        try:
            with _httpx_errors():
                response = await connection.handle_async_request(core)
        except BaseException:
            await connection.aclose()
            raise
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response, connection, self),
            extensions=response.extensions,
        )

    async def _checkout(self, request: httpcore.Request) -> httpcore.AsyncHTTP11Connection:
        """The most recently used idle connection that is still open, or a new one."""
        origin = request.url.origin
        while self._idle:
            connection = self._idle.pop()
            usable = connection.can_handle_request(origin) and connection.is_idle()
            if usable and not connection.has_expired():
                return connection
            await connection.aclose()
        timeout = request.extensions.get("timeout", {}).get("connect")
        host = origin.host.decode("ascii")
        stream = await self._backend.connect_tcp(host, origin.port, timeout=timeout)
        if origin.scheme == b"https":
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context(trust_env=False)
            self._ssl_context.set_alpn_protocols(["http/1.1"])
            stream = await stream.start_tls(
                self._ssl_context, server_hostname=host, timeout=timeout
            )
        return httpcore.AsyncHTTP11Connection(origin, stream, self._keepalive_expiry)

    async def _checkin(self, connection: httpcore.AsyncHTTP11Connection) -> None:
        if not self._closed and connection.is_idle() and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            await connection.aclose()

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.aclose()


class _Body(httpx.AsyncByteStream):
    """A response body; closing it hands the connection back (or closes it when the
    response was not read to its end)."""

    def __init__(
        self,
        response: httpcore.Response,
        connection: httpcore.AsyncHTTP11Connection,
        pool: OriginPool,
    ) -> None:
        self._response = response
        self._connection: httpcore.AsyncHTTP11Connection | None = connection
        self._pool = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._response.aiter_stream():
                yield part

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            with _httpx_errors():
                await self._response.aclose()
        finally:
            await self._pool._checkin(connection)
