"""One HTTP exchange, bounded: time, body size across every content-encoding layer, and
transport failures turned into an `Outcome` instead of an exception.

Keys travel only in the DD-API-KEY / DD-APPLICATION-KEY headers, only to the configured
host: redirects are never followed, the environment's proxies and `.netrc` are ignored, no
cookie is ever stored or sent, and nothing here logs or formats a header.

Bounds a hostile server cannot stretch:
- one attempt, end to end, is cut at `Timeouts.total` or at the time the caller has left,
  whichever is first: a body dripped a byte at a time, or a flood of `100 Continue`
  (httpcore reads informational responses in a loop until the final one), ends there;
- headers: httpcore/h11 refuse a header block over 100 KiB;
- the body: at most `max_body_bytes` raw and `max_body_bytes` decoded. Content-encoding
  layers (`gzip, gzip`...) are undone here, while streaming, in pieces of 64 KiB, and the
  decoded size is counted as it is produced, so a compression bomb stops at the cap
  instead of inflating in memory first.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from reconciler.api.responses import truncate

#: Largest response body read (raw, and again decoded).
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
#: Most content-encoding layers undone; more is not a real server.
MAX_ENCODINGS: Final = 3
#: What we ask for, so that we know how to undo it (no brotli or zstd).
ACCEPT_ENCODING: Final = "gzip, deflate"
#: Requests one httpx transport carries at once before the next one is used (`Exchange`).
PER_TRANSPORT: Final = 4
#: Largest piece a decoder produces at once.
_PIECE: Final = 64 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Time bounds, in seconds (None: no bound).

    `connect`, `read`, `write`, `pool` are httpx's own (each per network operation).
    `total` bounds one attempt end to end. `operation` bounds one API operation end to end:
    every attempt and every wait of its retries counts against it. The run's deadline
    (`Runtime.deadline`) cuts both.
    """

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 30.0
    total: float | None = 60.0
    operation: float | None = 300.0


@dataclass(frozen=True)
class Outcome:
    """One attempt: a response (status, headers, body) or a transport failure."""

    status: int | None
    headers: Mapping[str, str]
    body: bytes
    failure: str | None = None  # error kind when no usable response
    sent: bool = True  # False: the request certainly never reached the server
    timed_out: bool = False  # cut by the time limit given to `Exchange.send`


class _Unreadable(Exception):
    """A body we will not read: too large, or in an encoding we cannot undo."""


