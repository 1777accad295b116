"""Every wait is capped, every operation bounded, and the run's deadline cut everything,
whatever the server's headers say; decoded bodies are capped across encoding layers.

Virtual time (FakeClock) over httpx.MockTransport: `clock.sleeps` is every wait the
client asked for, so the bounds are checked exactly, without waiting.
"""

from __future__ import annotations

import asyncio
import gzip
import random
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.api.client import ApiClient
from reconciler.api.errors import AmbiguousWrite, DeadlineExceeded, RateLimited, Unavailable
from reconciler.api.retry import MAX_WAIT, RetryPolicy, SystemClock
from reconciler.api.transport import BodyDecoder, Timeouts
from reconciler.core.secrets import Credentials
from support.clock import FakeClock

KEYS = Credentials("bounds-api-key-000000000000000000", "bounds-app-key-0000000000000000000000000")
OK = {"data": []}
Handler = Callable[[httpx.Request], httpx.Response]


def client(
    handler: Handler,
    clock: FakeClock,
    *,
    deadline: float | None = None,
    timeouts: Timeouts = Timeouts(),
    **retry: Any,
) -> ApiClient:
    return ApiClient(
        "https://api.datadoghq.com",
        KEYS,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(rng=random.Random(5), **retry),
        clock=clock,
        deadline=deadline,
        timeouts=timeouts,
    )


def always_down(clock: FakeClock, *, deadline: float, delay: float, **retry: Any) -> ApiClient:
    """A client of a server that answers every request 503, retrying every `delay` s."""

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"errors": ["down"]})

    return client(down, clock, deadline=deadline, base_delay=delay, max_delay=delay, **retry)


def lists(api: ApiClient, count: int) -> None:
    async def go() -> None:
        async with api:
            for i in range(count):
                await api.list_snapshots("app", f"/v{i}", 10)

    asyncio.run(go())


def test_60_s_is_the_cap_of_a_single_wait() -> None:
    assert MAX_WAIT == 60.0
    assert RetryPolicy().max_wait == MAX_WAIT


@pytest.mark.parametrize(
    "headers",
    [
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000000000"},
        {"x-ratelimit-limit": "1", "x-ratelimit-period": "1e9"},
        {"x-ratelimit-limit": "1", "x-ratelimit-period": "1e9", "x-ratelimit-remaining": "0"},
    ],
)
def test_absurd_rate_limit_headers_hold_a_request_at_most_60_s(headers: dict[str, str]) -> None:
    clock = FakeClock()
    lists(client(lambda r: httpx.Response(200, json=OK, headers=headers), clock), 3)
    assert clock.sleeps, "the advertised limit was ignored"
    assert max(clock.sleeps) <= 60.0
    assert sum(clock.sleeps) <= 2 * 60.0  # two requests waited, each at most the cap


def test_a_429_with_an_absurd_reset_waits_the_cap_then_retries() -> None:
    clock = FakeClock()
    answers = iter(
        [httpx.Response(429, headers={"x-ratelimit-reset": "1e9"}), httpx.Response(200, json=OK)]
    )
    lists(client(lambda r: next(answers), clock), 1)
    assert clock.sleeps == [60.0]


def test_retry_after_beyond_the_backoff_ceiling_is_not_honoured() -> None:
    clock = FakeClock()
    answers = iter(
        [httpx.Response(503, headers={"retry-after": "1e9"}), httpx.Response(200, json=OK)]
    )
    lists(client(lambda r: next(answers), clock), 1)
    assert len(clock.sleeps) == 1
    assert 0 <= clock.sleeps[0] <= 0.5  # full jitter of the first backoff, base 0.5 s


def test_the_deadline_refuses_a_wait_instead_of_sleeping_past_it() -> None:
    clock = FakeClock()
    start = clock.monotonic()
    answers = iter([httpx.Response(429, headers={"x-ratelimit-reset": "30"})])
    api = client(lambda r: next(answers), clock, deadline=start + 10)
    with pytest.raises(DeadlineExceeded, match=r"run deadline reached.*a wait of 30\.0 s"):
        lists(api, 1)
    assert clock.sleeps == []
    assert clock.monotonic() <= start + 10


def test_the_deadline_cuts_pacing_held_by_an_earlier_answer() -> None:
    clock = FakeClock()
    start = clock.monotonic()
    held = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "40"}
    api = client(lambda r: httpx.Response(200, json=OK, headers=held), clock, deadline=start + 20)
    with pytest.raises(DeadlineExceeded, match=r"rate-limit wait of 40\.0 s"):
        lists(api, 2)
    assert clock.sleeps == []


def test_backoff_stops_at_the_deadline() -> None:
    clock = FakeClock()
    start = clock.monotonic()
    api = always_down(clock, deadline=start + 3, delay=1.0, max_attempts=100)
    with pytest.raises(DeadlineExceeded):
        lists(api, 1)
    assert sum(clock.sleeps) <= 3
    assert clock.monotonic() <= start + 3


