"""The retry loop of one API operation: it applies the rules of `retry`, and decides none of
its own. Per attempt: a place in the bucket's in-flight window (`inflight`), pacing
(`retry.RateLimiter`), one exchange (`transport`); then the wait `RetryPolicy.retry` asks
for, or the operation's final error.

Whether an outcome is retried and how long to wait is `retry`'s (a new retry rule goes
there). What is this loop's: counting the attempts and waits of one operation, bounding it
by `Timeouts.operation` (every attempt and every wait) and by `RetryPolicy.max_total_wait`
(every wait), and cutting every attempt and every wait at the run's `deadline` (clock
time): when it passes, `DeadlineExceeded` is raised, or `AmbiguousWrite` when a write may
have reached the server.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

from reconciler.api.errors import AmbiguousWrite, ApiError, DeadlineExceeded, error_for_status
from reconciler.api.inflight import InFlight
from reconciler.api.responses import error_messages
from reconciler.api.retry import Clock, NoTimeToWait, RateLimiter, RetryPolicy, may_have_acted
from reconciler.api.transport import Exchange, Outcome, Timeouts

logger = logging.getLogger("reconciler.http")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    target: str  # path and query, for messages and logs
    operation: str  # rate-limit key until the server names the bucket
    query: str  # encoded, without "?"; "" for none
    content: bytes | None
    idempotent: bool
    ok: tuple[int, ...]

    @property
    def write(self) -> bool:
        return self.method != "GET"


@dataclass
class _Progress:
    """One operation's retries so far, and the clock time it must end by."""

    ends: float
    attempts: int = 0
    failures: int = 0
    rate_limited: int = 0
    waited: float = 0.0
    maybe_committed: bool = False  # a write attempt that the server may have acted on


