"""Client behaviour on responses the emulator cannot produce (httpx.MockTransport).

Malformed and hostile responses, redirects, huge and slow bodies, transport failures.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from reconciler.api.client import ApiClient
from reconciler.api.errors import ApiError, Unavailable
from reconciler.api.retry import RetryPolicy
from reconciler.api.transport import Timeouts
from reconciler.core.secrets import Credentials
from support.clock import FakeClock

CANARY_API = "canary-api-key-5f1e2d3c4b5a69788796a5b4"
CANARY_APP = "canary-app-key-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
BASE = "https://api.datadoghq.com"


def policy(seed: int = 7, **overrides: Any) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(seed), **overrides)


def snapshot(snapshot_id: str = "s-1", **attributes: Any) -> dict[str, Any]:
    return {"id": snapshot_id, "type": "snapshots", "attributes": attributes}


Handler = Callable[[httpx.Request], Any]


def mock_client(
    handler: Handler,
    clock: FakeClock,
    *,
    retry: RetryPolicy | None = None,
    timeouts: Timeouts | None = None,
    **kwargs: Any,
) -> ApiClient:
    return ApiClient(
        BASE,
        Credentials(CANARY_API, CANARY_APP),
        transport=httpx.MockTransport(handler),
        retry=retry or policy(),
        timeouts=timeouts or Timeouts(),
        clock=clock,
        **kwargs,
    )


ATTRS = {
    "application_id": "app",
    "view_name": "/home",
    "device_type": "desktop",
    "snapshot_name": "Home",
    "event_id": "e",
    "start": 1,
    "is_device_type_selected_by_user": False,
}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def list_once(handler: Any, clock: FakeClock, **kwargs: Any) -> list[dict[str, Any]]:
    async with mock_client(handler, clock, **kwargs) as client:
        return await client.list_snapshots("app", "/home", 100)


def test_headers_and_query(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [snapshot()]})

    assert run(list_once(handler, clock)) == [snapshot()]
    request = seen[0]
    assert request.headers["DD-API-KEY"] == CANARY_API
    assert request.headers["DD-APPLICATION-KEY"] == CANARY_APP
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("heatmap-reconciler/")
    assert request.url.path == "/api/v2/replay/heatmap/snapshots"
    assert dict(request.url.params) == {
        "filter[view_name]": "/home",
        "filter[application_id]": "app",
        "page[limit]": "100",
    }


def test_create_body_and_content_type(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"data": snapshot("new", **ATTRS)})

    async def go() -> dict[str, Any]:
        async with mock_client(handler, clock) as client:
            return await client.create_snapshot(ATTRS)

    assert run(go())["id"] == "new"
    assert seen[0].method == "POST"
    assert seen[0].headers["Content-Type"] == "application/json"
    assert json.loads(seen[0].content) == {"data": {"type": "snapshots", "attributes": ATTRS}}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not JSON"),
        (b"<html><body>" + b"x" * 5000 + b"</body></html>", "not JSON"),
        (b"[]", "expected a JSON object"),
        (b"{}", "no `data`"),
        (b'{"data": {}}', "expected a list"),
        (b'{"data": [1]}', "data[0] is int"),
        (b'{"data": [{"type": "snapshots", "attributes": {}}]}', "no string `id`"),
        (b'{"data": [{"id": 5, "type": "snapshots", "attributes": {}}]}', "no string `id`"),
        (b'{"data": [{"id": "a", "type": "dashboards", "attributes": {}}]}', "`type`"),
        (b'{"data": [{"id": "a", "type": "snapshots"}]}', "`attributes`"),
        (b'{"data": [{"id": "a", "type": "snapshots", "attributes": []}]}', "`attributes`"),
    ],
)
def test_malformed_list_response(clock: FakeClock, body: bytes, fragment: str) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=body, headers={"content-type": "text/html"})

    with pytest.raises(ApiError) as info:
        run(list_once(handler, clock))
    error = info.value
    assert "malformed response" in str(error)
    assert fragment in str(error)
    assert error.status == 200
    assert not error.retryable
    assert not error.ambiguous
    assert len(str(error)) < 600  # a short excerpt, never the whole body
    assert len(calls) == 1


def test_garbled_create_success_is_ambiguous(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=b"<html>created</html>")

    async def go() -> None:
        async with mock_client(handler, clock) as client:
            await client.create_snapshot(ATTRS)

    with pytest.raises(ApiError) as info:
        run(go())
    assert info.value.ambiguous  # something was created: the caller must re-list


def test_huge_body_with_content_length_is_not_read(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[" + b"0," * 10_000 + b"0]")

    with pytest.raises(ApiError, match="larger than"):
        run(list_once(handler, clock, max_body_bytes=4096))


def test_huge_streamed_body_stops_reading(clock: FakeClock) -> None:
    produced = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10_000):
            produced.append(1)
            yield b"x" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, content=endless())

    with pytest.raises(ApiError) as info:
        run(list_once(handler, clock, max_body_bytes=8192, retry=policy(max_attempts=1)))
    assert "larger than" in str(info.value)
    assert len(produced) < 20


def test_redirect_to_another_host_is_refused(clock: FakeClock) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(302, headers={"location": "https://evil.example.net/steal"})

    async def go() -> None:
        async with mock_client(handler, clock) as client:
            try:
                await client.list_snapshots("app", "/home", 10)
            finally:
                assert client.request_count == 1

    with pytest.raises(ApiError) as info:
        run(go())
    assert hosts == ["api.datadoghq.com"]
    assert "unexpected redirect to evil.example.net; refusing to follow" in str(info.value)
    assert not info.value.retryable


@pytest.mark.parametrize(
    ("location", "named"),
    [
        ("http://[::1", "an address that is no URL"),
        ("https://evil]example/x", "an address that is no URL"),
        ("https://[evil.example.net]/", "an address that is no URL"),
        ("/relative/path", "api.datadoghq.com"),
        ("", "nowhere"),
    ],
)
def test_refused_redirect_names_where_it_pointed(
    clock: FakeClock, location: str, named: str
) -> None:
    """A Location header is the server's text: one that is no URL is still a refused redirect."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"location": location})

    with pytest.raises(ApiError) as info:
        run(list_once(handler, clock, retry=policy(max_attempts=1)))
    assert f"unexpected redirect to {named}; refusing to follow" in str(info.value)


