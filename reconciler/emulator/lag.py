"""Listing lag: a write shows in listings only `list_lag_ms` after its commit.

Each write is recorded with its commit time (on `settings.clock`) and the version it
replaced (None for a create). A listing at time `now` shows every snapshot as it was at
`now - lag`: a snapshot created later is hidden, one deleted later still appears, one patched
later appears with its old attributes. Records older than the lag are dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Json = dict[str, Any]


class ListingLag:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[tuple[float, str, Json | None]] = []

    def reset(self) -> None:
        with self._lock:
            self._records.clear()

    def record(self, now: float, snapshot_id: str, previous: Json | None) -> None:
        with self._lock:
            self._records.append((now, snapshot_id, previous))

    def versions_at(self, cutoff: float) -> dict[str, Json | None]:
        """Snapshot id -> the version listings show (None: not yet visible), for every
        snapshot written after `cutoff`; forgets the older records."""
        with self._lock:
            self._records = [record for record in self._records if record[0] > cutoff]
            shown: dict[str, Json | None] = {}
            for _, snapshot_id, previous in self._records:
                shown.setdefault(snapshot_id, previous)  # the earliest write after cutoff
            return shown

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


def lagged(
    current: list[Json],
    shown: dict[str, Json | None],
    matches: Callable[[Json], bool],
    limit: int,
) -> list[Json]:
    """The listing as of the cutoff: `current` (the store's answer for up to limit +
    len(shown) items) with lagging versions swapped in, sorted as the store sorts, cut."""
    result = [item for item in current if item["id"] not in shown]
    result += [version for version in shown.values() if version is not None and matches(version)]
    result.sort(key=lambda item: (item["attributes"]["created_at"], item["id"]))
    return result[:limit]
