"""retry.py units: backoff bounds, header parsing, the fake clock, the rate limiter."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from reconciler.api.retry import RateLimiter, RetryPolicy, parse_count, parse_seconds
from support.clock import FakeClock


def test_full_jitter_bounds() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, rng=random.Random(1))
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (10, 3.0), (10_000, 3.0)]:
        waits = [policy.backoff(failures) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling * 0.8  # full jitter spans the whole range


@pytest.mark.parametrize(
    ("text", "seconds", "count"),
    [
        ("3", 3.0, 3),
        (" 12 ", 12.0, 12),
        ("1.5", 1.5, None),
        ("-1", None, None),
        ("nan", None, None),
        ("inf", None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_header_parsing(text: str | None, seconds: float | None, count: int | None) -> None:
    assert parse_seconds(text) == seconds
    assert parse_count(text) == count


def test_fake_clock_wakes_sleepers_in_order() -> None:
    clock = FakeClock(start=0.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    async def go() -> None:
        await asyncio.gather(sleeper("long", 5), sleeper("short", 1), sleeper("mid", 3))

    asyncio.run(go())
    assert woke == [("short", 1.0), ("mid", 3.0), ("long", 5.0)]


def headers(limit: int, period: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-period": str(period),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-name": "bucket",
    }


def test_pacer_spaces_starts_once_the_limit_is_known() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock)

    async def go() -> list[float]:
        starts = []
        for _ in range(6):
            await limiter.acquire("GET collection")
            starts.append(clock.monotonic())
            limiter.observe("GET collection", headers(100, 10, 50, 5))
        return starts

    starts = asyncio.run(go())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps[0] == 0  # the first response taught the limit
    assert all(gap == pytest.approx(10 / 95) for gap in gaps[1:])


def test_exhausted_bucket_is_held_until_reset_and_others_are_not() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock)
    limiter.observe("GET collection", headers(5, 60, 0, 7))

    async def go() -> tuple[float, float]:
        await limiter.acquire("DELETE item")  # another operation: not held
        other = clock.monotonic()
        await limiter.acquire("GET collection")
        return other, clock.monotonic()

    assert asyncio.run(go()) == (0.0, 7.0)


def test_gate_pauses_every_operation() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock)

    async def go() -> list[float]:
        assert limiter.rate_limited("GET collection", 4.0) == 4.0
        times = []
        for operation in ("POST collection", "DELETE item"):
            await limiter.acquire(operation)
            times.append(clock.monotonic())
        return times

    assert asyncio.run(go()) == [4.0, 4.0]
