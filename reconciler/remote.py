"""What exists remotely: one list call per managed (application, view), concurrently.

The filters are not trusted: items that do not match the view asked for are dropped. The
API has no cursor, so a listing that fills the page may be truncated: that view becomes an
error and is never planned on (a missing snapshot would otherwise be re-created, or a
present one deleted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler import resource
from reconciler.fingerprint import view_fingerprint
from reconciler.model import (
    FieldValue,
    ListedView,
    RemoteSnapshot,
    SnapshotKey,
    ViewError,
    ViewScope,
)

log = logging.getLogger("reconciler.remote")

#: The page size the real API is assumed to cap at. A listing of exactly this many items
#: is suspect even when page_limit is larger: the server may have cut it.
ASSUMED_SERVER_PAGE_CAP = 1000


class SnapshotLister(Protocol):
    async def list_snapshots(
        self, application_id: str, view_name: str, limit: int
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Listing:
    """Remote snapshots of each listed view, plus the views that failed."""

    snapshots: Mapping[ViewScope, tuple[RemoteSnapshot, ...]] = field(default_factory=dict)
    views: tuple[ListedView, ...] = ()
    errors: tuple[ViewError, ...] = ()

    @property
    def counts(self) -> dict[ViewScope, int]:
        return {scope: len(snapshots) for scope, snapshots in self.snapshots.items()}


async def list_views(
    client: SnapshotLister,
    scopes: Sequence[ViewScope],
    *,
    page_limit: int,
    parallelism: int,
    is_fatal: type[BaseException] | tuple[type[BaseException], ...] = (),
) -> Listing:
    """List every scope, at most `parallelism` at once. Errors of type `is_fatal` propagate."""
    gate = asyncio.Semaphore(max(1, parallelism))

    async def one(scope: ViewScope) -> tuple[ViewScope, tuple[RemoteSnapshot, ...] | ViewError]:
        async with gate:
            try:
                items = await client.list_snapshots(
                    scope.application_id, scope.view_name, page_limit
                )
            except is_fatal:
                raise
            except Exception as exc:  # one view's failure must not sink the others
                return scope, ViewError(scope, str(exc))
        return scope, _snapshots_or_error(scope, items, page_limit)

    results = await asyncio.gather(*(one(scope) for scope in sorted(set(scopes))))
    snapshots: dict[ViewScope, tuple[RemoteSnapshot, ...]] = {}
    views: list[ListedView] = []
    errors: list[ViewError] = []
    for scope, outcome in results:
        if isinstance(outcome, ViewError):
            errors.append(outcome)
            continue
        snapshots[scope] = outcome
        views.append(ListedView(scope, len(outcome), view_fingerprint(outcome)))
    return Listing(snapshots, tuple(views), tuple(errors))


def _snapshots_or_error(
    scope: ViewScope, items: list[dict[str, Any]], page_limit: int
) -> tuple[RemoteSnapshot, ...] | ViewError:
    if len(items) >= page_limit or len(items) == ASSUMED_SERVER_PAGE_CAP:
        return ViewError(
            scope,
            f"listing returned {len(items)} snapshots, the page size: it may be truncated "
            f"(the API has no cursor); raise page_limit (now {page_limit})",
        )
    for item in items:
        problem = _type_problem(item)
        if problem is not None:
            return ViewError(scope, f"malformed listing: {problem}; the view is not planned")
    parsed = (parse_snapshot(item, scope) for item in items)
    return tuple(snapshot for snapshot in parsed if snapshot is not None)


def _type_problem(item: Mapping[str, Any]) -> str | None:
    """A listed item whose key or mutable fields have the wrong JSON type. Planning on it
    would be wrong: a garbled key would re-create the snapshot, a garbled field would patch
    it on every run. Absent (or null) mutable fields are fine: they are unset."""
    attributes = item.get("attributes")
    if not isinstance(attributes, Mapping):
        return f"snapshot {item.get('id')!r} has no attributes"
    for name in resource.KEY_FIELDS:
        if not isinstance(attributes.get(name), str):
            kind = type(attributes.get(name)).__name__
            return f"snapshot {item.get('id')!r} has `{name}` of type {kind}, expected str"
    for name, expected in resource.MUTABLE_FIELD_TYPES.items():
        value = attributes.get(name)
        if value is not None and type(value) is not expected:  # bool is not an int here
            kind = type(value).__name__
            return (
                f"snapshot {item.get('id')!r} has `{name}` of type {kind}, "
                f"expected {expected.__name__}"
            )
    return None


def parse_snapshot(item: Mapping[str, Any], scope: ViewScope) -> RemoteSnapshot | None:
    """A listed item as a RemoteSnapshot, or None when it does not belong to `scope`."""
    attributes = item.get("attributes")
    snapshot_id = item.get("id")
    if not isinstance(attributes, Mapping) or not isinstance(snapshot_id, str):
        log.warning("ignoring a listed item without id or attributes in %s", scope)
        return None
    key_values = [attributes.get(name) for name in resource.KEY_FIELDS]
    if not all(isinstance(value, str) for value in key_values):
        log.warning("ignoring snapshot %s: its key fields are missing or not strings", snapshot_id)
        return None
    key = SnapshotKey(*(str(value) for value in key_values))
    if key.scope != scope:
        log.warning(
            "ignoring snapshot %s of %s: it does not match the filter for %s",
            snapshot_id,
            key.scope,
            scope,
        )
        return None
    fields: dict[str, FieldValue] = {
        name: value
        for name in resource.MUTABLE_FIELDS
        if isinstance(value := attributes.get(name), str | int | bool)
    }
    created_at = attributes.get("created_at")
    return RemoteSnapshot(
        id=snapshot_id,
        key=key,
        fields=fields,
        created_at=created_at if isinstance(created_at, str) else "",
        attributes=dict(attributes),
    )
