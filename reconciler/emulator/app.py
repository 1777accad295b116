"""The Starlette app: the four heatmap snapshot endpoints, plus admin endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from reconciler.emulator import admin
from reconciler.emulator.faults import SERVER_ERRORS, DroppedResponse, Faults
from reconciler.emulator.ratelimit import RateLimiter
from reconciler.emulator.responses import json_response, without_body
from reconciler.emulator.settings import EmulatorSettings
from reconciler.emulator.stats import Stats
from reconciler.emulator.store import Owner, SnapshotStore
from reconciler.emulator.validation import (
    BadRequest,
    parse_json,
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

    def authorized(self, request: Request) -> bool:
        api_key = request.headers.get("dd-api-key", "")
        app_key = request.headers.get("dd-application-key", "")
        if not api_key or not app_key:
            return False
        accepted = self.settings.accepted_keys
        return accepted is None or (api_key, app_key) in accepted

    def disconnects(self) -> bool:
        style = self.settings.drop_style
        return style == "disconnect" or (style == "auto" and self.served_by_server)

    async def serve(self, request: Request, operation: str, handler: Handler) -> Response:
        """Order as a gateway would: latency, auth (403), rate limit (429), random 5xx, then
        the handler; a committed write may then be answered by a dropped connection."""
        settings = self.settings
        if settings.latency_ms > 0:
            await asyncio.sleep(settings.latency_ms / 1000)
        bucket = f"replay_heatmap_snapshots_{operation}"
        limit, period = settings.rate_limit, settings.rate_period
        if not self.authorized(request):
            # A refused request does not use up the caller's quota, but still shows it.
            verdict = self.limiter.check(bucket, limit, period, consume=False)
            return self._answer(operation, 403, {"errors": ["Forbidden"]}, verdict.headers)
        verdict = self.limiter.check(bucket, limit, period)
        if not verdict.allowed:
            return self._answer(operation, 429, {"errors": ["Too many requests"]}, verdict.headers)
        error = self.faults.server_error(settings.fail_rate)
        if error is not None:
            return self._answer(
                operation, error, {"errors": [SERVER_ERRORS[error]]}, verdict.headers
            )
        try:
            outcome = await handler(request)
        except BadRequest as exc:
            return self._answer(operation, 400, {"errors": exc.messages}, verdict.headers)
        except NotFound:
            return self._answer(operation, 404, {"errors": ["Not Found"]}, verdict.headers)
        if outcome.committed:
            self.stats.committed(operation)
            if self.faults.drop_after_commit(settings.drop_after_commit_rate):
                if self.disconnects():
                    self.stats.request(operation, "dropped")
                    return DroppedResponse(outcome.status, verdict.headers, outcome.body)
                return self._answer(operation, 502, {"errors": ["Bad Gateway"]}, verdict.headers)
        return self._answer(operation, outcome.status, outcome.body, verdict.headers)

    def _answer(self, operation: str, status: int, body: Any, headers: dict[str, str]) -> Response:
        self.stats.request(operation, status)
        return json_response(status, body, headers)

    # ---- the four operations -------------------------------------------------------------

    async def list_snapshots(self, request: Request) -> Outcome:
        params = request.query_params
        view_name = params.get("filter[view_name]")
        if not view_name:
            raise BadRequest(["missing required query parameter 'filter[view_name]'"])
        settings = self.settings
        limit = parse_page_limit(
            params.get("page[limit]"), settings.page_limit_default, settings.page_limit_max
        )
        data = self.store.query(
            view_name,
            params.get("filter[application_id]"),
            params.get("filter[device_type]"),
            limit,
        )
        return Outcome(200, {"data": data})

    async def create(self, request: Request) -> Outcome:
        attributes = validate_create(parse_json(await request.body()))
        data = self.store.create(attributes, self.owner(), self.wall_ms())
        return Outcome(201, {"data": data}, committed=True)

    async def update(self, request: Request) -> Outcome:
        snapshot_id = request.path_params["snapshot_id"]
        attributes = validate_update(parse_json(await request.body()), snapshot_id)
        data = self.store.update(snapshot_id, attributes, self.wall_ms())
        if data is None:
            raise NotFound
        return Outcome(200, {"data": data}, committed=True)

    async def delete(self, request: Request) -> Outcome:
        if not self.store.delete(request.path_params["snapshot_id"]):
            raise NotFound
        return Outcome(204, None, committed=True)


def _routes(emulator: Emulator) -> list[Route]:
    # Dispatch on each method explicitly: Starlette adds HEAD to every GET route, and a
    # HEAD must read (a list without its body), never write.
    async def collection(request: Request) -> Response:
        if request.method == "POST":
            return await emulator.serve(request, "create", emulator.create)
        response = await emulator.serve(request, "list", emulator.list_snapshots)
        return without_body(response) if request.method == "HEAD" else response

    async def item(request: Request) -> Response:
        if request.method == "PATCH":
            return await emulator.serve(request, "update", emulator.update)
        if request.method == "DELETE":
            return await emulator.serve(request, "delete", emulator.delete)
        raise HTTPException(405)

    return [
        Route(COLLECTION, collection, methods=["GET", "POST"]),
        Route(ITEM, item, methods=["PATCH", "DELETE"]),
        *admin.routes(emulator),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown paths and methods answer in Datadog's error shape too.
    assert isinstance(exc, HTTPException)
    return json_response(exc.status_code, {"errors": [exc.detail]}, dict(exc.headers or {}))


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """A new emulator app with its own store. The settings object is read live."""
    emulator = Emulator(settings if settings is not None else EmulatorSettings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        emulator.served_by_server = True
        try:
            yield
        finally:
            emulator.store.close()

    app = Starlette(
        routes=_routes(emulator),
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    return app


def emulator_of(app: ASGIApp) -> Emulator:
    """The Emulator behind an app made by create_app (for tests and helpers)."""
    state = getattr(app, "state", None)
    emulator = getattr(state, "emulator", None)
    if not isinstance(emulator, Emulator):
        raise TypeError("not an app made by create_app")
    return emulator
