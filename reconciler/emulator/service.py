"""The emulated service: its state (settings, store, rate limiter, faults, stats) and how it
answers a request, in the order a gateway would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconciler.emulator import shape
from reconciler.emulator.body import check_url_text, read_json
from reconciler.emulator.faults import SERVER_ERRORS, DroppedResponse, Faults
from reconciler.emulator.lag import ListingLag, lagged
from reconciler.emulator.ratelimit import RateLimiter
from reconciler.emulator.responses import json_response
from reconciler.emulator.settings import EmulatorSettings
from reconciler.emulator.stats import Stats
from reconciler.emulator.store import Json, Owner, SnapshotStore
from reconciler.emulator.validation import (
    BadRequest,
    Refused,
    normalize_view_name,
    parse_page_limit,
    validate_create,
    validate_update,
)

COLLECTION = "/api/v2/replay/heatmap/snapshots"
ITEM = COLLECTION + "/{snapshot_id}"
WRITES = ("create", "update", "delete")


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any  # None: no body (204)
    committed: bool = False


Handler = Callable[[Request], Awaitable[Outcome]]


class Emulator:
    """State shared by the handlers: settings (read live), store, limiter, faults, stats."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.store = SnapshotStore(settings.db_path)
        self.limiter = RateLimiter(lambda: self.settings.clock())
        self.faults = Faults(settings.seed)
        self.stats = Stats()
        self.lag = ListingLag()
        # Set by the ASGI lifespan startup, which real servers send and ASGITransport does not.
        self.served_by_server = False

    def owner(self) -> Owner:
        s = self.settings
        return Owner(s.created_by, s.created_by_handle, s.created_by_user_id, s.org_id)

    def wall_ms(self) -> int:
        return int(self.settings.wall_clock() * 1000)

    def reset(self) -> None:
        self.store.clear()
        self.stats.reset()
        self.limiter.reset()
        self.faults.reseed(self.settings.seed)
        self.lag.reset()

    def authorized(self, request: Request) -> bool:
        api_key = request.headers.get("dd-api-key", "")
        app_key = request.headers.get("dd-application-key", "")
        self.stats.keys(api_key, app_key)
        if not api_key or not app_key:
            return False
        accepted = self.settings.accepted_keys
        return accepted is None or (api_key, app_key) in accepted

    def disconnects(self) -> bool:
        style = self.settings.drop_style
        return style == "disconnect" or (style == "auto" and self.served_by_server)

    async def serve(self, request: Request, operation: str, handler: Handler) -> Response:
        """Order as a gateway would: latency, auth (403), rate limit (429), random 5xx, the
        text of the path and query (400), then the handler (body: 415, 413, 400; lookup:
        404); a committed write may then be answered by a dropped connection."""
        settings = self.settings
        if settings.latency_ms > 0:
            await asyncio.sleep(settings.latency_ms / 1000)
        bucket = f"replay_heatmap_snapshots_{operation}"
        limit, period = settings.rate_limit, settings.rate_period
        if not self.authorized(request):
            # A refused request does not use up the caller's quota, but still shows it.
            verdict = self.limiter.check(bucket, limit, period, consume=False)
            return self._fail(operation, 403, ["Forbidden"], verdict.headers)
        verdict = self.limiter.check(bucket, limit, period)
        if not verdict.allowed:
            return self._fail(operation, 429, ["Too many requests"], verdict.headers)
        error = self.faults.server_error(settings.fail_rate)
        if error is not None:
            self.stats.fault("server_errors")
            return self._fail(operation, error, [SERVER_ERRORS[error]], verdict.headers)
        try:
            check_url_text(request)
            outcome = await handler(request)
        except Refused as exc:
            return self._fail(operation, exc.status, exc.messages, verdict.headers)
        except NotFound:
            return self._fail(operation, 404, ["Not Found"], verdict.headers)
        if outcome.committed:
            self.stats.committed(operation)
            if self.faults.drop_after_commit(settings.drop_after_commit_rate):
                self.stats.fault("drops_after_commit")
                if self.disconnects():
                    self.stats.request(operation, "dropped")
                    return DroppedResponse(outcome.status, verdict.headers, outcome.body)
                return self._fail(operation, 502, ["Bad Gateway"], verdict.headers)
            if operation == "create":
                outcome = self._maybe_without_id(outcome)
        return self._answer(operation, outcome.status, outcome.body, verdict.headers)

    def _answer(self, operation: str, status: int, body: Any, headers: dict[str, str]) -> Response:
        self.stats.request(operation, status)
        return json_response(status, body, headers)

    def _fail(
        self, operation: str, status: int, messages: list[str], headers: dict[str, str]
    ) -> Response:
        body = shape.error_body(self.settings, status, messages)
        return self._answer(operation, status, body, headers)

    def _maybe_without_id(self, outcome: Outcome) -> Outcome:
        """A committed create answered 201 without its id (a body lacking `data.id`, or none)."""
        style = self.faults.create_without_id(self.settings.create_without_id_rate)
        if style is None:
            return outcome
        if style == "empty_body":
            self.stats.fault("creates_empty_body")
            return Outcome(201, None, committed=True)
        self.stats.fault("creates_without_id")
        data = {key: value for key, value in outcome.body["data"].items() if key != "id"}
        return Outcome(201, {"data": data}, committed=True)

    # ---- the four operations -------------------------------------------------------------

    def seed(self, items: Sequence[tuple[Json, int | None, int | None]]) -> list[Json]:
        """Store valid seed items directly, as the API would store them (no faults, no lag)."""
        for attributes, _, _ in items:
            attributes["view_name"] = self.view_name(attributes["view_name"])
        return self.store.seed(items, self.owner(), self.wall_ms())

    def view_name(self, name: str) -> str:
        return normalize_view_name(name) if self.settings.normalize_view_names else name

    async def list_snapshots(self, request: Request) -> Outcome:
        params = request.query_params
        view_name = params.get("filter[view_name]")
        settings = self.settings
        if view_name is None:
            raise BadRequest(["missing required query parameter 'filter[view_name]'"])
        # A string without minLength in the spec: "" is the view named "" unless told.
        if not view_name and settings.reject_empty_view_filter:
            raise BadRequest(["query parameter 'filter[view_name]' must not be empty"])
        limit = parse_page_limit(
            params.get("page[limit]"),
            settings.page_limit_default,
            settings.page_limit_max,
            reject=settings.page_cap_mode == "reject",
            reject_below_one=settings.reject_page_limit_below_one,
        )
        view_name = self.view_name(view_name)
        application_id = params.get("filter[application_id]")
        device_type = params.get("filter[device_type]")
        filters = {
            "view_name": view_name,
            "application_id": application_id,
            "device_type": device_type,
        }
        shown = (
            self.lag.versions_at(settings.clock() - settings.list_lag_ms / 1000)
            if settings.list_lag_ms > 0
            else {}
        )
        data = self.store.query(view_name, application_id, device_type, limit + len(shown))
        if shown:
            before = [item["id"] for item in data[:limit]]

            def matches(item: Json) -> bool:
                attributes = item["attributes"]
                return all(v is None or attributes[k] == v for k, v in filters.items())

            data = lagged(data, shown, matches, limit)
            if [item["id"] for item in data] != before:
                self.stats.fault("lagged_listings")
        data = self._maybe_repeat(data, limit)
        return Outcome(200, {"data": [shape.snapshot(settings, d, listed=True) for d in data]})

    def _maybe_repeat(self, data: list[Json], limit: int) -> list[Json]:
        """One item twice (same id), the copy renamed or not; never more than `limit` items."""
        repeat = self.faults.repeated_item(self.settings.repeat_ids_rate, len(data))
        if repeat is None or limit < 2:
            return data
        index, position, renamed = repeat
        copy = data[index]
        if renamed:
            name = copy["attributes"]["snapshot_name"] + " (copy)"
            copy = {**copy, "attributes": {**copy["attributes"], "snapshot_name": name}}
        self.stats.fault("repeated_ids_renamed" if renamed else "repeated_ids_same")
        repeated = [*data[:position], copy, *data[position:]]
        if len(repeated) > limit:  # a full page: drop the last other item, keep both copies
            del repeated[max(i for i, s in enumerate(repeated) if s["id"] != copy["id"])]
        return repeated

    def _committed(self, snapshot_id: str, previous: Json | None) -> None:
        """Remember a write for the listing lag (only while there is a lag)."""
        if self.settings.list_lag_ms > 0:
            self.lag.record(self.settings.clock(), snapshot_id, previous)

    async def create(self, request: Request) -> Outcome:
        body = await read_json(request, self.settings.max_body_bytes)
        attributes = validate_create(body)
        attributes["view_name"] = self.view_name(attributes["view_name"])
        other = self.faults.concurrent_writer(self.settings.concurrent_writer_rate)
        if other == "before":
            self._other_writer(attributes)
        data = self.store.create(attributes, self.owner(), self.wall_ms())
        self._committed(data["id"], None)
        if other == "after":
            self._other_writer(attributes)
        return Outcome(201, {"data": self.answered(data)}, committed=True)

    def _other_writer(self, attributes: Json) -> None:
        """Another writer (a racing apply) commits the same snapshot, with its own id."""
        self.stats.fault("concurrent_writes")
        data = self.store.create(attributes, self.owner(), self.wall_ms())
        self._committed(data["id"], None)

    async def update(self, request: Request) -> Outcome:
        snapshot_id = request.path_params["snapshot_id"]
        body = await read_json(request, self.settings.max_body_bytes)
        attributes = validate_update(
            body, snapshot_id, reject_mismatched_id=self.settings.reject_mismatched_patch_id
        )
        previous = self.store.get(snapshot_id) if self.settings.list_lag_ms > 0 else None
        data = self.store.update(snapshot_id, attributes, self.wall_ms())
        if data is None:
            raise NotFound
        self._committed(snapshot_id, previous)
        return Outcome(200, {"data": self.answered(data)}, committed=True)

    async def delete(self, request: Request) -> Outcome:
        snapshot_id = request.path_params["snapshot_id"]
        previous = self.store.get(snapshot_id) if self.settings.list_lag_ms > 0 else None
        if not self.store.delete(snapshot_id):
            raise NotFound
        self._committed(snapshot_id, previous)
        return Outcome(204, None, committed=True)

    def answered(self, data: Json) -> Json:
        return shape.snapshot(self.settings, data, listed=False)
