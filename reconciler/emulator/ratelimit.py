"""Fixed-window rate limits per operation, with Datadog's X-RateLimit-* headers."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

# Advertised in unlimited mode, so clients always find the headers.
UNLIMITED = 1_000_000


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """Windows are aligned on multiples of the period on the given clock: window n covers
    [n * period, (n + 1) * period). `x-ratelimit-reset` is the time left in the current
    window rounded up, so it is always between 1 and period: a client that sleeps that long
    always lands in a fresh window."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # bucket name -> (window index, requests counted in it)
        self._windows: dict[str, tuple[int, int]] = {}

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def check(self, name: str, limit: int | None, period: int, consume: bool = True) -> Verdict:
        """Count one request in the bucket `name` (unless consume is False, as for a request
        refused before the limit applies) and say whether it is within the limit."""
        period = max(1, period)
        now = self._clock()
        window = math.floor(now / period)
        with self._lock:
            current, used = self._windows.get(name, (window, 0))
            if current != window:
                used = 0
            allowed = limit is None or used < limit
            if consume and allowed:
                used += 1
            self._windows[name] = (window, used)
        advertised = UNLIMITED if limit is None else limit
        reset = max(1, math.ceil((window + 1) * period - now))
        headers = {
            "x-ratelimit-limit": str(advertised),
            "x-ratelimit-period": str(period),
            "x-ratelimit-remaining": str(max(0, advertised - used)),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-name": name,
        }
        return Verdict(allowed=allowed, headers=headers)
