"""The retry and backoff rules, all in one place: which outcomes are sent again, how long to
wait before the next attempt, and the caps on every wait.

- `RetryPolicy.retry`: whether an attempt that was not accepted is sent again, and after
  how long (429: the rate-limit reset; 5xx, 408, timeouts, connection errors: backoff; a
  write the server may have acted on is never sent again unless idempotent);
- `RetryPolicy.backoff` and `exponential`: the backoff formula (full jitter);
- `RetryPolicy.failure_wait`, `RetryPolicy.rate_limit_wait`: `Retry-After` and
  `X-RateLimit-Reset` after a failure or a 429;
- `RateLimiter`: the pacing of request starts by the server's rate-limit headers, and the
  gate a 429 closes for every request of the client;
- the caps: no single wait exceeds `RetryPolicy.max_wait` (60 s, `MAX_WAIT`), whatever the
  server's headers say (`X-RateLimit-Reset: 1000000000`, `X-RateLimit-Period: 1e9`); the
  waits of one operation are bounded by `RetryPolicy.max_total_wait`, its attempts by
  `max_attempts` and `max_rate_limit_retries`.

A new rule of whether or how long to wait goes here. The loop that applies these rules to
one operation (attempts, waits, the operation's bound and the run's deadline) is
`retrying.Retrying`; how many requests may be in flight at once is `inflight`'s.

The client runs many requests concurrently (asyncio tasks sharing one `ApiClient`), so the
rate-limit state is shared: one gate that every request awaits before sending (closed by a
429 so that all callers pause together), and one pacer per rate-limit bucket that spaces
request starts just under the advertised limit, so that a well-behaved run never meets a 429
at all. A caller that has less time left than a wait needs is told at once (`NoTimeToWait`)
instead of sleeping. Time comes from a `Clock` so that tests run every wait instantly
(`tests/support/clock.py` has the fake one).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from reconciler.api.transport import Outcome
from reconciler.core.deadline import DEFAULT_TIMEOUT

__all__ = ["DEFAULT_TIMEOUT", "MAX_WAIT"]

logger = logging.getLogger("reconciler.http")

#: The longest single wait of any kind (pacing, rate-limit reset, Retry-After, backoff).
MAX_WAIT: Final = 60.0
#: Shortest wait after a 429: a "0" reset must not become a hot loop.
MIN_RATE_LIMIT_WAIT: Final = 0.05


class Clock(Protocol):
    """Monotonic time and sleeping; the fake one in tests makes every wait instant."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def exponential(step: int, base: float, cap: float) -> float:
    """`base * 2**(step - 1)`, at most `cap`: `base` at step 1, doubling at each step."""
    exponent = min(max(step - 1, 0), 62)  # avoid float overflow on absurd counts
    return min(cap, base * (2.0**exponent))


@dataclass(frozen=True)
class Retry:
    """Send the attempt again after `wait` seconds."""

    wait: float
    #: A 429: the wait pauses every request of the client (`RateLimiter.rate_limited`),
    #: and counts against `max_rate_limit_retries` instead of `max_attempts`.
    rate_limited: bool


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of retrying one operation, and the rules of whether and how long to wait.

    `max_attempts` bounds attempts that met a transient failure (5xx, 408, timeout, connection
    error). 429s are bounded separately by `max_rate_limit_retries`: nothing was done, and
    waiting the advertised reset is the correct reaction however often it happens. Every
    wait of either kind counts against `max_total_wait` (seconds); a wait that would exceed it
    fails the operation at once instead of sleeping. No single wait exceeds `max_wait`.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 120.0
    max_wait: float = MAX_WAIT
    max_rate_limit_retries: int = 20
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def retry(
        self, outcome: Outcome, *, idempotent: bool, failures: int, rate_limited: int
    ) -> Retry | None:
        """Whether an attempt that was not accepted is sent again, and after how long; None:
        the operation fails with this outcome. `failures` and `rate_limited` count the
        operation's earlier transient failures and 429s."""
        if outcome.failure is None and outcome.status == 429:
            wait = self.rate_limit_wait(outcome.headers, rate_limited + 1)
            if rate_limited + 1 > self.max_rate_limit_retries:
                return None
            return Retry(wait, rate_limited=True)
        if not transient(outcome):
            return None
        if may_have_acted(outcome) and not idempotent:
            return None
        if failures + 1 >= self.max_attempts:
            return None
        return Retry(self.failure_wait(outcome.headers, failures + 1), rate_limited=False)

    def backoff(self, failures: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**(failures-1))]."""
        return self.rng.uniform(0.0, exponential(failures, self.base_delay, self.max_delay))

    def failure_wait(self, headers: Mapping[str, str], failures: int) -> float:
        """The wait after the `failures`-th transient failure: backoff, or the server's
        `Retry-After` when longer and within `max_delay` (beyond it, ignored)."""
        delay = self.backoff(failures)
        retry_after = parse_seconds(headers.get("retry-after"))
        if retry_after is not None and retry_after <= self.max_delay:
            delay = max(delay, retry_after)
        return min(delay, self.max_wait)

    def rate_limit_wait(self, headers: Mapping[str, str], count: int) -> float:
        """The wait after the `count`-th 429: `X-RateLimit-Reset`, else `Retry-After`, else
        backoff; at least MIN_RATE_LIMIT_WAIT, at most `max_wait`."""
        reset = parse_seconds(headers.get("x-ratelimit-reset"))
        if reset is None:
            reset = parse_seconds(headers.get("retry-after"))
        if reset is None:
            reset = self.backoff(count)
        return min(max(reset, MIN_RATE_LIMIT_WAIT), self.max_wait)


def transient(outcome: Outcome) -> bool:
    """A failure that another attempt may not meet: no answer, 408, or 5xx."""
    status = outcome.status or 0
    return outcome.failure is not None or status == 408 or status >= 500


def may_have_acted(outcome: Outcome) -> bool:
    """May the server have acted on the request? Yes unless it never got it, or it
    answered a definite refusal (4xx other than 408, which means it gave up reading)."""
    if outcome.failure is not None:
        return outcome.sent
    status = outcome.status or 0
    return not (400 <= status < 500 and status != 408)


def parse_seconds(value: str | None) -> float | None:
    """A non-negative number of seconds from a header, or None when absent or garbage."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # e.g. an HTTP date in Retry-After: ignored, backoff is used instead
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def parse_count(value: str | None) -> int | None:
    """A non-negative integer from a header, or None when absent or garbage."""
    seconds = parse_seconds(value)
    if seconds is None or seconds != int(seconds):
        return None
    return int(seconds)


