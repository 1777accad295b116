"""The Starlette app: the four heatmap snapshot endpoints, plus admin endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from reconciler.emulator import admin, shape
from reconciler.emulator.responses import json_response, without_body
from reconciler.emulator.service import COLLECTION, ITEM, Emulator
from reconciler.emulator.settings import EmulatorSettings

__all__ = ["COLLECTION", "create_app", "emulator_of"]


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
    # Unknown paths and methods answer in Datadog's error shape too (the admin's: strings).
    assert isinstance(exc, HTTPException)
    settings = emulator_of(request.app).settings
    if request.url.path.startswith("/_emulator/"):
        settings = EmulatorSettings()
    body = shape.error_body(settings, exc.status_code, [exc.detail])
    return json_response(exc.status_code, body, dict(exc.headers or {}))


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
    # No 307 to the path without its trailing slash: the spec names no such path, so it is
    # unknown (404) like any other.
    app.router.redirect_slashes = False
    app.state.emulator = emulator
    return app


def emulator_of(app: ASGIApp) -> Emulator:
    """The Emulator behind an app made by create_app (for tests and helpers)."""
    state = getattr(app, "state", None)
    emulator = getattr(state, "emulator", None)
    if not isinstance(emulator, Emulator):
        raise TypeError("not an app made by create_app")
    return emulator
