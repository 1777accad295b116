"""The client against the real emulator, in-process (httpx.ASGITransport), on a fake clock
shared by the emulator's rate-limit windows and the client's waits: every status path,
retry timing, rate-limit pauses and pacing, without sockets or real waiting."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.api.client import ApiClient
from reconciler.api.errors import ApiError
from reconciler.api.retry import RetryPolicy
from reconciler.api.transport import Timeouts
from reconciler.core.secrets import Credentials
from reconciler.emulator import EmulatorSettings, create_app
from support.clock import FakeClock

T = TypeVar("T")

CANARY_API = "canary-emulator-api-3e8b51f0c2d94a7b"
CANARY_APP = "canary-emulator-app-9c41d2e7a05f86b3"
BASE = "http://127.0.0.1:8126"


def attrs(name: str = "Home", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "application_id": "app-1",
        "view_name": "/home",
        "device_type": "desktop",
        "snapshot_name": name,
        "event_id": "evt-1",
        "start": 1000,
        "is_device_type_selected_by_user": False,
    }
    values.update(overrides)
    return values


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the emulator, noting (fake time, method, status) of each."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: FakeClock) -> None:
        self.inner = inner
        self.clock = clock
        self.log: list[tuple[float, str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent_at = self.clock.monotonic()
        response = await self.inner.handle_async_request(request)
        self.log.append((sent_at, request.method, response.status_code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class Rig:
    def __init__(self, clock: FakeClock, **settings: Any) -> None:
        self.clock = clock
        self.settings = EmulatorSettings(clock=clock.monotonic, **settings)
        self.transport = Recorder(httpx.ASGITransport(app=create_app(self.settings)), clock)

    def client(
        self, *, keys: tuple[str, str] = (CANARY_API, CANARY_APP), **kwargs: Any
    ) -> ApiClient:
        kwargs.setdefault("retry", RetryPolicy(rng=random.Random(11)))
        return ApiClient(
            BASE, Credentials(*keys), transport=self.transport, clock=self.clock, **kwargs
        )

    def statuses(self) -> list[int]:
        return [status for _, _, status in self.transport.log]


def run(rig: Rig, body: Callable[[ApiClient], Awaitable[T]], **kwargs: Any) -> T:
    async def go() -> T:
        async with rig.client(**kwargs) as client:
            return await body(client)

    return asyncio.run(go())


def test_crud_round_trip(clock: FakeClock) -> None:
    rig = Rig(clock)

    async def body(client: ApiClient) -> None:
        created = await client.create_snapshot(attrs())
        assert created["type"] == "snapshots"
        listed = await client.list_snapshots("app-1", "/home", 100)
        assert [item["id"] for item in listed] == [created["id"]]
        updated = await client.update_snapshot(
            created["id"],
            {"event_id": "evt-2", "start": 5, "is_device_type_selected_by_user": True},
        )
        assert updated["attributes"]["event_id"] == "evt-2"
        assert await client.delete_snapshot(created["id"]) is True
        assert await client.delete_snapshot(created["id"]) is False  # already gone
        with pytest.raises(ApiError) as info:
            await client.update_snapshot(
                created["id"],
                {"event_id": "e", "start": 1, "is_device_type_selected_by_user": False},
            )
        assert info.value.status == 404
        assert not info.value.retryable
        assert client.request_count == 6

    run(rig, body)
    assert rig.statuses() == [201, 200, 200, 204, 404, 404]


def test_400_carries_the_server_message(clock: FakeClock) -> None:
    rig = Rig(clock)

    async def body(client: ApiClient) -> None:
        with pytest.raises(ApiError) as info:
            await client.create_snapshot({"view_name": "/home"})
        error = info.value
        assert error.status == 400
        assert not error.retryable
        assert not error.ambiguous
        assert error.messages
        assert str(error).startswith("POST /api/v2/replay/heatmap/snapshots: 400 Bad Request: ")
        assert client.request_count == 1

    run(rig, body)


def test_403_explains_the_keys_and_never_shows_them(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(clock, accepted_keys=(("right-api", "right-app"),))

    async def body(client: ApiClient) -> ApiError:
        with pytest.raises(ApiError) as info:
            await client.list_snapshots("app-1", "/home", 10)
        assert client.request_count == 1
        assert CANARY_API not in repr(client)
        return info.value

    with caplog.at_level(logging.DEBUG):
        error = run(rig, body)
    assert error.status == 403
    assert "check DD_API_KEY / DD_APP_KEY" in str(error)
    assert "Datadog documents no permission for these endpoints" in str(error)
    for text in (str(error), repr(error), caplog.text, repr(error.__dict__)):
        assert CANARY_API not in text
        assert CANARY_APP not in text


def test_429_waits_the_reset_and_all_callers_pause_together(clock: FakeClock) -> None:
    rig = Rig(clock, rate_limit=2, rate_period=10)
    start = clock.monotonic()  # 1000.0: the window is [1000, 1010), so reset is 10 s

    async def body(client: ApiClient) -> list[int]:
        # Another client used up the window; this one does not know the limit yet.
        async with rig.client() as other:
            await other.list_snapshots("app-1", "/x", 10)
            await other.list_snapshots("app-1", "/y", 10)
        results = await asyncio.gather(
            *(client.list_snapshots("app-1", f"/v{i}", 10) for i in range(5))
        )
        return [len(r) for r in results]

    assert run(rig, body) == [0] * 5
    log = rig.transport.log[2:]
    early = [status for at, _, status in log if at < start + 10]
    late = [status for at, _, status in log if at >= start + 10]
    assert early
    assert set(early) == {429}  # nothing of this client got through before the reset
    assert late.count(200) == 5
    assert 429 not in late  # paced after the pause
    assert 10.0 in clock.sleeps  # the wait is the reset header, through the clock


def test_a_429_pauses_other_operations_too(clock: FakeClock) -> None:
    rig = Rig(clock, rate_limit=1, rate_period=5)
    start = clock.monotonic()

    async def body(client: ApiClient) -> None:
        await client.list_snapshots("app-1", "/a", 10)
        # A second list meets the 429 (its bucket is exhausted, but the client only holds the
        # bucket: so force the 429 with a fresh client sharing nothing but the server).
        async with rig.client() as other:
            with_429 = asyncio.create_task(other.list_snapshots("app-1", "/b", 10))
            while 429 not in rig.statuses():
                await asyncio.sleep(0)
            # The gate is closed: a delete (another bucket) sent now waits for it too.
            assert await other.delete_snapshot("missing") is False
            await with_429

    run(rig, body)
    log = rig.transport.log
    assert [status for _, _, status in log[:2]] == [200, 429]
    assert sorted(status for _, _, status in log[2:]) == [200, 404]
    assert all(at >= start + 5 for at, _, _ in log[2:])


def test_remaining_zero_holds_the_bucket_without_a_429(clock: FakeClock) -> None:
    rig = Rig(clock, rate_limit=3, rate_period=4)

    async def body(client: ApiClient) -> None:
        for i in range(7):
            await client.list_snapshots("app-1", f"/v{i}", 10)

    run(rig, body)
    assert 429 not in rig.statuses()
    assert len(rig.statuses()) == 7


def test_pacing_50_lists_at_5_per_second(clock: FakeClock) -> None:
    rig = Rig(clock, rate_limit=5, rate_period=1)
    start = clock.monotonic()

    async def body(client: ApiClient) -> int:
        for i in range(50):
            await client.list_snapshots("app-1", f"/v{i}", 10)
        return client.request_count

    assert run(rig, body) == 50  # no 429, no retry
    elapsed = clock.monotonic() - start
    # Pacing at 4.75/s plus exhausted windows held to their estimated end: well under the
    # ~20 s that waiting a rounded-up reset after every window would cost.
    assert 9 <= elapsed <= 14, elapsed


def test_pacing_concurrent_writes_under_the_limit(clock: FakeClock) -> None:
    rig = Rig(clock, rate_limit=20, rate_period=1)
    start = clock.monotonic()

    async def body(client: ApiClient) -> int:
        semaphore = asyncio.Semaphore(4)

        async def one(i: int) -> None:
            async with semaphore:
                await client.create_snapshot(attrs(f"s{i}"))

        await asyncio.gather(*(one(i) for i in range(100)))
        return client.request_count

    count = run(rig, body)
    assert rig.statuses().count(201) == 100
    assert count <= 104  # at most the first concurrent burst may meet a 429
    elapsed = clock.monotonic() - start
    assert 4.9 <= elapsed <= 6.5, elapsed


def test_5xx_then_success(clock: FakeClock) -> None:
    rig = Rig(clock, fail_rate=0.5, seed=4)

    async def body(client: ApiClient) -> int:
        for i in range(10):
            await client.list_snapshots("app-1", f"/v{i}", 10)
        return client.request_count

    count = run(rig, body)
    assert count > 10
    statuses = rig.statuses()
    assert statuses.count(200) == 10
    assert {s for s in statuses if s != 200} <= {500, 502, 503, 504}
    assert len(clock.sleeps) == count - 10  # one backoff per failure


def test_5xx_exhausts_attempts(clock: FakeClock) -> None:
    rig = Rig(clock, fail_rate=1.0, seed=1)

    async def body(client: ApiClient) -> None:
        with pytest.raises(ApiError) as info:
            await client.update_snapshot(
                "x", {"event_id": "e", "start": 1, "is_device_type_selected_by_user": False}
            )
        assert info.value.retryable
        assert info.value.attempts == 5
        assert client.request_count == 5

    run(rig, body)
    assert len(clock.sleeps) == 4
    assert sum(clock.sleeps) <= 0.5 + 1 + 2 + 4


def test_create_is_not_retried_on_5xx(clock: FakeClock) -> None:
    rig = Rig(clock, fail_rate=1.0, seed=1)

    async def body(client: ApiClient) -> None:
        with pytest.raises(ApiError) as info:
            await client.create_snapshot(attrs())
        assert info.value.ambiguous
        assert client.request_count == 1

    run(rig, body)


def test_create_committed_then_502_is_ambiguous(clock: FakeClock) -> None:
    rig = Rig(clock, drop_after_commit_rate=1.0, seed=1)

    async def body(client: ApiClient) -> list[dict[str, Any]]:
        with pytest.raises(ApiError) as info:
            await client.create_snapshot(attrs())
        assert info.value.ambiguous
        assert info.value.status == 502
        assert client.request_count == 1
        return await client.list_snapshots("app-1", "/home", 10)

    listed = run(rig, body)
    assert len(listed) == 1  # it was created: the executor re-lists and adopts it


def test_timeout_is_retried_then_reported(clock: FakeClock) -> None:
    rig = Rig(clock, latency_ms=300)

    async def body(client: ApiClient) -> None:
        with pytest.raises(ApiError, match="timed out") as info:
            await client.list_snapshots("app-1", "/home", 10)
        assert info.value.status is None
        assert info.value.retryable
        assert info.value.attempts == 2

    run(
        rig,
        body,
        timeouts=Timeouts(total=0.05),
        retry=RetryPolicy(max_attempts=2, rng=random.Random(1)),
    )
