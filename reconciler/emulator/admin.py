"""Admin endpoints under /_emulator/: no keys, no faults, no rate limit, not counted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator.responses import json_response
from reconciler.emulator.settings import CONFIGURABLE, apply_settings, setting_problems
from reconciler.emulator.validation import BadRequest, parse_json, validate_seed_item

if TYPE_CHECKING:
    from reconciler.emulator.service import Emulator


def effective_config(emulator: Emulator) -> dict[str, Any]:
    s = emulator.settings
    values = {name: getattr(s, name) for name in CONFIGURABLE}
    return values | {"sparse_items": list(s.sparse_items), "seed": s.seed}


def routes(emulator: Emulator) -> list[Route]:
    def bad_request(exc: BadRequest) -> Response:
        return json_response(400, {"errors": exc.messages})

    async def reset(request: Request) -> Response:
        emulator.reset()
        return json_response(200, {"reset": True})

    async def list_all(request: Request) -> Response:
        return json_response(200, {"data": emulator.store.all()})

    async def seed(request: Request) -> Response:
        """Insert {"data": [attributes, ...]} directly; `?quiet=1` answers only the count,
        for benches seeding 100,000 snapshots."""
        try:
            body = parse_json(await request.body())
            items = body.get("data") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise BadRequest(['body must be {"data": [attributes, ...]}'])
            parsed = [validate_seed_item(item, index) for index, item in enumerate(items)]
        except BadRequest as exc:
            return bad_request(exc)
        data = emulator.seed(parsed)
        if request.query_params.get("quiet") in ("1", "true"):
            return json_response(201, {"count": len(data)})
        return json_response(201, {"data": data})

    async def stats(request: Request) -> Response:
        return json_response(200, emulator.stats.as_json() | {"snapshots": emulator.store.count()})

    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = parse_json(await request.body())
                if not isinstance(changes, dict):
                    raise BadRequest(["body must be a JSON object of settings"])
                problems = setting_problems(changes, lambda name: f"'{name}'")
                if problems:
                    raise BadRequest(problems)
            except BadRequest as exc:
                return bad_request(exc)
            apply_settings(emulator.settings, changes)
        return json_response(200, effective_config(emulator))

    return [
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/snapshots", list_all, methods=["GET"]),
        Route("/_emulator/snapshots", seed, methods=["POST"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/config", config, methods=["GET", "POST"]),
    ]