class Retrying:
    """Sends requests with retries, shared rate limiting and time bounds. One per client,
    shared by all its concurrent operations; `request_count` counts every HTTP attempt."""

    def __init__(
        self,
        exchange: Exchange,
        *,
        host: str,
        retry: RetryPolicy,
        clock: Clock,
        timeouts: Timeouts,
        deadline: float | None,
    ) -> None:
        self._exchange = exchange
        self._host = host
        self._retry = retry
        self._clock = clock
        self._limiter = RateLimiter(clock, max_wait=retry.max_wait)
        self.in_flight = InFlight()
        self._timeouts = timeouts
        self._deadline = math.inf if deadline is None else deadline
        self.request_count = 0

    async def call(self, request: Request) -> tuple[Outcome, int]:
        """Send with retries; return the accepted outcome and the number of attempts."""
        operation_budget = self._timeouts.operation
        started = self._clock.monotonic()
        ends = math.inf if operation_budget is None else started + operation_budget
        progress = _Progress(ends=ends)
        while True:
            outcome = await self._in_window(request, progress)
            if outcome.failure is None and outcome.status in request.ok:
                return outcome, progress.attempts
            await self._before_retry(request, outcome, progress)

    async def _in_window(self, request: Request, progress: _Progress) -> Outcome:
        """Pacing and one attempt, within the bucket's in-flight window (which learns from
        the answer)."""
        ticket = await self.in_flight.enter(request.operation)
        outcome: Outcome | None = None
        try:
            await self._pace(request, progress)
            outcome = await self._attempt(request, progress)
            return outcome
        finally:
            answered = outcome is not None and outcome.failure is None
            self.in_flight.leave(
                ticket,
                request.operation,
                outcome.status if outcome is not None and answered else None,
                outcome.headers if outcome is not None and answered else None,
            )

    async def _pace(self, request: Request, progress: _Progress) -> None:
        """The shared gate and pacer, within the time the operation has left."""
        try:
            await self._limiter.acquire(request.operation, min(progress.ends, self._deadline))
        except NoTimeToWait as exc:
            self._out_of_time(request, progress, f"a rate-limit wait of {exc.seconds:.1f} s")

    async def _attempt(self, request: Request, progress: _Progress) -> Outcome:
        """One exchange, cut to the time left; logged at -v."""
        now = self._clock.monotonic()
        left = min(progress.ends, self._deadline) - now
        if left <= 0:
            self._out_of_time(request, progress, "another attempt" if progress.attempts else "it")
        total = self._timeouts.total
        limit = None if math.isinf(left) and total is None else min(total or math.inf, left)
        progress.attempts += 1
        self.request_count += 1
        completed_before = self._limiter.completed_before(request.operation)
        started = time.perf_counter()
        outcome = await self._exchange.send(
            request.method, request.path, request.query, request.content, limit=limit
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        self._limiter.observe(request.operation, outcome.headers, now, completed_before)
        status_text = str(outcome.status) if outcome.failure is None else outcome.failure
        suffix = f" (attempt {progress.attempts})" if progress.attempts > 1 else ""
        logger.info(
            "%s %s %s %.0f ms%s", request.method, request.target, status_text, elapsed_ms, suffix
        )
        if request.write and may_have_acted(outcome):
            progress.maybe_committed = True
        if outcome.timed_out and (total is None or left < total):
            self._out_of_time(request, progress, "the answer", outcome)
        return outcome

    async def _before_retry(self, request: Request, outcome: Outcome, progress: _Progress) -> None:
        """Wait before the next attempt, or raise the operation's final error."""
        retry = self._retry.retry(
            outcome,
            idempotent=request.idempotent,
            failures=progress.failures,
            rate_limited=progress.rate_limited,
        )
        if retry is None:
            raise self._error(request, outcome, progress.attempts)
        if retry.rate_limited:
            progress.rate_limited += 1
            self._reserve(request, outcome, progress, retry.wait)
            resume = self._limiter.rate_limited(request.operation, retry.wait)
            logger.info(
                "rate limited (429 on %s %s): all requests paused for %.1f s",
                request.method,
                request.path,
                resume - self._clock.monotonic(),
            )
            return  # the gate in `acquire` does the waiting, for every caller at once
        progress.failures += 1
        self._reserve(request, outcome, progress, retry.wait)
        logger.info(
            "retrying in %.1f s (%s, attempt %d/%d)",
            retry.wait,
            outcome.failure or outcome.status,
            progress.failures + 1,
            self._retry.max_attempts,
        )
        await self._clock.sleep(retry.wait)

    def _reserve(
        self, request: Request, outcome: Outcome, progress: _Progress, wait: float
    ) -> None:
        """Count `wait` against the operation's bounds, or raise when it does not fit."""
        if progress.waited + wait > self._retry.max_total_wait:
            raise self._error(request, outcome, progress.attempts)
        if self._clock.monotonic() + wait > min(progress.ends, self._deadline):
            self._out_of_time(request, progress, f"a wait of {wait:.1f} s", outcome)
        progress.waited += wait

    # -- errors ----------------------------------------------------------------------------

    def _out_of_time(
        self, request: Request, progress: _Progress, needed: str, outcome: Outcome | None = None
    ) -> NoReturn:
        """The run's deadline, or the operation's own bound, leaves no time for `needed`."""
        if self._deadline <= progress.ends:
            kind: type[ApiError] = AmbiguousWrite if progress.maybe_committed else DeadlineExceeded
            reason = f"run deadline reached (--timeout): no time left for {needed}"
            if progress.maybe_committed:
                reason += "; the server may have acted on it"
            raise kind(
                request.method, request.target, None, reason=reason, attempts=progress.attempts
            )
        if outcome is not None and not outcome.timed_out:
            raise self._error(request, outcome, progress.attempts)
        budget = self._timeouts.operation
        kind = error_for_status(None, write=request.write, sent=progress.maybe_committed)
        reason = f"gave up after {budget:g} s (the operation's time bound): no time for {needed}"
        raise kind(request.method, request.target, None, reason=reason, attempts=progress.attempts)

    def _error(self, request: Request, outcome: Outcome, attempts: int) -> ApiError:
        method, target = request.method, request.target
        if outcome.failure is not None:
            kind = error_for_status(None, write=request.write, sent=outcome.sent)
            return kind(method, target, None, reason=outcome.failure, attempts=attempts)
        status = outcome.status or 0
        reason = None
        messages = error_messages(outcome.body)
        if 300 <= status < 400:
            host = self._redirect_host(outcome.headers.get("location", ""))
            reason = (
                f"unexpected redirect to {host}; refusing to follow: "
                "keys must not be sent elsewhere"
            )
            messages = ()
        kind = error_for_status(status, write=request.write)
        return kind(method, target, status, messages, reason=reason, attempts=attempts)

    def _redirect_host(self, location: str) -> str:
        """Where a refused redirect pointed, for the message; the header is the server's text."""
        if not location:
            return "nowhere"
        try:
            return urlsplit(location).hostname or self._host
        except ValueError:  # an unbalanced "[" or "]" is no URL ("Invalid IPv6 URL")
            return "an address that is no URL"
