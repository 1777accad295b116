"""The Datadog API client for heatmap snapshots: four operations, retries and rate limits.

Built on `httpx.AsyncClient`; tests hand it an `httpx.ASGITransport` over the emulator. Keys
travel only in the DD-API-KEY / DD-APPLICATION-KEY headers, only to the configured host:
redirects are refused, and nothing of ours ever logs or formats a header. Server-supplied
text that goes into an error is passed through `secrets.redact` in case a server echoes a key.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, urlencode, urlsplit

import httpx

from reconciler import __version__, resource
from reconciler.api.errors import (
    KEYS_HINT,
    AmbiguousCreate,
    ApiError,
    MalformedResponse,
    error_for_status,
)
from reconciler.errors import UsageProblem
from reconciler.retry import Clock, RateLimiter, RetryPolicy, SystemClock, parse_seconds
from reconciler.secrets import Credentials, redact

logger = logging.getLogger("reconciler.http")

SITES: Final[tuple[str, ...]] = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "datadoghq.eu",
    "ddog-gov.com",
    "us2.ddog-gov.com",
)

#: Largest response body read; a hostile or broken server cannot exhaust memory.
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
#: Longest excerpt of a non-JSON body quoted in an error.
EXCERPT_CHARS: Final = 200
#: Most server messages quoted in one error, each at most MESSAGE_CHARS long.
MAX_MESSAGES: Final = 10
MESSAGE_CHARS: Final = 500

__all__ = ["KEYS_HINT", "SITES", "ApiClient", "ApiError", "Timeouts", "resolve_base_url"]


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(site: str, api_url: str | None) -> str:
    """The API base URL: `api_url` when given (emulator, proxy), else `https://api.{site}`.

    `api_url` must be `scheme://host[:port]`: a path, query, fragment or user info is refused
    (a path would silently double `/api/v2`; user info would be a credential in a URL).
    Plain http is refused unless the host is loopback: the keys would travel in clear.
    """
    if api_url is not None and api_url.strip():
        text = api_url.strip()
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""
            parts.port  # noqa: B018  (raises ValueError on a bad port)
        except ValueError as exc:
            raise UsageProblem(f"invalid api_url {text!r}: {exc}") from None
        if parts.scheme not in ("http", "https") or not host:
            raise UsageProblem(
                f"invalid api_url {text!r}: expected http(s)://host[:port], "
                "e.g. http://127.0.0.1:8126"
            )
        if parts.username is not None or parts.password is not None:
            # Never echo it: user info may be a credential.
            raise UsageProblem("invalid api_url: user info (user:password@) is not allowed")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise UsageProblem(
                f"invalid api_url {text!r}: give only scheme://host[:port], without a path "
                "or query (the client adds /api/v2/...)"
            )
        if parts.scheme == "http" and not _is_loopback(host):
            raise UsageProblem(
                f"refusing plain http to {host}: the API keys would travel in clear; "
                "use https (http is only allowed for 127.0.0.1, ::1 or localhost)"
            )
        return f"{parts.scheme}://{parts.netloc.lower()}"
    name = site.strip().lower()
    if name not in SITES:
        raise UsageProblem(f"unknown Datadog site {site!r}: expected one of {', '.join(SITES)}")
    return f"https://api.{name}"


@dataclass(frozen=True)
class Timeouts:
    """httpx timeouts, in seconds. `total` bounds one attempt end to end, so a server that
    drips its body a byte at a time cannot hold a request forever (None: no bound)."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 30.0
    total: float | None = 120.0


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _redact_body(body: bytes) -> bytes:
    """`body` with every known key masked (a no-op unless a key occurs in it)."""
    text = body.decode("utf-8", "replace")
    cleaned = redact(text)
    return body if cleaned == text else cleaned.encode()


def error_messages(body: bytes) -> tuple[str, ...]:
    """The server's messages from an error body: `{"errors": ["msg"]}`, `{"errors":
    [{"status", "title", "detail"}]}`, else a short excerpt of the raw text."""
    if not body.strip():
        return ()
    # Mask echoed keys before any excerpt is cut: a cut through a key would defeat the mask.
    body = _redact_body(body)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        excerpt = _truncate(body[: EXCERPT_CHARS * 4].decode("utf-8", "replace"), EXCERPT_CHARS)
        return (f"response body: {excerpt}",)
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return (f"response body: {_truncate(json.dumps(document)[:2000], EXCERPT_CHARS)}",)
    messages: list[str] = []
    for item in errors[:MAX_MESSAGES]:
        if isinstance(item, str):
            messages.append(_truncate(item, MESSAGE_CHARS))
        elif isinstance(item, dict):
            title, detail = item.get("title"), item.get("detail")
            words = [str(word) for word in (title, detail) if isinstance(word, str) and word]
            if words:
                messages.append(_truncate(": ".join(words), MESSAGE_CHARS))
    if len(errors) > MAX_MESSAGES:
        messages.append(f"... and {len(errors) - MAX_MESSAGES} more")
    return tuple(messages)