#: Below this spacing pacing is pointless (the emulator advertises 1,000,000/s when unlimited).
MIN_PACING_INTERVAL = 0.001


@dataclass
class _Bucket:
    """What is known of one server-side rate-limit bucket."""

    interval: float = 0.0  # minimum spacing of request starts; 0 = unknown, no pacing
    next_start: float = -math.inf  # earliest start of the next request
    hold_until: float = -math.inf  # bucket exhausted until then
    period: float = 0.0
    limit: int = 0
    remaining: int | None = None
    # Latest send time of a request whose response has been seen.
    last_completed_sent_at: float = -math.inf
    # Bounds (lo, hi] on the end of one fixed window, in clock time; None until known.
    window_end: tuple[float, float] | None = None

    def end_of_window(
        self, sent_at: float, received_at: float, reset: float, first_after: float | None
    ) -> float:
        """An upper bound on when the window that counted this request ends.

        Servers send `reset` rounded up to whole seconds, so a response alone only says the
        window ends within (sent_at + reset - 1, received_at + reset]: with a 1 s period,
        nothing. A request that was first in its window (remaining == limit - 1) says more:
        the window began after `first_after` (the send time of a request already answered
        when this one was sent) and before the answer. Fixed windows repeat every `period`,
        so such bounds, shifted by whole periods, intersect to a narrow interval: holding
        an exhausted bucket until its upper end instead of a full rounded-up `reset` keeps
        throughput near the limit. When anything is ambiguous, the plain bound is used.
        """
        lo, hi = sent_at + reset - 1.0, received_at + reset
        period = self.period
        if period <= 0:
            return hi
        if first_after is not None and first_after > -math.inf:
            lo, hi = max(lo, first_after + period), min(hi, received_at + period)
            if lo >= hi:  # inconsistent: the windows are not what we assume
                self.window_end = None
                return received_at + reset
        if self.window_end is None:
            if hi - lo < period / 2:
                self.window_end = (lo, hi)
            return hi
        known_lo, known_hi = self.window_end
        base = round(((lo + hi) - (known_lo + known_hi)) / 2 / period)
        overlaps = []
        for k in (base - 1, base, base + 1):
            new_lo, new_hi = max(lo, known_lo + k * period), min(hi, known_hi + k * period)
            if new_lo < new_hi:
                overlaps.append((new_lo, new_hi))
        if len(overlaps) == 1:
            self.window_end = overlaps[0]
            return overlaps[0][1]
        if not overlaps:  # the windows moved: start over from this response
            self.window_end = (lo, hi) if hi - lo < period / 2 else None
        return hi


