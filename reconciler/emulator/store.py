"""SQLite persistence of snapshots: the emulator's only state that survives a restart."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.attributes import ITEM_ATTRIBUTES

Json = dict[str, Any]

# Order matters: _row_to_data reads rows positionally (faster than sqlite3.Row).
_COLUMNS = ("id", *ITEM_ATTRIBUTES)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM snapshots"  # noqa: S608 - constant column list
_INSERT = (
    f"INSERT INTO snapshots ({', '.join(_COLUMNS)}) "  # noqa: S608 - constant column list
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
# Stable order: creation time, then id for snapshots created in the same millisecond.
_ORDER = " ORDER BY created_at, id"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    view_name TEXT NOT NULL,
    device_type TEXT NOT NULL,
    snapshot_name TEXT NOT NULL,
    event_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    is_device_type_selected_by_user INTEGER NOT NULL,
    session_id TEXT,
    view_id TEXT,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_by_handle TEXT NOT NULL,
    created_by_user_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL
);
-- The list endpoint always filters on view_name, usually on application_id too, and sorts
-- by created_at, id: this index answers it without a sort.
CREATE INDEX IF NOT EXISTS snapshots_by_view
    ON snapshots (view_name, application_id, created_at, id);
"""

# Fields a PATCH may set (the rest of the attributes are fixed at creation).
UPDATABLE = ("event_id", "start", "is_device_type_selected_by_user", "session_id", "view_id")


@dataclass(frozen=True)
class Owner:
    """Server fields stamped on each snapshot at creation."""

    created_by: str
    created_by_handle: str
    created_by_user_id: int
    org_id: int


def format_timestamp(ms: int) -> str:
    """ISO-8601 UTC with milliseconds and Z, as Datadog answers: 2026-11-26T15:30:47.123Z."""
    seconds, millis = divmod(ms, 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{millis:03d}Z"


def _row_to_data(row: Sequence[Any]) -> Json:
    attributes: Json = {
        "application_id": row[1],
        "view_name": row[2],
        "device_type": row[3],
        "snapshot_name": row[4],
        "event_id": row[5],
        "start": row[6],
        "is_device_type_selected_by_user": bool(row[7]),
    }
    # Optional fields are omitted when unset: the API never sends null.
    if row[8] is not None:
        attributes["session_id"] = row[8]
    if row[9] is not None:
        attributes["view_id"] = row[9]
    attributes["created_at"] = format_timestamp(row[10])
    attributes["modified_at"] = format_timestamp(row[11])
    attributes["created_by"] = row[12]
    attributes["created_by_handle"] = row[13]
    attributes["created_by_user_id"] = row[14]
    attributes["org_id"] = row[15]
    return {"id": row[0], "type": "snapshots", "attributes": attributes}


def list_query(
    view_name: str, application_id: str | None, device_type: str | None, limit: int
) -> tuple[str, list[Any]]:
    """The SQL of a listing and its parameters: answered by the index, without a sort."""
    where = ["view_name = ?"]
    params: list[Any] = [view_name]
    if application_id is not None:
        where.append("application_id = ?")
        params.append(application_id)
    if device_type is not None:
        where.append("device_type = ?")
        params.append(device_type)
    params.append(min(limit, 2**63 - 1))  # SQLite's integers are 64-bit
    return f"{_SELECT} WHERE {' AND '.join(where)}{_ORDER} LIMIT ?", params


class SnapshotStore:
    """Snapshots in SQLite. One connection guarded by a lock: the app runs on one event loop
    but tests and admin helpers may call in from other threads."""

    def __init__(self, db_path: str = ":memory:") -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        if db_path != ":memory:":
            # WAL + NORMAL: durable across a clean restart and much faster per commit.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT MAX(MAX(created_at), MAX(modified_at)) FROM snapshots")
        last = row.fetchone()[0]
        self._last_ms: int = int(last) if last is not None else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _next_ms(self, wall_ms: int) -> int:
        # Strictly increasing timestamps: list order (created_at, id) is then creation order,
        # so "the oldest duplicate" is well defined even for creates within one millisecond.
        self._last_ms = max(wall_ms, self._last_ms + 1)
        return self._last_ms

    def query(
        self,
        view_name: str,
        application_id: str | None,
        device_type: str | None,
        limit: int,
    ) -> list[Json]:
        sql, params = list_query(view_name, application_id, device_type, limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [_row_to_data(row) for row in rows]

    def get(self, snapshot_id: str) -> Json | None:
        with self._lock:
            row = self._db.execute(_SELECT + " WHERE id = ?", (snapshot_id,)).fetchone()
        return None if row is None else _row_to_data(row)

    def all(self) -> list[Json]:
        with self._lock:
            rows = self._db.execute(_SELECT + _ORDER).fetchall()
        return [_row_to_data(row) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0])

    def _new_row(
        self, attributes: Mapping[str, Any], owner: Owner, created_ms: int, modified_ms: int
    ) -> tuple[Any, ...]:
        return (
            str(uuid.uuid4()),
            attributes["application_id"],
            attributes["view_name"],
            attributes["device_type"],
            attributes["snapshot_name"],
            attributes["event_id"],
            attributes["start"],
            int(attributes["is_device_type_selected_by_user"]),
            attributes.get("session_id"),
            attributes.get("view_id"),
            created_ms,
            modified_ms,
            owner.created_by,
            owner.created_by_handle,
            owner.created_by_user_id,
            owner.org_id,
        )

    def create(self, attributes: Mapping[str, Any], owner: Owner, wall_ms: int) -> Json:
        with self._lock:
            now = self._next_ms(wall_ms)
            row = self._new_row(attributes, owner, now, now)
            self._db.execute(_INSERT, row)
        return _row_to_data(row)

    def seed(
        self,
        items: Iterable[tuple[Mapping[str, Any], int | None, int | None]],
        owner: Owner,
        wall_ms: int,
    ) -> list[Json]:
        """Insert many snapshots in one transaction; each item carries optional explicit
        created_at / modified_at (ms) so tests can make some snapshots older than others."""
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for attributes, created_ms, modified_ms in items:
                created = created_ms if created_ms is not None else self._next_ms(wall_ms)
                modified = modified_ms if modified_ms is not None else created
                self._last_ms = max(self._last_ms, created, modified)
                rows.append(self._new_row(attributes, owner, created, modified))
            self._db.execute("BEGIN")
            try:
                self._db.executemany(_INSERT, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return [_row_to_data(row) for row in rows]

    def update(self, snapshot_id: str, attributes: Mapping[str, Any], wall_ms: int) -> Json | None:
        """Set the given updatable attributes (absent ones are left as they are)."""
        fields = [name for name in UPDATABLE if name in attributes]
        values: list[Any] = [
            int(attributes[name]) if name == "is_device_type_selected_by_user" else attributes[name]
            for name in fields
        ]
        assignments = [f"{name} = ?" for name in fields]
        with self._lock:
            exists = self._db.execute("SELECT 1 FROM snapshots WHERE id = ?", (snapshot_id,))
            if exists.fetchone() is None:
                return None
            assignments.append("modified_at = ?")
            values.append(self._next_ms(wall_ms))
            values.append(snapshot_id)
            sql = f"UPDATE snapshots SET {', '.join(assignments)} WHERE id = ?"  # noqa: S608
            self._db.execute(sql, values)
            row = self._db.execute(_SELECT + " WHERE id = ?", (snapshot_id,)).fetchone()
        return _row_to_data(row)

    def delete(self, snapshot_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM snapshots WHERE id = ?", (snapshot_id,))
        return cursor.rowcount > 0

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM snapshots")
            self._last_ms = 0
