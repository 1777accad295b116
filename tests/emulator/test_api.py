"""The four endpoints as the API contract describes them: success shapes, PATCH semantics,
404, list filters and order."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from support.emulatorkit import (
    COLLECTION,
    attributes,
    create,
    list_view,
    update_body,
)

pytestmark = pytest.mark.anyio

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
#: The read-only attributes the server sets, by JSON type (FACTS.md: date-time strings,
#: strings, int64).
SERVER_TIMESTAMPS = ("created_at", "modified_at")
SERVER_STRINGS = ("created_by", "created_by_handle")
SERVER_INTEGERS = ("created_by_user_id", "org_id")


def assert_snapshot_shape(data: dict[str, object]) -> None:
    assert set(data) == {"id", "type", "attributes"}
    assert data["type"] == "snapshots"
    assert uuid.UUID(str(data["id"])).version == 4
    attrs = data["attributes"]
    assert isinstance(attrs, dict)
    assert None not in attrs.values()
    assert set(attrs) >= {*SERVER_TIMESTAMPS, *SERVER_STRINGS, *SERVER_INTEGERS}
    assert all(TIMESTAMP.match(attrs[name]) for name in SERVER_TIMESTAMPS)
    assert all(isinstance(attrs[name], str) and attrs[name] for name in SERVER_STRINGS)
    assert all(type(attrs[name]) is int for name in SERVER_INTEGERS)


async def test_create_answers_201_with_the_snapshot(client: httpx.AsyncClient) -> None:
    response = await client.post(
        COLLECTION, json={"data": {"type": "snapshots", "attributes": attributes()}}
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    data = response.json()["data"]
    assert_snapshot_shape(data)
    attrs = data["attributes"]
    assert {k: attrs[k] for k in attributes()} == attributes()
    assert "session_id" not in attrs
    assert "view_id" not in attrs
    assert attrs["created_at"] == attrs["modified_at"]
    assert attrs["org_id"] == 1234


async def test_optional_fields_are_returned_when_set(client: httpx.AsyncClient) -> None:
    data = await create(client, session_id="s-1", view_id="v-1")
    assert data["attributes"]["session_id"] == "s-1"
    assert data["attributes"]["view_id"] == "v-1"


async def test_list_answers_200_with_data(client: httpx.AsyncClient) -> None:
    created = await create(client)
    listed = await list_view(client)
    assert listed == [created]
    assert_snapshot_shape(listed[0])
    assert await list_view(client, "/other") == []


async def test_patch_replaces_given_fields_and_keeps_absent_optional_ones(
    client: httpx.AsyncClient,
) -> None:
    created = await create(client, session_id="s-1", view_id="v-1")
    response = await client.patch(
        f"{COLLECTION}/{created['id']}", json=update_body(created["id"], view_id="v-2")
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert_snapshot_shape(data)
    attrs = data["attributes"]
    assert attrs["event_id"] == "e-2"
    assert attrs["start"] == 2000
    assert attrs["is_device_type_selected_by_user"] is True
    assert attrs["view_id"] == "v-2"
    assert attrs["session_id"] == "s-1"  # absent from the PATCH: unchanged
    assert attrs["snapshot_name"] == created["attributes"]["snapshot_name"]
    assert attrs["created_at"] == created["attributes"]["created_at"]
    assert attrs["modified_at"] > created["attributes"]["modified_at"]
    assert await list_view(client) == [data]


async def test_patch_without_data_id_is_accepted(client: httpx.AsyncClient) -> None:
    created = await create(client)
    response = await client.patch(f"{COLLECTION}/{created['id']}", json=update_body())
    assert response.status_code == 200


async def test_delete_answers_204_without_body(client: httpx.AsyncClient) -> None:
    created = await create(client)
    response = await client.delete(f"{COLLECTION}/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert await list_view(client) == []


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_unknown_id_is_404(client: httpx.AsyncClient, method: str) -> None:
    missing = str(uuid.uuid4())
    body = update_body(missing) if method == "PATCH" else None
    response = await client.request(method, f"{COLLECTION}/{missing}", json=body)
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not Found"]}


async def test_delete_twice_is_404_the_second_time(client: httpx.AsyncClient) -> None:
    created = await create(client)
    assert (await client.delete(f"{COLLECTION}/{created['id']}")).status_code == 204
    assert (await client.delete(f"{COLLECTION}/{created['id']}")).status_code == 404


async def test_list_filters_are_exact(client: httpx.AsyncClient) -> None:
    a = await create(client, application_id="app-a", device_type="desktop")
    b = await create(client, application_id="app-b", device_type="mobile")
    await create(client, view_name="/home/", application_id="app-a")
    assert await list_view(client) == [a, b]
    assert await list_view(client, **{"filter[application_id]": "app-a"}) == [a]
    assert await list_view(client, **{"filter[device_type]": "mobile"}) == [b]
    both = {"filter[application_id]": "app-a", "filter[device_type]": "mobile"}
    assert await list_view(client, **both) == []


async def test_duplicates_are_allowed_and_listed_oldest_first(client: httpx.AsyncClient) -> None:
    first = await create(client)
    second = await create(client)
    assert first["id"] != second["id"]
    assert [s["id"] for s in await list_view(client)] == [first["id"], second["id"]]
