"""A fake listing API for the listing tests: items, a server that caps or refuses pages,
and the listing of views through `remote.RemoteReader`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconciler.api.client import ApiClient
from reconciler.api.listing import Listing, ListingRules, RemoteReader
from reconciler.core.model import ViewError, ViewScope
from reconciler.core.secrets import Credentials
from support.factories import APP, key, want

SCOPE = ViewScope(APP, "/checkout")
DEVICES = ("desktop", "mobile", "tablet")


def item(
    snapshot_id: str,
    name: str,
    *,
    device: str = "desktop",
    view: str = "/checkout",
    start: int = 1500,
    created_at: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    return {
        "id": snapshot_id,
        "type": "snapshots",
        "attributes": {
            "application_id": APP,
            "view_name": view,
            "device_type": device,
            "snapshot_name": name,
            "event_id": "evt-1",
            "start": start,
            "is_device_type_selected_by_user": False,
            "created_at": created_at,
        },
    }


@dataclass
class FakeApi:
    """A list endpoint with the behaviours the documentation leaves open."""

    items: list[dict[str, Any]]
    cap: int = 1000
    mode: str = "silent"  # or "reject": 400 above the cap
    reject_message: str | None = None  # default "page[limit] must be <= {cap}"
    sparse: tuple[str, ...] = ()
    normalise: Callable[[str], str] = str
    requests: list[dict[str, str]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.requests.append(params)
        limit = int(params.get("page[limit]", "100"))
        if limit > self.cap and self.mode == "reject":
            message = self.reject_message or f"page[limit] must be <= {self.cap}"
            return httpx.Response(400, json={"errors": [message]})
        wanted_view = self.normalise(params["filter[view_name]"])
        found = [
            it
            for it in self.items
            if self.normalise(it["attributes"]["view_name"]) == wanted_view
            and it["attributes"]["application_id"] == params.get("filter[application_id]", APP)
            and params.get("filter[device_type]", it["attributes"]["device_type"])
            == it["attributes"]["device_type"]
        ][: min(limit, self.cap)]
        data = [
            {
                **it,
                "attributes": {k: v for k, v in it["attributes"].items() if k not in self.sparse},
            }
            for it in found
        ]
        return httpx.Response(200, content=json.dumps({"data": data}))

    def _sparse(self, attributes: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in attributes.items() if name not in self.sparse}


def listing(
    api: FakeApi, scopes: Sequence[ViewScope] = (SCOPE,), repeat: int = 1, **rules: Any
) -> list[Listing]:
    async def go() -> list[Listing]:
        transport = httpx.MockTransport(api.handler)
        async with ApiClient(
            "http://127.0.0.1:9", Credentials("k", "k"), transport=transport
        ) as client:
            reader = RemoteReader(client, ListingRules(**rules))
            return [await reader.views(scopes) for _ in range(repeat)]

    return asyncio.run(go())


def only(result: Listing) -> tuple[Any, ...] | ViewError:
    if result.errors:
        return result.errors[0]
    return result.snapshots[SCOPE]


def spread(count: int, devices: Sequence[str] = DEVICES) -> list[dict[str, Any]]:
    return [item(f"id{i:05}", f"s{i:05}", device=devices[i % len(devices)]) for i in range(count)]


def desired_of(items: list[dict[str, Any]]) -> list[Any]:
    return [
        want(key(it["attributes"]["snapshot_name"], device=it["attributes"]["device_type"]))
        for it in items
    ]