def test_error_shapes(clock: FakeClock) -> None:
    bodies = {
        "/api/v2/replay/heatmap/snapshots": (400, {"errors": ["attribute 'x' is bad", "y"]}),
        "/api/v2/replay/heatmap/snapshots/gone": (
            404,
            {"errors": [{"status": "404", "title": "Not Found", "detail": "no snapshot gone"}]},
        ),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = bodies[request.url.path]
        return httpx.Response(status, json=body)

    async def go() -> tuple[ApiError, ApiError]:
        async with mock_client(handler, clock) as client:
            with pytest.raises(ApiError) as create:
                await client.create_snapshot(ATTRS)
            with pytest.raises(ApiError) as update:
                await client.update_snapshot("gone", {"event_id": "e"})
            return create.value, update.value

    create, update = run(go())
    assert str(create) == (
        "POST /api/v2/replay/heatmap/snapshots: 400 Bad Request: attribute 'x' is bad; y"
    )
    assert create.messages == ("attribute 'x' is bad", "y")
    assert not create.ambiguous
    assert not create.retryable
    assert update.status == 404
    assert "Not Found: no snapshot gone" in str(update)


def test_html_error_body_is_a_short_excerpt(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=b"<html>" + b"Bad gateway " * 10_000 + b"</html>")

    with pytest.raises(ApiError) as info:
        run(list_once(handler, clock, retry=policy(max_attempts=2)))
    assert info.value.status == 502
    assert info.value.retryable
    assert info.value.attempts == 2
    assert "502 Bad Gateway: response body: <html>Bad gateway" in str(info.value)
    assert len(str(info.value)) < 400


def test_read_timeout_is_retried_for_list(clock: FakeClock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json={"data": []})

    assert run(list_once(handler, clock)) == []
    assert len(calls) == 2


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError],
)
def test_ambiguous_create_failure_raises_at_once(
    clock: FakeClock, failure: type[httpx.TransportError]
) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise failure("boom", request=request)

    async def go() -> None:
        async with mock_client(handler, clock) as client:
            await client.create_snapshot(ATTRS)

    with pytest.raises(ApiError) as info:
        run(go())
    assert info.value.ambiguous
    assert info.value.status is None
    assert len(calls) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_create_5xx_and_408_are_ambiguous_and_not_retried(clock: FakeClock, status: int) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json={"errors": ["oops"]})

    async def go() -> None:
        async with mock_client(handler, clock) as client:
            await client.create_snapshot(ATTRS)

    with pytest.raises(ApiError) as info:
        run(go())
    assert info.value.ambiguous
    assert info.value.retryable
    assert info.value.status == status
    assert len(calls) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_create_failure_before_sending_is_retried(
    clock: FakeClock, failure: type[httpx.TransportError]
) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            raise failure("refused", request=request)
        return httpx.Response(201, json={"data": snapshot("n", **ATTRS)})

    async def go() -> dict[str, Any]:
        async with mock_client(handler, clock) as client:
            return await client.create_snapshot(ATTRS)

    assert run(go())["id"] == "n"
    assert len(calls) == 3


