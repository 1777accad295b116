"""Virtual time for tests (the product's `retry.Clock` protocol)."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class FakeClock:
    """Virtual time for tests: `sleep` returns at once, moving time forward.

    Concurrent sleepers wake in order of their wake-up time, as they would on a real clock:
    a sleeper first lets every other runnable task run (so that they can register their own
    sleeps), and only the earliest registered sleeper advances time. Every requested sleep is
    recorded in `sleeps` so that tests can assert on waits.
    """

    def __init__(self, start: float = 1000.0, *, settle_rounds: int = 5) -> None:
        self._now = start
        self._settle_rounds = settle_rounds
        self._waiters: list[tuple[float, int]] = []
        self._seq = itertools.count()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        entry = (self._now + seconds, next(self._seq))
        heapq.heappush(self._waiters, entry)
        try:
            while True:
                for _ in range(self._settle_rounds):
                    await asyncio.sleep(0)
                if self._waiters and self._waiters[0] == entry:
                    heapq.heappop(self._waiters)
                    self._now = max(self._now, entry[0])
                    return
        except BaseException:
            if entry in self._waiters:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
            raise
