"""retry.py units: which outcomes are retried and after how long, backoff bounds, header
parsing, the fake clock, the rate limiter."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from reconciler.api.retry import (
    MIN_RATE_LIMIT_WAIT,
    RateLimiter,
    Retry,
    RetryPolicy,
    exponential,
    parse_count,
    parse_seconds,
)
from reconciler.api.transport import Outcome
from support.clock import FakeClock


def test_full_jitter_bounds() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, rng=random.Random(1))
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (10, 3.0), (10_000, 3.0)]:
        waits = [policy.backoff(failures) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling * 0.8  # full jitter spans the whole range


@pytest.mark.parametrize(
    ("step", "delay"), [(0, 0.25), (1, 0.25), (2, 0.5), (3, 1.0), (4, 2.0), (5, 2.0), (10**6, 2.0)]
)
def test_exponential_doubles_from_base_up_to_the_cap(step: int, delay: float) -> None:
    assert exponential(step, 0.25, 2.0) == delay


def answer(status: int, **headers: str) -> Outcome:
    return Outcome(status, headers, b"")


def failure(*, sent: bool) -> Outcome:
    return Outcome(None, {}, b"", "connection error", sent=sent)


def verdict(outcome: Outcome, *, idempotent: bool = True, failures: int = 0) -> Retry | None:
    policy = RetryPolicy(rng=random.Random(2))
    return policy.retry(outcome, idempotent=idempotent, failures=failures, rate_limited=0)


@pytest.mark.parametrize(
    ("outcome", "idempotent", "retried"),
    [
        (answer(503), True, True),
        (answer(500), True, True),
        (answer(408), True, True),
        (answer(408), False, False),  # it may have read the request before giving up
        (failure(sent=True), True, True),
        (failure(sent=False), False, True),  # never reached the server: even a create
        (answer(503), False, False),  # a create the server may have made
        (failure(sent=True), False, False),
        (answer(400), True, False),
        (answer(404), True, False),
        (answer(302, location="https://elsewhere.example"), True, False),
    ],
)
def test_which_outcomes_are_sent_again(outcome: Outcome, idempotent: bool, retried: bool) -> None:
    retry = verdict(outcome, idempotent=idempotent)
    assert (retry is not None) == retried
    if retry is not None:
        assert not retry.rate_limited
        assert 0 <= retry.wait <= 0.5  # the first backoff, full jitter


def test_transient_failures_stop_at_max_attempts() -> None:
    assert verdict(answer(503), failures=3) is not None  # the 5th attempt is still allowed
    assert verdict(answer(503), failures=4) is None


def test_retry_after_lengthens_a_backoff_up_to_max_delay() -> None:
    assert verdict(answer(503, **{"retry-after": "7"})) == Retry(7.0, rate_limited=False)
    beyond = verdict(answer(503, **{"retry-after": "31"}))  # past max_delay: ignored
    assert beyond is not None
    assert beyond.wait <= 0.5


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"x-ratelimit-reset": "3", "retry-after": "9"}, 3.0),
        ({"retry-after": "9"}, 9.0),
        ({"x-ratelimit-reset": "0"}, MIN_RATE_LIMIT_WAIT),
        ({"x-ratelimit-reset": "1e9"}, 60.0),
    ],
)
def test_a_429_waits_the_reset_capped(headers: dict[str, str], wait: float) -> None:
    # Not idempotent: a 429 did nothing, so even a create is sent again.
    assert verdict(answer(429, **headers), idempotent=False) == Retry(wait, rate_limited=True)


def test_a_429_without_headers_backs_off_and_429s_are_bounded_apart() -> None:
    policy = RetryPolicy(rng=random.Random(2), max_rate_limit_retries=3)
    outcome = answer(429)
    retry = policy.retry(outcome, idempotent=True, failures=4, rate_limited=2)
    assert retry is not None
    assert retry.rate_limited
    assert MIN_RATE_LIMIT_WAIT <= retry.wait <= 2.0  # the third backoff, full jitter
    assert policy.retry(outcome, idempotent=True, failures=0, rate_limited=3) is None


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
