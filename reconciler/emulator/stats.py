"""Counters exposed by GET /_emulator/stats, for tests and benches to assert on."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, defaultdict
from typing import Any

#: Counters of injected faults, always all present in `faults` (0 when none happened).
FAULTS = (
    "server_errors",
    "drops_after_commit",
    "lagged_listings",
    "repeated_ids_same",
    "repeated_ids_renamed",
    "creates_without_id",
    "creates_empty_body",
    "concurrent_writes",
)


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            # operation -> status (or "dropped") -> count
            self._requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
            self._committed: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._total = 0
            # SHA-256 of each key received (never the key): which keys reached this host.
            self._keys: Counter[str] = Counter()

    def request(self, operation: str, outcome: int | str) -> None:
        with self._lock:
            self._requests[operation][str(outcome)] += 1
            self._total += 1

    def keys(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                if key:
                    self._keys[key_digest(key)] += 1

    def committed(self, operation: str) -> None:
        with self._lock:
            self._committed[operation] += 1

    def fault(self, name: str) -> None:
        assert name in FAULTS, name
        with self._lock:
            self._faults[name] += 1

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {op: dict(counts) for op, counts in sorted(self._requests.items())},
                "committed": {op: self._committed[op] for op in ("create", "update", "delete")},
                "total_requests": self._total,
                "faults": {name: self._faults[name] for name in FAULTS},
                "keys_sha256": dict(sorted(self._keys.items())),
            }


def key_digest(key: str) -> str:
    """How `keys_sha256` names a key it received: a test compares its own keys' digests."""
    return hashlib.sha256(key.encode()).hexdigest()
