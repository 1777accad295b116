"""`reconciler doctor`: check what the engine assumes of the API against the configured org.

Read-only unless asked (`doctor_probe` does the writes). Each check yields findings:

    ok       the assumption holds
    note     worth knowing, assumes nothing (unknown extra attributes, leftovers cleaned)
    unknown  could not be checked here (e.g. a page cap where no view is large enough)
    differs  the assumption does not hold: the run exits 1

The checks see the API only through the client the engine uses, plus a transport wrapper
that records the rate-limit headers of each operation (never a request header: the keys).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import httpx

from reconciler.api.client import ApiClient
from reconciler.api.errors import ApiError, AuthError, RequestRejected, Unavailable
from reconciler.api.inflight import fan_out
from reconciler.api.listing import ASSUMED_SERVER_PAGE_CAP
from reconciler.api.retry import parse_count, parse_seconds
from reconciler.core import resource
from reconciler.core.model import DesiredState, ViewScope
from reconciler.doctor.report import Report
from reconciler.doctor.shape import check_shape, printable
from reconciler.plan.engine import Context

Json = dict[str, Any]

_MUST_BE_AT_MOST: Final = re.compile(r"must be (?:<=|less than or equal to|at most) (\d+)")
_OPERATIONS: Final = {"GET": "list", "POST": "create", "PATCH": "update", "DELETE": "delete"}


class HeaderRecorder(httpx.AsyncBaseTransport):
    """Passes every request through; keeps the rate-limit headers of each operation's
    latest response that had any."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.seen: dict[str, dict[str, str]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        operation = _OPERATIONS.get(request.method)
        if operation is not None and request.url.path.startswith(resource.COLLECTION_PATH):
            headers = {
                name: value
                for name, value in response.headers.items()
                if name.lower().startswith("x-ratelimit-")
            }
            # An answer without them (a gateway's 5xx) does not hide the ones seen before.
            if headers or operation not in self.seen:
                self.seen[operation] = headers
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def recording(context: Context) -> tuple[Context, HeaderRecorder]:
    """The context with its transport wrapped by a recorder (httpx's own by default)."""
    inner = context.runtime.transport or httpx.AsyncHTTPTransport(trust_env=False)
    recorder = HeaderRecorder(inner)
    return replace(context, runtime=replace(context.runtime, transport=recorder)), recorder


@dataclass
class Listed:
    """What the read-only checks learnt, for the probe to reuse."""

    limit: int  # the page[limit] the server accepts and the engine would send
    items: dict[ViewScope, list[Json]] = field(default_factory=dict)


async def check_access(client: ApiClient, scope: ViewScope, report: Report) -> bool:
    """Keys, read permission and reachability, with one small list call."""
    try:
        await client.list_snapshots(scope.application_id, scope.view_name, 1)
    except AuthError as exc:
        report.add("ok", "site", f"reachable: {client.base_url} answered")
        report.add("differs", "keys", f"refused: {exc}")
        return False
    except Unavailable as exc:
        report.add("differs", "site", f"not reachable: {exc}")
        return False
    except ApiError as exc:
        report.add("ok", "site", f"reachable: {client.base_url} answered")
        report.add("differs", "keys", f"a list call failed: {exc}")
        return False
    report.add("ok", "site", f"reachable: {client.base_url} answered")
    report.add("ok", "keys", f"accepted, with read permission on {scope}")
    return True


def _accepted_limit_from(exc: RequestRejected) -> int | None:
    for message in exc.messages:
        match = _MUST_BE_AT_MOST.search(message)
        if match:
            return int(match.group(1))
    return None


async def _accepts(client: ApiClient, scope: ViewScope, limit: int) -> bool:
    try:
        await client.list_snapshots(scope.application_id, scope.view_name, limit)
    except RequestRejected:
        return False
    return True


async def check_page_limit(
    client: ApiClient, scope: ViewScope, page_limit: int, expected_cap: int, report: Report
) -> int:
    """Send a page[limit] far above the expected cap: a 400 "must be <= N" means reject
    mode (N verified, or found by halving when the message names none). Returns the
    page[limit] the engine can send."""
    probe = 10 * max(page_limit, expected_cap)
    try:
        await client.list_snapshots(scope.application_id, scope.view_name, probe)
    except RequestRejected as exc:
        cap = _accepted_limit_from(exc)
        how = f'400 "{"; ".join(exc.messages)}"'
        if cap is None or not await _accepts(client, scope, cap):
            cap = await _largest_accepted(client, scope, probe)
            how += f"; the largest accepted, found by halving, is {cap}"
        found = f"reject mode: page[limit] above {cap} is rejected ({how})"
        if cap < page_limit:
            found += f"; page_limit {page_limit} would fail every listing"
            report.suggest("page_limit", cap, "the server rejects more")
        report.add("differs" if cap < page_limit else "ok", "page limit", found)
        report.suggest("server_page_cap", cap, "reject mode: the server's maximum")
        return min(page_limit, cap)
    report.add(
        "ok", "page limit", f"page[limit]={probe} accepted: no reject mode below it (silent cap?)"
    )
    return page_limit


async def _largest_accepted(client: ApiClient, scope: ViewScope, rejected: int) -> int:
    low, high = 0, rejected  # low accepted (0: none yet), high rejected
    while high - low > 1:
        middle = (low + high) // 2
        if await _accepts(client, scope, middle):
            low = middle
        else:
            high = middle
    return max(low, 1)