def test_connection_error_exhausts_attempts(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ApiError) as info:
        run(list_once(handler, clock, retry=policy(max_attempts=3)))
    error = info.value
    assert error.status is None
    assert error.retryable
    assert not error.ambiguous
    assert error.attempts == 3
    assert "connection error: connection refused" in str(error)
    assert "(after 3 attempts)" in str(error)


def test_slow_body_hits_the_total_timeout() -> None:
    async def drip() -> AsyncIterator[bytes]:
        yield b'{"data": ['
        await asyncio.sleep(5)
        yield b"]}"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=drip())

    async def go() -> None:
        client = mock_client(
            handler, FakeClock(), retry=policy(max_attempts=1), timeouts=Timeouts(total=0.2)
        )
        async with client:
            await client.list_snapshots("app", "/home", 10)

    with pytest.raises(Unavailable, match=r"timed out after 0\.2 s") as info:
        run(go())
    assert info.value.status is None


def test_backoff_waits_follow_full_jitter(clock: FakeClock) -> None:
    statuses = iter([503, 500, 504, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return httpx.Response(status, json={"data": []} if status == 200 else {"errors": ["x"]})

    assert run(list_once(handler, clock, retry=policy(seed=3))) == []
    # Full jitter, derived here rather than asked of the code under test: attempt n waits
    # uniform(0, base * 2**(n-1)) drawn from the policy's RNG, base 0.5 s.
    rng = random.Random(3)
    expected = [rng.uniform(0.0, 0.5 * 2**i) for i in range(3)]
    assert clock.sleeps == pytest.approx(expected)
    assert all(0 <= wait <= 0.5 * 2**i for i, wait in enumerate(clock.sleeps))
    assert len(set(clock.sleeps)) == 3  # not a constant
    assert min(clock.sleeps) > 0


def test_backoff_is_bounded_by_total_wait(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"errors": ["down"]}, headers={"retry-after": "10"})

    with pytest.raises(ApiError) as info:
        run(list_once(handler, clock, retry=policy(max_attempts=50, max_total_wait=25)))
    assert sum(clock.sleeps) <= 25
    assert clock.sleeps == [10, 10]  # Retry-After on a 503 is honoured
    assert info.value.attempts == 3


def test_429_without_reset_uses_retry_after_then_backoff(clock: FakeClock) -> None:
    responses = iter(
        [
            httpx.Response(429, json={"errors": ["slow down"]}, headers={"retry-after": "3"}),
            httpx.Response(429, json={"errors": ["slow down"]}, headers={"retry-after": "soon"}),
            httpx.Response(200, json={"data": []}),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return next(responses)

    assert run(list_once(handler, clock, retry=policy(seed=1))) == []
    assert clock.sleeps[0] == 3
    assert 0 <= clock.sleeps[1] <= 1.0  # second 429: backoff(2), Retry-After was garbage


def test_429_retries_are_bounded(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"errors": ["no"]}, headers={"x-ratelimit-reset": "2"})

    with pytest.raises(ApiError) as info:
        run(list_once(handler, clock, retry=policy(max_rate_limit_retries=4)))
    assert info.value.status == 429
    assert info.value.retryable
    assert not info.value.ambiguous
    assert info.value.attempts == 5
    assert clock.sleeps == [2, 2, 2, 2]


def test_garbage_rate_limit_headers_are_ignored(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {
            "x-ratelimit-limit": "lots",
            "x-ratelimit-period": "-1",
            "x-ratelimit-remaining": "1.5",
            "x-ratelimit-reset": "nan",
        }
        return httpx.Response(200, json={"data": []}, headers=headers)

    async def go() -> None:
        async with mock_client(handler, clock) as client:
            for _ in range(5):
                await client.list_snapshots("app", "/home", 10)

    run(go())
    assert clock.sleeps == []


def test_delete_statuses(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(204 if request.url.path.endswith("/here") else 404)

    async def go() -> tuple[bool, bool]:
        async with mock_client(handler, clock) as client:
            return await client.delete_snapshot("here"), await client.delete_snapshot("gone")

    assert run(go()) == (True, False)


def test_ids_are_escaped_in_paths(clock: FakeClock) -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(204)

    async def go() -> None:
        async with mock_client(handler, clock) as client:
            await client.delete_snapshot("../x?y")

    run(go())
    assert paths == ["/api/v2/replay/heatmap/snapshots/..%2Fx%3Fy"]


def test_keys_never_leak(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    """A server that echoes the keys back: they appear in no error, repr or log line."""

    def handler(request: httpx.Request) -> httpx.Response:
        echoed = (
            f"bad key {request.headers['DD-API-KEY']} / {request.headers['DD-APPLICATION-KEY']}"
        )
        if request.method == "GET":
            return httpx.Response(403, json={"errors": [echoed]})
        return httpx.Response(500, content=echoed.encode())

    errors: list[ApiError] = []

    async def go() -> str:
        async with mock_client(handler, clock, retry=policy(max_attempts=2)) as client:
            for call in (
                client.list_snapshots("app", "/home", 10),
                client.update_snapshot("x", {"event_id": "e"}),
            ):
                try:
                    await call
                except ApiError as exc:
                    errors.append(exc)
            return repr(client)

    with caplog.at_level(logging.DEBUG):
        logging.getLogger("httpx").setLevel(logging.DEBUG)
        logging.getLogger("httpcore").setLevel(logging.DEBUG)
        client_repr = run(go())
    assert len(errors) == 2
    assert "check DD_API_KEY / DD_APP_KEY" in str(errors[0])
    texts = [client_repr, caplog.text]
    for error in errors:
        texts += [str(error), repr(error), repr(error.messages), repr(error.__dict__)]
    for text in texts:
        assert CANARY_API not in text
        assert CANARY_APP not in text
    assert "***" in str(errors[0])


def test_log_lines(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    statuses = iter([503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return httpx.Response(status, json={"data": []} if status == 200 else {"errors": ["x"]})

    with caplog.at_level(logging.INFO, logger="reconciler.http"):
        run(list_once(handler, clock))
    lines = [r.getMessage() for r in caplog.records if r.name == "reconciler.http"]
    prefix = (
        "GET /api/v2/replay/heatmap/snapshots"
        "?filter[view_name]=/home&filter[application_id]=app&page[limit]=100"
    )
    assert lines[0].startswith(prefix + " 503 ")
    assert lines[0].endswith(" ms")
    assert lines[1].startswith("retrying in ")
    assert lines[1].endswith("(503, attempt 2/5)")
    assert lines[2].startswith(prefix + " 200 ")
    assert lines[2].endswith("ms (attempt 2)")