class NoTimeToWait(Exception):
    """The wait a request needs before it may start is longer than the time it has left."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"{seconds:.1f} s")
        self.seconds = seconds


class RateLimiter:
    """Shared by every request of one client: the 429 gate and the per-bucket pacers.

    Buckets are named by the server's `x-ratelimit-name` header; before the first response
    of an operation is seen, the operation key (method and path template) stands in.
    All state changes happen between awaits, so asyncio tasks need no lock.
    """

    def __init__(
        self, clock: Clock, *, pace_fraction: float = 0.95, max_wait: float = MAX_WAIT
    ) -> None:
        self._clock = clock
        self._pace_fraction = pace_fraction
        self._max_wait = max_wait
        self._resume_at = -math.inf
        self._bucket_of: dict[str, str] = {}
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, operation: str) -> _Bucket | None:
        return self._buckets.get(self._bucket_of.get(operation, operation))

    def _wait(self, until: float, limit: float | None) -> float:
        """Seconds to sleep to reach `until` (each source of `until` is capped at max_wait
        where it is learnt); NoTimeToWait when the caller must have started by `limit`
        (clock time) and cannot."""
        now = self._clock.monotonic()
        seconds = until - now
        if limit is not None and now + seconds > limit:
            raise NoTimeToWait(seconds)
        return seconds

    async def acquire(self, operation: str, limit: float | None = None) -> None:
        """Wait until a request of `operation` may start: gate open, bucket not exhausted,
        and its pacing slot reached. `limit`: the clock time by which it must start."""
        while True:
            now = self._clock.monotonic()
            if self._resume_at > now:
                await self._clock.sleep(self._wait(self._resume_at, limit))
                continue
            bucket = self._bucket(operation)
            if bucket is None:
                return
            if bucket.hold_until > now:
                await self._clock.sleep(self._wait(bucket.hold_until, limit))
                continue
            slot = max(now, bucket.next_start)
            if slot <= now:
                bucket.next_start = slot + bucket.interval
                return
            seconds = self._wait(slot, limit)
            bucket.next_start = slot + bucket.interval
            await self._clock.sleep(seconds)
            # The gate or the bucket may have closed while this task waited for its slot.
            now = self._clock.monotonic()
            if self._resume_at <= now and bucket.hold_until <= now:
                return

    def completed_before(self, operation: str) -> float:
        """Latest send time of an answered request of this operation's bucket; captured
        when sending, handed back to `observe`."""
        bucket = self._bucket(operation)
        return -math.inf if bucket is None else bucket.last_completed_sent_at

    def observe(
        self,
        operation: str,
        headers: Mapping[str, str],
        sent_at: float | None = None,
        completed_before: float | None = None,
    ) -> None:
        """Learn from one response's rate-limit headers (garbage or missing ones ignored;
        absurd ones capped: no wait they imply exceeds max_wait). `sent_at` is the clock
        time the request was sent (default: now); `completed_before` what
        `completed_before()` said then."""
        name = (headers.get("x-ratelimit-name") or "").strip()[:100] or operation
        self._bucket_of[operation] = name
        bucket = self._buckets.setdefault(name, _Bucket())
        limit = parse_count(headers.get("x-ratelimit-limit"))
        period = parse_seconds(headers.get("x-ratelimit-period"))
        if limit and period:
            interval = min(period / (self._pace_fraction * limit), self._max_wait)
            bucket.interval = interval if interval >= MIN_PACING_INTERVAL else 0.0
            bucket.period = period
            bucket.limit = limit
        remaining = parse_count(headers.get("x-ratelimit-remaining"))
        if remaining is not None:
            bucket.remaining = remaining
        reset = parse_seconds(headers.get("x-ratelimit-reset"))
        now = self._clock.monotonic()
        sent = now if sent_at is None else sent_at
        bucket.last_completed_sent_at = max(bucket.last_completed_sent_at, sent)
        if reset is None:
            return
        first = bucket.limit > 0 and remaining == bucket.limit - 1
        end = bucket.end_of_window(sent, now, reset, completed_before if first else None)
        end = min(end, now + self._max_wait)
        if remaining == 0 and end > bucket.hold_until:
            bucket.hold_until = end
            logger.debug("rate limit %s exhausted: holding it for %.2f s", name, end - now)

    def rate_limited(self, operation: str, seconds: float) -> float:
        """A 429: close the shared gate for `seconds` (the caller caps them at max_wait and
        counts them against its bounds) and forget the window estimate (it failed); returns
        when the gate opens (clock time)."""
        bucket = self._bucket(operation)
        if bucket is not None:
            bucket.window_end = None
        until = self._clock.monotonic() + seconds
        self._resume_at = max(self._resume_at, until)
        if bucket is not None:
            bucket.hold_until = max(bucket.hold_until, until)
        return self._resume_at


def look_again_delay(look: int, remaining: float) -> float:
    """The pause before `look` (1, 2, ...), a new look at a listing that may not show a
    write yet: 0.25 s, doubling up to 2 s, never past the `remaining` seconds of the
    consistency window. No jitter: the server is not failing, the listing lags."""
    return min(exponential(look, 0.25, 2.0), remaining)
