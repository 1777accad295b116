"""The Starlette app: its routes (a HEAD reads, never writes), unknown paths and methods in
the API's error shape, its lifespan, and `emulator_of`."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message

from reconciler.emulator import EmulatorSettings, create_app
from reconciler.emulator.app import emulator_of
from support.emulatorkit import COLLECTION, KEYS, attributes, client_for, create, list_view

pytestmark = pytest.mark.anyio


async def test_head_on_the_collection_reads_and_never_writes(client: httpx.AsyncClient) -> None:
    # Starlette adds HEAD to GET routes; a HEAD must never be taken for a create.
    await create(client)
    before = (await client.get("/_emulator/snapshots")).json()
    for params in ({"filter[view_name]": "/home"}, {}):
        response = await client.head(COLLECTION, params=params)
        assert response.content == b""
    assert response.status_code == 400  # the list's answer, without its body
    assert (await client.head(COLLECTION, params={"filter[view_name]": "/"})).status_code == 200
    assert (await client.get("/_emulator/snapshots")).json() == before
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["committed"]["create"] == 1
    assert stats["requests"]["list"] == {"200": 2, "400": 1}


async def asgi_call(app: ASGIApp, method: str, query: bytes) -> list[Message]:
    """The messages an app sends for one request, straight from ASGI: what a server gets,
    before any client has a chance to drop a body."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": COLLECTION,
        "raw_path": COLLECTION.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in KEYS.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return sent


async def test_a_head_sends_the_headers_of_the_get_and_no_body() -> None:
    app = create_app()
    emulator = emulator_of(app)
    emulator.store.create(attributes(), emulator.owner(), emulator.wall_ms())
    query = b"filter%5Bview_name%5D=/home"
    got = await asgi_call(app, "GET", query)
    head = await asgi_call(app, "HEAD", query)
    assert [m["type"] for m in head] == ["http.response.start", "http.response.body"]
    assert head[1].get("body", b"") == b""
    assert head[0]["status"] == got[0]["status"] == 200
    counted = b"x-ratelimit-remaining"  # one request later
    assert [h for h in head[0]["headers"] if h[0] != counted] == [
        h for h in got[0]["headers"] if h[0] != counted
    ]
    assert dict(head[0]["headers"])[b"content-length"] == str(len(got[1]["body"])).encode()


async def test_item_answers_405_to_other_methods(client: httpx.AsyncClient) -> None:
    created = await create(client)
    for method in ("GET", "HEAD", "PUT", "POST"):
        response = await client.request(method, f"{COLLECTION}/{created['id']}")
        assert response.status_code == 405, method
    assert await list_view(client) == [created]


async def test_unknown_route_and_method_answer_json_errors(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/nothing")
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not Found"]}
    response = await client.get(f"{COLLECTION}/{uuid.uuid4()}")  # there is no get-by-id
    assert response.status_code == 405
    assert response.json() == {"errors": ["Method Not Allowed"]}
    assert set(response.headers["allow"].split(", ")) == {"PATCH", "DELETE"}


async def test_unknown_admin_paths_answer_plain_errors_whatever_the_style(
    client: httpx.AsyncClient, settings: EmulatorSettings
) -> None:
    settings.error_style = "objects"
    admin = await client.get("/_emulator/nothing")
    assert (admin.status_code, admin.json()) == (404, {"errors": ["Not Found"]})
    api = await client.get("/api/v2/nothing")
    assert api.json() == {
        "errors": [{"status": "404", "title": "Not Found", "detail": "Not Found"}]
    }


async def test_the_lifespan_marks_a_served_app_and_closes_its_store_at_shutdown() -> None:
    # What a real server sends and httpx.ASGITransport does not: the ASGI lifespan.
    app = create_app()
    emulator = emulator_of(app)
    assert emulator.served_by_server is False  # in-process: a drop answers 502
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[str] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])

    await inbox.put({"type": "lifespan.startup"})
    running = asyncio.create_task(app({"type": "lifespan", "state": {}}, inbox.get, send))
    while not sent:
        await asyncio.sleep(0)
    assert sent == ["lifespan.startup.complete"]
    assert emulator.disconnects()  # served: a drop closes the connection
    assert emulator.store.count() == 0
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(running, timeout=10)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    with pytest.raises(sqlite3.ProgrammingError):
        emulator.store.count()


async def test_each_app_has_its_own_store() -> None:
    settings = EmulatorSettings()
    async with client_for(settings) as first, client_for(settings) as second:
        created = await create(first)
        assert await list_view(first) == [created]
        assert await list_view(second) == []


def test_emulator_of_refuses_an_app_it_did_not_make() -> None:
    with pytest.raises(TypeError, match="not an app made by create_app"):
        emulator_of(Starlette())
