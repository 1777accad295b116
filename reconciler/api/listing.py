"""What exists remotely: the one listing authority. Plan, saved-plan checks, convergence and
create adoption all list through `RemoteReader`, with the same rules and settings.

The API has no cursor and no documented page maximum, so a listing is trusted only when it
holds fewer items than the page could hold: `min(page_limit, server_page_cap)` (and the
maximum the server stated, in the run it stated it). A fuller listing may be cut:
- when the user's `page_limit` is what bound it, the view is an error ("raise page_limit");
- when the server's cap bound it, the view is listed again by device type (one call each;
  they partition every snapshot, as `device_type` is part of the key); a device type still
  at the cap, or a device type outside the known ones in the cut listing, is a view error.
A listing under the page size whose count is round (a multiple of SILENT_CAP_STEP) may be a
silent cap below server_page_cap: it is cross-checked by device type, and more items there
than in the whole makes the view an error naming the cap. A silent cap is not visible when
every snapshot of the view has one device type (the API has no cursor): `doctor` measures the
cap, `server_page_cap` tells it.
A server refusing the page size (400 "page[limit] must be <= N") teaches the maximum (else
it is halved while the server keeps complaining about the page size); the size that worked
is remembered for the run.
An error of a view is never planned on: a missing snapshot would be re-created, a present
one deleted. Per-item rules are in `listed`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.api.errors import ApiError, RequestRejected
from reconciler.api.inflight import fan_out
from reconciler.api.listed import Filter, Read, read_items, unique_by_id
from reconciler.core import resource
from reconciler.core.fingerprint import view_fingerprint
from reconciler.core.model import ListedView, RemoteSnapshot, ViewError, ViewScope

log = logging.getLogger("reconciler.api.listing")

#: Default of the `server_page_cap` setting: the page size the API is assumed to cap at.
DEFAULT_SERVER_PAGE_CAP = 1000
#: The former name (`doctor` reads it when no setting is given).
ASSUMED_SERVER_PAGE_CAP = DEFAULT_SERVER_PAGE_CAP

#: Listings of a multiple of this many items under the page size are cross-checked by
#: device type: a server may cap pages silently below `server_page_cap`.
SILENT_CAP_STEP = 50

_STATED_MAXIMUM = re.compile(r"(?:<=|≤|at most|maximum(?: is| of)?|max(?: is)?)\s*(\d+)", re.I)
_ABOUT_PAGE_SIZE = re.compile(r"page|limit", re.I)


class SnapshotLister(Protocol):
    async def list_snapshots(
        self, application_id: str, view_name: str, limit: int, *, device_type: str | None = None
    ) -> list[dict[str, Any]]: ...


class ListingProgress(Protocol):
    """Told as views are listed (a terminal's progress line): how many are about to be,
    then each one done, failed or not."""

    def started(self, views: int) -> None: ...

    def listed(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ListingRules:
    page_limit: int = 1000
    server_page_cap: int = DEFAULT_SERVER_PAGE_CAP
    parallelism: int | None = None  # None: adaptive (see api.inflight)


@dataclass(frozen=True, slots=True)
class Listing:
    """Remote snapshots of each listed view, the views that failed, and warnings about what
    the server returned (each reported once per run)."""

    snapshots: Mapping[ViewScope, tuple[RemoteSnapshot, ...]] = field(default_factory=dict)
    errors: tuple[ViewError, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[ViewScope, int]:
        return {scope: len(snapshots) for scope, snapshots in self.snapshots.items()}

    @property
    def views(self) -> tuple[ListedView, ...]:
        """The listed views, without fingerprints (see `fingerprinted_views`)."""
        return tuple(ListedView(scope, len(items)) for scope, items in self.snapshots.items())

    def fingerprinted_views(self) -> tuple[ListedView, ...]:
        return tuple(
            ListedView(scope, len(items), view_fingerprint(items))
            for scope, items in self.snapshots.items()
        )


class RemoteReader:
    """Lists views for one run. Keeps what the run learned (the server's page maximum) and
    which warnings were already given."""

    def __init__(
        self,
        client: SnapshotLister,
        rules: ListingRules = ListingRules(),
        *,
        is_fatal: type[BaseException] | tuple[type[BaseException], ...] = (),
    ) -> None:
        self._client = client
        self.rules = rules
        self._is_fatal = is_fatal
        #: The largest page size known to work, once the server refused a larger one.
        self._stated_maximum: int | None = None
        self._warned: set[str] = set()

    # -- many views, one view ------------------------------------------------------------

    async def views(
        self, scopes: Sequence[ViewScope], progress: ListingProgress | None = None
    ) -> Listing:
        """List every scope, at most `parallelism` at once, telling `progress`. Errors of
        type `is_fatal` propagate (bad keys fail every view alike: one error, not one per
        view)."""
        gate = asyncio.Semaphore(fan_out(self.rules.parallelism))

        async def one(scope: ViewScope) -> tuple[RemoteSnapshot, ...] | ViewError:
            async with gate:
                outcome = await self.scope(scope)
            if progress is not None:
                progress.listed()
            return outcome

        ordered = sorted(set(scopes))
        if progress is not None:
            progress.started(len(ordered))
        results = await asyncio.gather(*(one(scope) for scope in ordered))
        snapshots: dict[ViewScope, tuple[RemoteSnapshot, ...]] = {}
        errors: list[ViewError] = []
        for scope, outcome in zip(ordered, results, strict=True):
            if isinstance(outcome, ViewError):
                errors.append(outcome)
            else:
                snapshots[scope] = outcome
        return Listing(snapshots, tuple(errors), self._warnings(snapshots.values()))

    async def scope(self, scope: ViewScope) -> tuple[RemoteSnapshot, ...] | ViewError:
        """One view's snapshots, or why it cannot be planned."""
        whole = await self._read(Filter(scope))
        if not isinstance(whole, ViewError) and not whole.full:
            if not _may_be_silent_cap(whole.count, whole.limit):
                return whole.snapshots
            return await self._cross_checked(scope, whole)
        if isinstance(whole, ViewError):
            return whole
        return await self._cut(scope, whole)

    async def _cut(self, scope: ViewScope, whole: _Page) -> tuple[RemoteSnapshot, ...] | ViewError:
        """A listing as full as the page: the user's limit, or the server's cap, bound it."""
        limit, count = whole.limit, whole.count
        if not self._server_binds(limit):
            return ViewError(
                scope,
                f"listing returned {count} snapshots, the page size: it may be truncated "
                f"(the API has no cursor); raise page_limit (now {self.rules.page_limit})",
            )
        unknown = sorted({s.key.device_type for s in whole.snapshots} - set(resource.DEVICE_TYPES))
        if unknown:
            return ViewError(
                scope,
                f"listing returned {count} snapshots, the server's page cap ({limit}): it "
                f"may be truncated, and device type {unknown[0]!r} cannot be listed apart; "
                "the view is not planned",
            )
        return await self._by_device_type(scope, whole)

    async def _by_device_type(
        self, scope: ViewScope, whole: _Page
    ) -> tuple[RemoteSnapshot, ...] | ViewError:
        """The view listed once per device type (they partition it), or why it cannot be."""
        parts: list[RemoteSnapshot] = []
        for device_type in resource.DEVICE_TYPES:
            part = await self._read(Filter(scope, device_type))
            if isinstance(part, ViewError):
                return part
            if part.full:
                return ViewError(
                    scope,
                    f"listing of its {device_type} snapshots returned {part.count}, the "
                    f"server's page cap ({part.limit}): it may be truncated (the API has no "
                    "cursor); the view is not planned",
                )
            parts.extend(part.snapshots)
        missed = {s.id for s in whole.snapshots} - {s.id for s in parts}
        if missed:  # the parts must hold all of the whole, or they are not a partition
            again = await self._read(Filter(scope))
            if isinstance(again, ViewError):
                return again
            # Gone from a complete second listing: another writer deleted them meanwhile.
            # A full one may have cut them, so it proves nothing.
            kept = missed if again.full else missed & {s.id for s in again.snapshots}
            if kept:
                return ViewError(
                    scope,
                    f"its listing by device type misses {len(kept)} snapshots of the whole "
                    "listing (the server's device type filter is not a partition); the view "
                    "is not planned",
                )
        return unique_by_id(scope, parts)

    async def _cross_checked(
        self, scope: ViewScope, whole: _Page
    ) -> tuple[RemoteSnapshot, ...] | ViewError:
        """A listing under the page size, cross-checked by device type when its count is
        one a server could silently cap at: more items by device type than in the whole
        means the whole was cut (planning on it would create what it did not show), when a
        second listing of the whole holds the same ids; else another writer changed the
        view between the listings, and the (newer) listing by device type is taken."""
        if {s.key.device_type for s in whole.snapshots} - set(resource.DEVICE_TYPES):
            return whole.snapshots  # cannot be listed apart: as before, the whole is taken
        parts = await self._by_device_type(scope, whole)
        if isinstance(parts, ViewError):
            return parts
        if len(parts) > len({s.id for s in whole.snapshots}):
            again = await self._read(Filter(scope))
            if isinstance(again, ViewError):
                return again
            if {x.id for x in again.snapshots} != {x.id for x in whole.snapshots}:
                return parts  # changed meanwhile (another writer): the parts are newer
            count = whole.count
            return ViewError(
                scope,
                f"the API returned {count} snapshots for the view but more by device type "
                f"({len(parts)}): it caps listings at {count}; set server_page_cap: {count} "
                "(reconciler doctor finds it); the view is not planned",
            )
        return parts  # as new as any listing here, and checked to hold all of the whole

    # -- one list call -------------------------------------------------------------------

    def _limit(self) -> int:
        """The page size asked for: never more than the server takes."""
        rules = self.rules
        limit = min(rules.page_limit, rules.server_page_cap)
        return limit if self._stated_maximum is None else min(limit, self._stated_maximum)

    def _server_binds(self, limit: int) -> bool:
        """Was `limit` set by the server's cap rather than by the user's page_limit?"""
        return limit < self.rules.page_limit or self.rules.server_page_cap <= self.rules.page_limit

    async def _read(self, asked: Filter) -> _Page | ViewError:
        try:
            items, limit = await self._fetch(asked)
        except self._is_fatal:
            raise
        except ApiError as exc:  # one view's failure must not sink the others
            return ViewError(asked.scope, str(exc))
        read = read_items(asked, items)
        if isinstance(read, ViewError):
            return read
        if read.dropped:
            log.warning(
                "ignoring %d listed snapshots of %s: their key does not match the filter",
                read.dropped,
                asked.scope,
            )
        return _Page(read, len(items), limit)

    async def _fetch(self, asked: Filter) -> tuple[list[dict[str, Any]], int]:
        scope = asked.scope
        limit = self._limit()
        while True:
            try:
                items = await self._client.list_snapshots(
                    scope.application_id, scope.view_name, limit, device_type=asked.device_type
                )
            except RequestRejected as exc:
                smaller = _smaller_page(exc, limit)
                if smaller is None:
                    raise
                log.info("the server refused page[limit]=%d; trying %d", limit, smaller)
                limit = smaller
                continue
            if limit < self._limit():
                # Remembered only once a page size worked: a 400 about something else
                # must not shrink every later listing.
                self._stated_maximum = limit
            return items, limit

    # -- warnings ------------------------------------------------------------------------

    def _warnings(self, listed: Iterable[tuple[RemoteSnapshot, ...]]) -> tuple[str, ...]:
        missing = Counter(name for items in listed for s in items for name in s.unreported)
        warnings = []
        for name in resource.MUTABLE_FIELDS:
            if missing[name] and name not in self._warned:
                self._warned.add(name)
                noun = "snapshot" if missing[name] == 1 else "snapshots"
                warnings.append(
                    f"the API returned no `{name}` for {missing[name]} {noun}; "
                    f"`{name}` is not compared for them"
                )
        return tuple(warnings)


def _may_be_silent_cap(count: int, limit: int) -> bool:
    """Could `count` items, fewer than the page size asked for, be a server's silent cap?
    Caps are round numbers; a view with another count is listed with one request."""
    return SILENT_CAP_STEP <= count < limit and count % SILENT_CAP_STEP == 0


def _smaller_page(exc: RequestRejected, tried: int) -> int | None:
    """The page size to try after a 400 about the page size: the maximum it states, else
    half; None when the 400 is about something else or there is nothing smaller."""
    if exc.status != 400 or not any(_ABOUT_PAGE_SIZE.search(m) for m in exc.messages):
        return None
    stated = [
        int(match.group(1)) for text in exc.messages for match in _STATED_MAXIMUM.finditer(text)
    ]
    smaller = [value for value in stated if 1 <= value < tried]
    page = min(smaller) if smaller else tried // 2
    return page if page >= 1 else None


@dataclass(frozen=True, slots=True)
class _Page:
    read: Read
    count: int  # items returned, before any was dropped
    limit: int  # page[limit] sent

    @property
    def snapshots(self) -> tuple[RemoteSnapshot, ...]:
        return self.read.snapshots

    @property
    def full(self) -> bool:
        """As many items as the page could hold: there may be more."""
        return self.count >= self.limit


async def list_views(
    client: SnapshotLister,
    scopes: Sequence[ViewScope],
    *,
    page_limit: int,
    parallelism: int | None,
    server_page_cap: int = DEFAULT_SERVER_PAGE_CAP,
    is_fatal: type[BaseException] | tuple[type[BaseException], ...] = (),
) -> Listing:
    """List `scopes` once, with a reader of its own (see `RemoteReader.views`)."""
    rules = ListingRules(page_limit, server_page_cap, parallelism)
    return await RemoteReader(client, rules, is_fatal=is_fatal).views(scopes)


def parse_snapshot(item: Mapping[str, Any], scope: ViewScope) -> RemoteSnapshot | None:
    """A listed item as a RemoteSnapshot, or None when it does not belong to `scope` or is
    malformed (the per-item rules of `listed`)."""
    read = read_items(Filter(scope), [item])
    if isinstance(read, ViewError) or not read.snapshots:
        return None
    return read.snapshots[0]
