"""Admin endpoints under /_emulator/: no keys, no faults, no rate limit, not counted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator.responses import json_response
from reconciler.emulator.validation import BadRequest, parse_json, validate_seed_item

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

# Settings that POST /_emulator/config may change, with their accepted JSON types.
_CONFIGURABLE: dict[str, tuple[type, ...]] = {
    "fail_rate": (int, float),
    "latency_ms": (int, float),
    "drop_after_commit_rate": (int, float),
    "rate_limit": (int, type(None)),
    "rate_period": (int,),
    "page_limit_default": (int,),
    "page_limit_max": (int,),
}


def effective_config(emulator: Emulator) -> dict[str, Any]:
    s = emulator.settings
    return {name: getattr(s, name) for name in _CONFIGURABLE} | {"seed": s.seed}


def _config_problems(changes: dict[str, Any]) -> list[str]:
    problems = []
    for name, value in changes.items():
        types = _CONFIGURABLE.get(name)
        if types is None:
            problems.append(f"'{name}' cannot be configured")
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            problems.append(f"'{name}' has the wrong type")
            continue
        if value is None:  # rate_limit: unlimited
            continue
        number = float(cast(float, value))
        if name.endswith("_rate") and not 0 <= number <= 1:
            problems.append(f"'{name}' must be between 0 and 1")
        elif number < 0:
            problems.append(f"'{name}' must not be negative")
        elif name in ("rate_period", "page_limit_default", "page_limit_max") and number < 1:
            problems.append(f"'{name}' must be at least 1")
    return problems


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
        data = emulator.store.seed(parsed, emulator.owner(), emulator.wall_ms())
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
                problems = _config_problems(changes)
                if problems:
                    raise BadRequest(problems)
            except BadRequest as exc:
                return bad_request(exc)
            for name, value in changes.items():
                setattr(emulator.settings, name, value)
        return json_response(200, effective_config(emulator))

    return [
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/snapshots", list_all, methods=["GET"]),
        Route("/_emulator/snapshots", seed, methods=["POST"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/config", config, methods=["GET", "POST"]),
    ]
