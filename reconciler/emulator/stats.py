"""Counters exposed by GET /_emulator/stats, for tests and benches to assert on."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            # operation -> status (or "dropped") -> count
            self._requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
            self._committed: Counter[str] = Counter()
            self._total = 0

    def request(self, operation: str, outcome: int | str) -> None:
        with self._lock:
            self._requests[operation][str(outcome)] += 1
            self._total += 1

    def committed(self, operation: str) -> None:
        with self._lock:
            self._committed[operation] += 1

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {op: dict(counts) for op, counts in sorted(self._requests.items())},
                "committed": {op: self._committed[op] for op in ("create", "update", "delete")},
                "total_requests": self._total,
            }