class BodyDecoder:
    """Undoes `Content-Encoding` layers while streaming; output counted as it is produced."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        names = [name.strip().lower() for name in content_encoding.split(",")]
        names = [name for name in names if name and name != "identity"]
        if len(names) > MAX_ENCODINGS:
            raise _Unreadable(f"{len(names)} content-encoding layers (at most {MAX_ENCODINGS})")
        for name in names:
            if name not in ("gzip", "x-gzip", "deflate"):
                raise _Unreadable(f"unsupported Content-Encoding {truncate(name, 40)!r}")
        # The last encoding applied is undone first. MAX_WBITS | 32: gzip or zlib header.
        self._layers = [zlib.decompressobj(zlib.MAX_WBITS | 32) for _ in names]
        self._limit = limit
        self._raw = 0
        self.size = 0
        self._chunks: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self._raw += len(data)
        if self._raw > self._limit:
            raise _Unreadable(_too_large(self._limit))
        self._push(0, data)

    def body(self) -> bytes:
        return b"".join(self._chunks)

    def _push(self, index: int, data: bytes) -> None:
        if index == len(self._layers):
            self.size += len(data)
            if self.size > self._limit:
                raise _Unreadable(_too_large(self._limit))
            self._chunks.append(data)
            return
        layer = self._layers[index]
        while not layer.eof:  # bytes after the end of a stream are ignored
            try:
                out = layer.decompress(data, _PIECE)
            except zlib.error:
                raise _Unreadable("response body is not valid gzip/deflate") from None
            rest = layer.unconsumed_tail
            if out:
                self._push(index + 1, out)
            if not rest and len(out) < _PIECE:
                return
            if not out and rest == data:
                raise _Unreadable("response body is not valid gzip/deflate")
            data = rest


def _too_large(limit: int) -> str:
    return f"response body larger than {limit / (1024 * 1024):g} MiB; not read"


def unreadable_outcome(status: int, headers: Mapping[str, str], message: str) -> Outcome:
    if 200 <= status < 300:
        # A success we cannot read: reported as a malformed (non-JSON) body.
        return Outcome(status, headers, b"<" + message.encode() + b">")
    return Outcome(status, headers, json.dumps({"errors": [message]}).encode())


class Exchange:
    """The HTTP transports of one client, and one bounded exchange over them.

    The requests are carried by httpx's own transport, `httpx.AsyncHTTPTransport` (httpcore's
    connection pool and HTTP/1.1 over h11), or by the one a test hands in. They go straight
    to the transport, not through `httpx.AsyncClient`: nothing here needs its redirects
    (never followed), cookie jar (a server must not be able to make us send state back),
    environment proxies, auth flows or event hooks. For an http:// base (the emulator) the
    transport gets a TLS context that trusts nothing instead of loading the CA bundle: TLS
    is never used there, and if it were, it would fail closed.

    httpcore's pool re-examines every one of its connections on each request and each
    response, so its cost per request grows with the requests it carries at once. One
    transport carrying all the requests in flight (up to `inflight.MAX_IN_FLIGHT`, 64) made
    plan of 500 views at 150 ms latency take 10.0 s instead of 2.5 s (bench/latency.py), and
    cost 1.27 times the CPU against the local emulator (bench/plan_floor.py). So a request
    goes to the first of this client's transports that carries fewer than `PER_TRANSPORT`,
    and a new transport is made when all do: each is httpx's own, with its own kept-alive
    connections; sequential requests all go to the first one, over one connection.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        transport: httpx.AsyncBaseTransport | None,
        timeouts: Timeouts,
        max_body_bytes: int,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._max_body_bytes = max_body_bytes
        self._headers = [*headers.items(), ("Accept-Encoding", ACCEPT_ENCODING)]
        self._timeout = {
            "connect": timeouts.connect,
            "read": timeouts.read,
            "write": timeouts.write,
            "pool": timeouts.pool,
        }
        self._ssl_context: ssl.SSLContext | None = None
        self._transports = [] if transport is None else [transport]
        # A test's transport carries every request.
        self._capacity = PER_TRANSPORT if transport is None else sys.maxsize
        self._carrying = [0] * len(self._transports)  # requests each transport carries now

    def _carrier(self) -> int:
        """The index of the transport the next request goes to, counted as carrying it."""
        for index, count in enumerate(self._carrying):
            if count < self._capacity:
                self._carrying[index] += 1
                return index
        self._transports.append(self._new_transport())
        self._carrying.append(1)
        return len(self._transports) - 1

    def _new_transport(self) -> httpx.AsyncBaseTransport:
        if self._ssl_context is None:
            plain = self._base_url.startswith("http://")
            # trust_env=False: no SSL_CERT_FILE from the environment.
            self._ssl_context = (
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                if plain
                else httpx.create_ssl_context(verify=True, trust_env=False)
            )
        # HTTP/1.1 only; no proxy (a transport reads none from the environment); no retry
        # of a failed connect (`retrying` decides). A transport opens a connection per
        # request it carries at once, and keeps them alive.
        return httpx.AsyncHTTPTransport(
            verify=self._ssl_context,
            trust_env=False,
            http1=True,
            http2=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=PER_TRANSPORT),
            retries=0,
        )

    async def aclose(self) -> None:
        for transport in self._transports:
            await transport.aclose()

    async def send(
        self,
        method: str,
        path: str,
        query: str,
        content: bytes | None,
        *,
        limit: float | None,
    ) -> Outcome:
        """One exchange (`query`: encoded, "" for none), cut after `limit` seconds (None: no
        bound). Transport failures become an outcome, never an exception."""
        # An encoded query in the URL: httpx's `params=` (QueryParams, urlencode) would make
        # the same bytes, at the cost of a second parse of the whole URL.
        request = httpx.Request(
            method,
            self._base_url + path + ("?" + query if query else ""),
            headers=self._headers,
            content=content,
            extensions={"timeout": self._timeout},
        )
        try:
            async with asyncio.timeout(limit):
                return await self._exchange(request)
        except TimeoutError:
            return Outcome(None, {}, b"", f"timed out after {limit:g} s", timed_out=True)
        except httpx.ConnectTimeout:
            return Outcome(None, {}, b"", "connect timeout", sent=False)
        except httpx.PoolTimeout:
            return Outcome(None, {}, b"", "connection pool timeout", sent=False)
        except httpx.ReadTimeout:
            return Outcome(None, {}, b"", "read timeout (no response in time)")
        except httpx.WriteTimeout:
            return Outcome(None, {}, b"", "write timeout")
        except (httpx.ConnectError, httpx.LocalProtocolError, httpx.UnsupportedProtocol) as exc:
            # The request never left: safe to send again, even a create.
            return Outcome(None, {}, b"", f"connection error: {truncate(str(exc), 200)}", False)
        except httpx.TransportError as exc:
            # Dropped connection, protocol error: the request may have been processed.
            kind = type(exc).__name__
            detail = truncate(str(exc), 200)
            return Outcome(None, {}, b"", f"connection error ({kind}): {detail}".rstrip(": "))

    async def _exchange(self, request: httpx.Request) -> Outcome:
        carrier = self._carrier()
        try:
            response = await self._transports[carrier].handle_async_request(request)
            try:
                return await self._outcome(response)
            finally:
                await response.aclose()
        finally:
            self._carrying[carrier] -= 1

    async def _outcome(self, response: httpx.Response) -> Outcome:
        headers = {key.lower(): value for key, value in response.headers.items()}
        status = response.status_code
        if 300 <= status < 400:
            return Outcome(status, headers, b"")  # body never needed
        try:
            body = await self._read_body(response, headers)
        except _Unreadable as exc:
            return unreadable_outcome(status, headers, str(exc))
        return Outcome(status, headers, body)

    async def _read_body(self, response: httpx.Response, headers: Mapping[str, str]) -> bytes:
        declared = headers.get("content-length", "").strip()
        if declared.isdecimal() and int(declared) > self._max_body_bytes:
            raise _Unreadable(_too_large(self._max_body_bytes))
        if response.is_stream_consumed:
            # Built in memory and already decoded by httpx (httpx.MockTransport in tests).
            decoder = BodyDecoder("", self._max_body_bytes)
            decoder.feed(response.content)
            return decoder.body()
        decoder = BodyDecoder(headers.get("content-encoding", ""), self._max_body_bytes)
        async for chunk in response.aiter_raw():
            decoder.feed(chunk)
        return decoder.body()


def json_content(body: Any) -> bytes | None:
    return None if body is None else json.dumps(body).encode()