class _Malformed(Exception):
    """A success response whose body is not what the API promises."""


def _check_snapshot(item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _Malformed(f"{where} is {type(item).__name__}, expected an object")
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise _Malformed(f"{where} has no string `id`")
    if item.get("type") != resource.RESOURCE_TYPE:
        raise _Malformed(f"{where} has `type` {item.get('type')!r}, expected 'snapshots'")
    if not isinstance(item.get("attributes"), dict):
        raise _Malformed(f"{where} has no `attributes` object")
    return item


def _data(body: Any) -> object:
    if not isinstance(body, dict):
        raise _Malformed(f"expected a JSON object, got {type(body).__name__}")
    if "data" not in body:
        raise _Malformed("no `data` member")
    return body["data"]


@dataclass(frozen=True)
class _Outcome:
    """One attempt: a response (status, headers, body) or a transport failure."""

    status: int | None
    headers: Mapping[str, str]
    body: bytes
    failure: str | None = None  # error kind when no usable response
    sent: bool = True  # False: the request certainly never reached the server


class ApiClient:
    """The four heatmap snapshot operations, with retries and shared rate limiting.

    One instance is shared by all concurrent operations of a run; `request_count` counts
    every HTTP attempt.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008  (only its RNG is shared: harmless)
        clock: Clock | None = None,
        user_agent: str | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._host = (urlsplit(self.base_url).hostname or "").lower()
        self._retry = retry
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._limiter = RateLimiter(self._clock)
        self._timeouts = timeouts
        self._max_body_bytes = max_body_bytes
        self.request_count = 0
        headers = {
            "DD-API-KEY": credentials.api_key,
            "DD-APPLICATION-KEY": credentials.app_key,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": user_agent or f"heatmap-reconciler/{__version__} (+python httpx)",
        }
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(
                connect=timeouts.connect,
                read=timeouts.read,
                write=timeouts.write,
                pool=timeouts.pool,
            ),
            follow_redirects=False,
            trust_env=False,  # no proxy or netrc from the environment: keys go where told
        )

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r})"

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the four operations ---------------------------------------------------------------

    async def list_snapshots(
        self, application_id: str, view_name: str, limit: int, *, device_type: str | None = None
    ) -> list[dict[str, Any]]:
        """One GET of a view's snapshots, or of one device type of them (no paging)."""
        params = resource.list_params(application_id, view_name, limit, device_type=device_type)
        path = resource.COLLECTION_PATH
        target = f"{path}?{unquote(urlencode(params))}"
        outcome, attempts = await self._call(
            "GET", path, target, "GET collection", params=params, idempotent=True, ok=(200,)
        )
        try:
            items = _data(self._json(outcome))
            if not isinstance(items, list):
                raise _Malformed(f"`data` is {type(items).__name__}, expected a list")
            return [_check_snapshot(item, f"data[{i}]") for i, item in enumerate(items)]
        except _Malformed as exc:
            raise self._malformed("GET", target, outcome, exc, attempts, False) from None

    async def create_snapshot(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """POST one snapshot. Not idempotent: only 429 (nothing done) and failures before
        sending are retried; anything ambiguous raises an `Ambiguous` error at once."""
        path = resource.COLLECTION_PATH
        body = {"data": {"type": resource.RESOURCE_TYPE, "attributes": dict(attributes)}}
        outcome, attempts = await self._call(
            "POST", path, path, "POST collection", json_body=body, idempotent=False, ok=(200, 201)
        )
        return self._one_snapshot("POST", path, outcome, attempts, committed=True)

    async def update_snapshot(
        self, snapshot_id: str, attributes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PATCH one snapshot's mutable fields (idempotent: retried as is)."""
        path = resource.item_path(snapshot_id)
        body = resource.update_body(snapshot_id, attributes)
        outcome, attempts = await self._call(
            "PATCH", path, path, "PATCH item", json_body=body, idempotent=True, ok=(200,)
        )
        return self._one_snapshot("PATCH", path, outcome, attempts, committed=False)

    async def delete_snapshot(self, snapshot_id: str) -> bool:
        """DELETE one snapshot: True when deleted, False when it was already gone (404)."""
        path = resource.item_path(snapshot_id)
        outcome, _ = await self._call(
            "DELETE", path, path, "DELETE item", idempotent=True, ok=(200, 204, 404)
        )
        return outcome.status != 404

    # -- machinery -------------------------------------------------------------------------

    def _json(self, outcome: _Outcome) -> Any:
        try:
            return json.loads(outcome.body)
        except (ValueError, RecursionError):
            body = _redact_body(outcome.body)  # before the cut, as in error_messages
            excerpt = _truncate(body[:800].decode("utf-8", "replace"), EXCERPT_CHARS)
            raise _Malformed(f"body is not JSON: {excerpt!r}") from None

    def _malformed(
        self,
        method: str,
        target: str,
        outcome: _Outcome,
        exc: _Malformed,
        attempts: int,
        committed: bool,
    ) -> ApiError:
        kind = AmbiguousCreate if committed else MalformedResponse  # a garbled 201 created
        return kind(
            method,
            target,
            outcome.status,
            (str(exc),),
            reason="malformed response",
            attempts=attempts,
        )

    def _one_snapshot(
        self, method: str, path: str, outcome: _Outcome, attempts: int, *, committed: bool
    ) -> dict[str, Any]:
        try:
            return _check_snapshot(_data(self._json(outcome)), "data")
        except _Malformed as exc:
            raise self._malformed(method, path, outcome, exc, attempts, committed) from None

    async def _call(
        self,
        method: str,
        path: str,
        target: str,
        operation: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        idempotent: bool,
        ok: tuple[int, ...],
    ) -> tuple[_Outcome, int]:
        """Send with retries; return the accepted outcome and the number of attempts."""
        policy = self._retry
        attempts = failures = rate_limited = 0
        waited = 0.0
        content = None if json_body is None else json.dumps(json_body).encode()
        while True:
            await self._limiter.acquire(operation)
            attempts += 1
            self.request_count += 1
            started = time.perf_counter()
            sent_at = self._clock.monotonic()
            completed_before = self._limiter.completed_before(operation)
            outcome = await self._attempt(method, path, params, content)
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._limiter.observe(operation, outcome.headers, sent_at, completed_before)
            status_text = str(outcome.status) if outcome.failure is None else outcome.failure
            suffix = f" (attempt {attempts})" if attempts > 1 else ""
            logger.info("%s %s %s %.0f ms%s", method, target, status_text, elapsed_ms, suffix)

            status = outcome.status
            if outcome.failure is None and status in ok:
                return outcome, attempts

            if outcome.failure is None and status == 429:
                wait = self._rate_limit_wait(outcome.headers, rate_limited + 1)
                rate_limited += 1
                if rate_limited > policy.max_rate_limit_retries or waited + wait > (
                    policy.max_total_wait
                ):
                    raise self._error(method, target, outcome, attempts)
                waited += wait
                resume = self._limiter.rate_limited(operation, wait)
                logger.info(
                    "rate limited (429 on %s %s): all requests paused for %.1f s",
                    method,
                    path,
                    resume - self._clock.monotonic(),
                )
                continue  # the gate in `acquire` does the waiting, for every caller at once

            transient = outcome.failure is not None or status == 408 or (status or 0) >= 500
            if not transient:
                raise self._error(method, target, outcome, attempts)
            if self._ambiguous(outcome) and not idempotent:
                raise self._error(method, target, outcome, attempts)
            failures += 1
            delay = policy.backoff(failures)
            retry_after = parse_seconds(outcome.headers.get("retry-after"))
            if retry_after is not None and retry_after <= policy.max_delay:
                delay = max(delay, retry_after)
            if failures >= policy.max_attempts or waited + delay > policy.max_total_wait:
                raise self._error(method, target, outcome, attempts)
            logger.info(
                "retrying in %.1f s (%s, attempt %d/%d)",
                delay,
                status_text,
                failures + 1,
                policy.max_attempts,
            )
            waited += delay
            await self._clock.sleep(delay)

    @staticmethod
    def _ambiguous(outcome: _Outcome) -> bool:
        """May the server have acted on the request? Yes unless it never got it, or it
        answered a definite 4xx refusal (408 means it gave up reading: unknown)."""
        if outcome.failure is not None:
            return outcome.sent
        status = outcome.status or 0
        return not (400 <= status < 500 and status != 408)

    def _rate_limit_wait(self, headers: Mapping[str, str], count: int) -> float:
        reset = parse_seconds(headers.get("x-ratelimit-reset"))
        if reset is None:
            reset = parse_seconds(headers.get("retry-after"))
        if reset is None:
            reset = self._retry.backoff(count)
        return max(reset, 0.05)  # a "0" reset must not become a hot loop

    def _error(self, method: str, target: str, outcome: _Outcome, attempts: int) -> ApiError:
        write = method != "GET"
        if outcome.failure is not None:
            kind = error_for_status(None, write=write, sent=outcome.sent)
            return kind(method, target, None, reason=outcome.failure, attempts=attempts)
        status = outcome.status or 0
        reason = None
        messages = error_messages(outcome.body)
        if 300 <= status < 400:
            location = outcome.headers.get("location", "")
            host = (urlsplit(location).hostname or self._host) if location else "nowhere"
            reason = (
                f"unexpected redirect to {host}; refusing to follow: "
                "keys must not be sent elsewhere"
            )
            messages = ()
        kind = error_for_status(status, write=write)
        return kind(method, target, status, messages, reason=reason, attempts=attempts)

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        content: bytes | None,
    ) -> _Outcome:
        """One HTTP exchange; transport failures become an outcome, never an exception."""
        request = self._http.build_request(method, path, params=params, content=content)
        try:
            if self._timeouts.total is None:
                return await self._exchange(request)
            async with asyncio.timeout(self._timeouts.total):
                return await self._exchange(request)
        except TimeoutError:
            return _Outcome(None, {}, b"", f"timed out after {self._timeouts.total:g} s")
        except httpx.ConnectTimeout:
            return _Outcome(None, {}, b"", "connect timeout", sent=False)
        except httpx.PoolTimeout:
            return _Outcome(None, {}, b"", "connection pool timeout", sent=False)
        except httpx.ReadTimeout:
            return _Outcome(None, {}, b"", "read timeout (no response in time)")
        except httpx.WriteTimeout:
            return _Outcome(None, {}, b"", "write timeout")
        except httpx.ConnectError as exc:
            return _Outcome(None, {}, b"", f"connection error: {_truncate(str(exc), 200)}", False)
        except httpx.TransportError as exc:
            # Dropped connection, protocol error: the request may have been processed.
            kind = type(exc).__name__
            detail = _truncate(str(exc), 200)
            return _Outcome(None, {}, b"", f"connection error ({kind}): {detail}".rstrip(": "))

    async def _exchange(self, request: httpx.Request) -> _Outcome:
        response = await self._http.send(request, stream=True)
        try:
            headers = {key.lower(): value for key, value in response.headers.items()}
            if 300 <= response.status_code < 400:
                return _Outcome(response.status_code, headers, b"")  # body never needed
            declared = parse_seconds(headers.get("content-length"))
            if declared is not None and declared > self._max_body_bytes:
                return self._too_large(response.status_code, headers)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self._max_body_bytes:
                    return self._too_large(response.status_code, headers)
                chunks.append(chunk)
            return _Outcome(response.status_code, headers, b"".join(chunks))
        finally:
            await response.aclose()

    def _too_large(self, status: int, headers: Mapping[str, str]) -> _Outcome:
        limit_mib = self._max_body_bytes / (1024 * 1024)
        message = f"response body larger than {limit_mib:g} MiB; not read"
        body = json.dumps({"errors": [message]}).encode()
        if 200 <= status < 300:
            # A success we cannot read: report it as a malformed (non-JSON-able) body.
            return _Outcome(status, headers, b"<" + message.encode() + b">")
        return _Outcome(status, headers, body)

    # -- read-only addition for `reconciler doctor` (append-only; port with the class) -----

    async def list_snapshots_of_device(
        self, application_id: str, view_name: str, device_type: str, limit: int
    ) -> list[dict[str, Any]]:
        """`list_snapshots` narrowed by `filter[device_type]`: `doctor` compares the sum of
        a view's device-type partitions with its whole listing to see a silent page cap."""
        params = resource.list_params(application_id, view_name, limit)
        params[resource.FILTER_DEVICE_TYPE] = device_type
        path = resource.COLLECTION_PATH
        target = f"{path}?{unquote(urlencode(params))}"
        outcome, attempts = await self._call(
            "GET", path, target, "GET collection", params=params, idempotent=True, ok=(200,)
        )
        try:
            items = _data(self._json(outcome))
            if not isinstance(items, list):
                raise _Malformed(f"`data` is {type(items).__name__}, expected a list")
            return [_check_snapshot(item, f"data[{i}]") for i, item in enumerate(items)]
        except _Malformed as exc:
            raise self._malformed("GET", target, outcome, exc, attempts, False) from None