def test_an_idempotent_write_cut_by_the_deadline_may_have_been_applied() -> None:
    clock = FakeClock()
    start = clock.monotonic()
    api = always_down(clock, deadline=start + 2, delay=1.5)

    async def go() -> None:
        async with api:
            await api.update_snapshot(
                "s1", {"event_id": "e", "start": 1, "is_device_type_selected_by_user": False}
            )

    with pytest.raises(AmbiguousWrite, match="may have acted"):
        asyncio.run(go())
    assert clock.monotonic() <= start + 2


def test_the_operation_bound_counts_attempts_and_waits() -> None:
    """Without a run deadline, one operation still ends: Timeouts.operation."""
    clock = FakeClock()

    def slow(request: httpx.Request) -> httpx.Response:
        clock.advance(4)  # each attempt takes 4 s of the clock
        return httpx.Response(503, json={"errors": ["down"]})

    api = client(slow, clock, timeouts=Timeouts(operation=10), max_attempts=100, base_delay=0.1)
    with pytest.raises(Unavailable) as info:
        lists(api, 1)
    assert info.value.attempts == 3  # 3 x 4 s (+ waits) pass the 10 s bound
    assert not isinstance(info.value, DeadlineExceeded)


def test_rate_limit_retries_still_end_without_a_deadline() -> None:
    clock = FakeClock()
    api = client(lambda r: httpx.Response(429, headers={"x-ratelimit-reset": "1e9"}), clock)
    with pytest.raises(RateLimited):
        lists(api, 1)
    assert max(clock.sleeps) <= 60.0
    assert sum(clock.sleeps) <= RetryPolicy().max_total_wait


def test_the_client_paces_by_the_advertised_limit() -> None:
    headers = {
        "x-ratelimit-name": "replay",
        "x-ratelimit-limit": "100",
        "x-ratelimit-period": "60",
        "x-ratelimit-remaining": "97",
    }
    clock = FakeClock()
    api = client(lambda r: httpx.Response(200, json=OK, headers=headers), clock)
    lists(api, 3)
    assert clock.sleeps == [pytest.approx(60 / (0.95 * 100))]  # 100 per 60 s, paced at 95 %


# -- decoded bodies --------------------------------------------------------------------


def test_nested_encodings_are_undone() -> None:
    body = b'{"data": []}' * 100
    decoder = BodyDecoder("gzip, deflate", 1 << 20)
    encoded = gzip.compress(zlib.compress(body))
    for i in range(0, len(encoded), 7):  # streamed in small pieces
        decoder.feed(encoded[i : i + 7])
    assert decoder.body() == body


def test_a_nested_bomb_stops_at_the_cap_while_decoding() -> None:
    limit = 1 << 20
    bomb = gzip.compress(gzip.compress(bytes(16 << 20), 9), 9)  # 16 MiB in a few KB
    decoder = BodyDecoder("gzip, gzip", limit)
    with pytest.raises(Exception, match="larger than 1 MiB") as info:
        decoder.feed(bomb)
    assert type(info.value).__name__ == "_Unreadable"
    assert decoder.size <= limit + 64 * 1024  # stopped within one piece of the cap


@pytest.mark.parametrize(
    ("encoding", "message"),
    [("br", "unsupported Content-Encoding 'br'"), ("gzip, " * 4, "4 content-encoding layers")],
)
def test_unknown_or_too_many_encodings_are_refused(encoding: str, message: str) -> None:
    with pytest.raises(Exception, match=message):
        BodyDecoder(encoding, 1 << 20)


def test_an_attempt_is_cut_at_the_deadline_not_at_its_own_bound() -> None:
    """Real time, briefly: the answer would come after 5 s, the deadline is 0.2 s away, the
    attempt's own bound is 60 s. The attempt is cut at the deadline."""

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=OK)

    clock = SystemClock()
    api = ApiClient(
        "https://api.datadoghq.com",
        KEYS,
        transport=httpx.MockTransport(slow),
        clock=clock,
        deadline=clock.monotonic() + 0.2,
    )
    with pytest.raises(DeadlineExceeded, match="no time left for the answer"):
        lists(api, 1)


def test_the_runtime_deadline_is_the_timeout_from_now_and_can_be_renewed() -> None:
    from reconciler.api.runtime import Runtime

    clock = FakeClock(start=100.0)
    runtime = Runtime(clock=clock).with_timeout(30)
    assert (runtime.deadline, runtime.time_left()) == (130.0, 30.0)
    assert Runtime(clock=clock, deadline=110.0).with_timeout(30).deadline == 110.0  # never later
    clock.advance(50)
    assert runtime.time_left() == 0.0
    assert runtime.renewed().deadline == 180.0