async def list_managed(
    client: ApiClient,
    scopes: Sequence[ViewScope],
    limit: int,
    parallelism: int | None,
    report: Report,
) -> dict[ViewScope, list[Json]]:
    gate = asyncio.Semaphore(fan_out(parallelism))

    async def one(scope: ViewScope) -> tuple[ViewScope, list[Json] | ApiError]:
        async with gate:
            try:
                items = await client.list_snapshots(scope.application_id, scope.view_name, limit)
            except ApiError as exc:
                return scope, exc
            return scope, items

    listed: dict[ViewScope, list[Json]] = {}
    for scope, outcome in await asyncio.gather(*(one(scope) for scope in scopes)):
        if isinstance(outcome, ApiError):
            report.add("differs", "listing", f"{scope} could not be listed: {outcome}")
            continue
        listed[scope] = outcome
        if len(outcome) >= limit:
            report.add(
                "differs",
                "listing",
                f"{scope} fills page[limit] ({limit}): it may be truncated, so it cannot "
                "be planned on",
            )
    return listed


async def check_silent_cap(
    client: ApiClient, listed: Mapping[ViewScope, list[Json]], limit: int, report: Report
) -> None:
    """A silent cap shows where a view's device-type partitions hold more than its whole
    listing: the listing stopped at the cap. Only detectable where a view is large enough."""
    if not listed:
        return
    scope, items = max(listed.items(), key=lambda pair: (len(pair[1]), pair[0]))
    count = len(items)
    if count == 0:
        report.add("unknown", "page cap", "not detectable: the managed views are empty")
        return
    if count >= limit:
        # The listing stopped at the page[limit] sent (the cap learnt in reject mode), not at
        # a silent cap: its partitions holding more says nothing of the server.
        report.add(
            "unknown",
            "page cap",
            f"not detectable: the largest managed view ({scope}) fills page[limit] ({limit})",
        )
        return
    parts = 0
    for device_type in resource.DEVICE_TYPES:
        try:
            partition = await client.list_snapshots(
                scope.application_id, scope.view_name, limit, device_type=device_type
            )
        except ApiError as exc:
            report.add("unknown", "page cap", f"not checked: a partitioned listing failed: {exc}")
            return
        parts += len(partition)
    if parts <= count:
        largest = f"the largest managed view ({scope}) holds {count} snapshots"
        report.add("unknown", "page cap", f"not detectable: {largest}, fewer than any cap seen")
        return
    stop = f"silent mode: listings stop at {count} without an error"
    report.add(
        "differs", "page cap", f"{stop} ({scope} lists {count}, its device-type partitions {parts})"
    )
    report.suggest("server_page_cap", count, "silent mode: listings stop there")


def check_rate_limits(recorder: HeaderRecorder, report: Report) -> None:
    for operation in ("list", "create", "update", "delete"):
        headers = recorder.seen.get(operation)
        if headers is None:
            continue
        limit = parse_count(headers.get("x-ratelimit-limit"))
        period = parse_seconds(headers.get("x-ratelimit-period"))
        name = headers.get("x-ratelimit-name", "").strip()
        if not limit or not period or not name:
            report.add(
                "differs",
                "rate limits",
                f"{operation}: no usable X-RateLimit-Limit/-Period/-Name headers; requests "
                "cannot be paced, only backed off after 429",
            )
            continue
        report.add(
            "ok", "rate limits", f"{operation}: {printable(name)} allows {limit} per {period:g} s"
        )


def expected_cap(context: Context) -> int:
    """The cap the engine assumes (a `server_page_cap` setting where one exists)."""
    value = getattr(context.settings, "server_page_cap", None)
    return value if isinstance(value, int) and value > 0 else ASSUMED_SERVER_PAGE_CAP


async def diagnose(
    context: Context,
    desired: DesiredState,
    *,
    probe: Callable[[ApiClient, Listed, Report], Awaitable[None]] | None = None,
) -> Report:
    """Every read-only check, then `probe` (the write probe) when given."""
    scopes = sorted({view.scope for view in desired.views})
    report = Report(context.base_url, len(scopes))
    if not scopes:
        report.add("unknown", "views", "no managed views in the snapshot files: nothing to list")
        return report
    recorded, recorder = recording(context)
    async with recorded.client() as client:
        if await check_access(client, scopes[0], report):
            try:
                await _checks(context, client, scopes, report, probe)
            except ApiError as exc:  # the checks after it need what failed
                report.add("differs", "checks", f"stopped: {exc}")
    check_rate_limits(recorder, report)
    return report


async def _checks(
    context: Context,
    client: ApiClient,
    scopes: Sequence[ViewScope],
    report: Report,
    probe: Callable[[ApiClient, Listed, Report], Awaitable[None]] | None,
) -> None:
    settings = context.settings
    limit = await check_page_limit(
        client, scopes[0], settings.page_limit, expected_cap(context), report
    )
    listed = Listed(limit, await list_managed(client, scopes, limit, settings.parallelism, report))
    await check_silent_cap(client, listed.items, limit, report)
    check_shape(listed.items, report)
    if probe is not None:
        await probe(client, listed, report)
