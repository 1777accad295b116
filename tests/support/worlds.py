"""Worlds the emulator does not model (yet): an in-process transport around the emulator app
that makes listings lag behind writes, answers a committed create without an id, or lets
another writer create a snapshot instead of the request. Every request is logged with the
clock's time, so tests can check what was sent and when.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.types import ASGIApp

from reconciler.api.retry import Clock
from reconciler.emulator.app import COLLECTION, emulator_of

CreateAnswer = Literal["normal", "no id", "empty"]


@dataclass(frozen=True)
class Logged:
    at: float
    method: str
    path: str
    status: int
    name: str | None  # the snapshot_name of a POST


@dataclass
class World(httpx.AsyncBaseTransport):
    app: ASGIApp
    clock: Clock
    #: New snapshots show in listings only this many (clock) seconds after they were made.
    list_lag: float = 0.0
    #: How a committed POST is answered: normally, 201 whose data has no id, or empty 201.
    create_answer: CreateAnswer = "normal"
    #: Called instead of sending a POST (another writer acts); the POST then meets a 502.
    instead_of_create: Callable[[Mapping[str, Any]], None] | None = None
    #: Called after a create committed (another writer acts right after us).
    after_create: Callable[[Mapping[str, Any]], None] | None = None
    #: Clock seconds each POST waits before it reaches the server.
    create_delay: float = 0.0
    log: list[Logged] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._inner = httpx.ASGITransport(app=self.app)
        self._store = emulator_of(self.app).store
        # What exists now was seeded before: visible at once.
        self._visible_at = {item["id"]: -math.inf for item in self._store.all()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        listing = request.method == "GET" and request.url.path == COLLECTION
        create = request.method == "POST" and request.url.path == COLLECTION
        name = None
        if create:
            attributes = json.loads(request.content)["data"]["attributes"]
            name = attributes.get("snapshot_name")
            if self.create_delay:
                await self.clock.sleep(self.create_delay)
            if self.instead_of_create is not None:
                self.instead_of_create(attributes)
                self._register()
                return self._logged(request, name, _json(502, {"errors": ["Bad Gateway"]}))
        response = await self._inner.handle_async_request(request)
        if create:
            if self.after_create is not None and response.status_code == 201:
                self.after_create(attributes)
            self._register()
            if response.status_code == 201 and self.create_answer != "normal":
                await response.aread()
                body = json.loads(response.content)
                if self.create_answer == "empty":
                    return self._logged(request, name, httpx.Response(201, content=b""))
                body["data"].pop("id", None)
                return self._logged(request, name, _json(201, body))
        if listing and response.status_code == 200:
            self._register()
            await response.aread()
            body = json.loads(response.content)
            now = self.clock.monotonic()
            body["data"] = [i for i in body["data"] if self._visible_at[i["id"]] <= now]
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            response = httpx.Response(200, headers=headers, content=json.dumps(body).encode())
        return self._logged(request, name, response)

    def _register(self) -> None:
        """Snapshots not seen before are new: visible `list_lag` seconds from now."""
        now = self.clock.monotonic()
        for item in self._store.all():
            self._visible_at.setdefault(item["id"], now + self.list_lag)

    def _logged(self, request: httpx.Request, name: str | None, response: Any) -> Any:
        at = self.clock.monotonic()
        self.log.append(Logged(at, request.method, request.url.path, response.status_code, name))
        return response

    def posts(self, name: str | None = None) -> list[Logged]:
        return [e for e in self.log if e.method == "POST" and name in (None, e.name)]

    def lists(self) -> list[Logged]:
        return [e for e in self.log if e.method == "GET"]


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)
