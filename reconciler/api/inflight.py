"""How many requests of one rate-limit bucket may be in flight at once.

A window per server-side bucket (named by `x-ratelimit-name`, the operation until the
server names it), shared by every request of one client:

- before the server has said anything, `INITIAL_WINDOW` requests;
- a response whose `x-ratelimit-limit` and `x-ratelimit-remaining` leave room opens the
  window to that room at once (never beyond `MAX_IN_FLIGHT`, the limit, or what is left of
  the server's window); without such headers it grows by one per success (slow start);
- a 429 halves it, and from then on it grows by one per window's worth of successes only;
- no request starts while as many are in flight as the last `x-ratelimit-remaining` said
  were left (each request in flight may not be counted in it yet); at least one may always
  be in flight: the rate limiter's hold, not this, waits out an exhausted window.

This module bounds the number in flight, and nothing else: whether a request is sent again
and how long to wait (backoff, `Retry-After`, `X-RateLimit-Reset`, the spacing of request
starts) are the rules of `retry`, applied by the loop in `retrying`. An explicit
`parallelism` is a hard maximum enforced by the callers' fan-out. All state changes happen
between awaits: asyncio tasks need no lock, and the order of grants is the order of
arrival, so tests under a fake clock are deterministic.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from reconciler.api.retry import parse_count

#: Requests of one bucket in flight before the server's headers have been seen.
INITIAL_WINDOW: Final = 4
#: Most requests in flight per bucket, whatever the headers allow; also the fan-out of
#: listing and apply when no `parallelism` is set (beyond it a 2-core client is CPU-bound).
MAX_IN_FLIGHT: Final = 64


def fan_out(parallelism: int | None) -> int:
    """Concurrent tasks for a user's `parallelism` (None: adaptive, up to MAX_IN_FLIGHT)."""
    return MAX_IN_FLIGHT if parallelism is None else max(1, parallelism)


@dataclass
class _Window:
    size: float = float(INITIAL_WINDOW)
    threshold: float = float(MAX_IN_FLIGHT)  # beyond it the window grows additively
    in_flight: int = 0
    remaining: float = math.inf  # what the server last said its window still admits
    merged_into: _Window | None = None
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    def live(self) -> _Window:
        window = self
        while window.merged_into is not None:
            window = window.merged_into
        return window

    def limit(self) -> int:
        """Requests that may be in flight now."""
        return max(1, int(min(self.size, MAX_IN_FLIGHT, self.remaining)))

    def wake(self) -> None:
        free = self.limit() - self.in_flight
        while free > 0 and self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1


@dataclass(frozen=True)
class Ticket:
    """One request in flight, in this window."""

    window: _Window


class InFlight:
    """The in-flight windows of one client's buckets."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}

    def _window(self, operation: str) -> _Window:
        window = self._windows.get(operation)
        if window is None:  # not setdefault: it would build a window on every call
            window = self._windows[operation] = _Window()
        return window.live()

    def limit(self, operation: str) -> int:
        """Requests of `operation` that may be in flight now (for tests and logs)."""
        return self._window(operation).limit()

    async def enter(self, operation: str) -> Ticket:
        """Wait for room in the operation's window; the caller must `leave` the ticket."""
        while True:
            window = self._window(operation)
            if window.in_flight < window.limit() and not window.waiters:
                break
            waiter = asyncio.get_running_loop().create_future()
            window.waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in window.waiters:
                    window.waiters.remove(waiter)
                window.wake()  # a grant this task will not use goes to the next one
                raise
            window = self._window(operation)
            if window.in_flight < window.limit():
                break
        window.in_flight += 1
        window.wake()
        return Ticket(window)

    def leave(
        self,
        ticket: Ticket,
        operation: str,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """The request ended: with `status` and `headers` when the server answered."""
        ticket.window.live().in_flight -= 1
        if headers is not None:
            self._learn(operation, status, headers)
        self._window(operation).wake()
        ticket.window.live().wake()

    def _learn(self, operation: str, status: int | None, headers: Mapping[str, str]) -> None:
        window = self._named(operation, headers)
        if status == 429:
            window.size = window.threshold = max(1.0, window.size / 2)
            window.remaining = 0
            return
        limit = parse_count(headers.get("x-ratelimit-limit"))
        remaining = parse_count(headers.get("x-ratelimit-remaining"))
        if remaining is not None:
            window.remaining = remaining
        if status is None or not 200 <= status < 300:
            return
        if window.size < window.threshold:
            room = window.size + 1
            if limit and remaining is not None:
                room = max(room, min(float(limit), window.remaining))
            window.size = min(room, window.threshold)
        else:
            window.size += 1 / window.size
        window.size = min(window.size, float(limit or MAX_IN_FLIGHT), float(MAX_IN_FLIGHT))

    def _named(self, operation: str, headers: Mapping[str, str]) -> _Window:
        """The window of the bucket the server names; an operation's own window is merged
        into it the first time (requests in flight and waiting move along)."""
        name = (headers.get("x-ratelimit-name") or "").strip()[:100]
        own = self._window(operation)
        if not name:
            return own
        named = self._windows.get("bucket " + name)
        if named is None:
            self._windows["bucket " + name] = own
            return own
        named = named.live()
        if named is not own:
            own.merged_into = named
            named.in_flight += own.in_flight
            named.waiters.extend(own.waiters)
            own.waiters.clear()
        return named
