"""Counting the requests a server of a test's own has in flight at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class InFlight:
    """`with in_flight.request():` around a handler's work; `peak` is the most at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    @contextmanager
    def request(self) -> Iterator[None]:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            yield
        finally:
            self.now -= 1
