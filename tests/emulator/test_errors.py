"""403 on keys, 400 on every kind of invalid request, with specific messages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from support.emulatorkit import (
    COLLECTION,
    KEYS,
    attributes,
    client_for,
    create,
    create_body,
    stored,
    update_body,
)

pytestmark = pytest.mark.anyio

ACCEPTED = (("good-api", "good-app"),)


@pytest.fixture
async def strict_client() -> Any:
    async with client_for(EmulatorSettings(accepted_keys=ACCEPTED), headers=None) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"DD-API-KEY": "good-api"},
        {"DD-APPLICATION-KEY": "good-app"},
        {"DD-API-KEY": "good-api", "DD-APPLICATION-KEY": "wrong"},
        {"DD-API-KEY": "wrong", "DD-APPLICATION-KEY": "good-app"},
        {"DD-API-KEY": "", "DD-APPLICATION-KEY": ""},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", COLLECTION + "?filter[view_name]=/home"),
        ("POST", COLLECTION),
        ("PATCH", COLLECTION + "/x"),
        ("DELETE", COLLECTION + "/x"),
    ],
)
async def test_missing_or_wrong_keys_are_403(
    strict_client: httpx.AsyncClient, headers: dict[str, str], method: str, path: str
) -> None:
    response = await strict_client.request(method, path, headers=headers, json=create_body())
    assert response.status_code == 403
    assert response.json() == {"errors": ["Forbidden"]}
    assert "x-ratelimit-limit" in response.headers


async def test_accepted_keys_pass(strict_client: httpx.AsyncClient) -> None:
    headers = {"DD-API-KEY": "good-api", "DD-APPLICATION-KEY": "good-app"}
    response = await strict_client.post(COLLECTION, headers=headers, json=create_body())
    assert response.status_code == 201


async def test_auth_is_checked_before_the_body(strict_client: httpx.AsyncClient) -> None:
    response = await strict_client.post(COLLECTION, content=b"{not json")
    assert response.status_code == 403


def _without(name: str) -> dict[str, Any]:
    attrs = attributes()
    del attrs[name]
    return {"data": {"type": "snapshots", "attributes": attrs}}


CREATE_CASES: list[tuple[Any, str]] = [
    (b"{not json", "invalid JSON"),
    (b"", "invalid JSON"),
    ([], "request body must be a JSON object"),
    ({}, "missing required field 'data'"),
    ({"data": "x"}, "'data' must be an object"),
    ({"data": {"attributes": attributes()}}, "missing required field 'data.type'"),
    ({"data": {"type": "snapshot", "attributes": attributes()}}, "'data.type' must be 'snapshots'"),
    ({"data": {"type": "snapshots"}}, "missing required field 'data.attributes'"),
    ({"data": {"type": "snapshots", "attributes": []}}, "'data.attributes' must be an object"),
    (create_body() | {"meta": 1}, "unknown field 'meta'"),
    ({"data": create_body()["data"] | {"id": "x"}}, "unknown field 'data.id'"),
    (_without("snapshot_name"), "missing required attribute 'snapshot_name'"),
    (_without("application_id"), "missing required attribute 'application_id'"),
    (_without("start"), "missing required attribute 'start'"),
    (
        _without("is_device_type_selected_by_user"),
        "missing required attribute 'is_device_type_selected_by_user'",
    ),
    (create_body(start="1500"), "attribute 'start' must be an integer"),
    (create_body(start=True), "attribute 'start' must be an integer"),
    (create_body(start=1.5), "attribute 'start' must be an integer"),
    (create_body(start=2**63), "attribute 'start' must fit in a 64-bit integer"),
    (create_body(view_name=5), "attribute 'view_name' must be a string"),
    (create_body(session_id=None), "attribute 'session_id' must be a string"),
    (
        create_body(is_device_type_selected_by_user=0),
        "attribute 'is_device_type_selected_by_user' must be a boolean",
    ),
    (create_body(colour="red"), "unknown attribute 'colour'"),
    (create_body(org_id=1), "attribute 'org_id' is read-only"),
]


@pytest.mark.parametrize(("body", "message"), CREATE_CASES)
async def test_invalid_create_is_400(client: httpx.AsyncClient, body: Any, message: str) -> None:
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
    response = await client.post(COLLECTION, **kwargs)
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert any(message in error for error in errors), errors
    assert (await stored(client)) == []


async def test_all_attribute_problems_are_reported_at_once(client: httpx.AsyncClient) -> None:
    body = create_body(start="x", view_name=1, colour="red")
    response = await client.post(COLLECTION, json=body)
    assert len(response.json()["errors"]) == 3


def _update_cases(snapshot_id: str) -> list[tuple[Any, str]]:
    def without(name: str) -> dict[str, Any]:
        body = update_body(snapshot_id)
        del body["data"]["attributes"][name]
        return body

    return [
        (b"nope", "invalid JSON"),
        ({}, "missing required field 'data'"),
        ({"data": {"id": snapshot_id, "type": "snapshots", "attributes": 1}}, "must be an object"),
        (update_body(snapshot_id) | {"data": {"id": snapshot_id, "attributes": {}}}, "'data.type'"),
        (update_body("other-id"), "does not match the snapshot id in the path"),
        (without("event_id"), "missing required attribute 'event_id'"),
        (without("start"), "missing required attribute 'start'"),
        (
            update_body(snapshot_id, snapshot_name="x"),
            "attribute 'snapshot_name' cannot be updated",
        ),
        (
            update_body(snapshot_id, application_id="x"),
            "attribute 'application_id' cannot be updated",
        ),
        (update_body(snapshot_id, view_name="x"), "attribute 'view_name' cannot be updated"),
        (update_body(snapshot_id, device_type="x"), "attribute 'device_type' cannot be updated"),
        (update_body(snapshot_id, start=False), "attribute 'start' must be an integer"),
        (update_body(snapshot_id, view_id=3), "attribute 'view_id' must be a string"),
        (update_body(snapshot_id, created_at="x"), "attribute 'created_at' is read-only"),
        (update_body(snapshot_id, bogus=1), "unknown attribute 'bogus'"),
    ]


async def test_invalid_update_is_400_and_changes_nothing(client: httpx.AsyncClient) -> None:
    created = await create(client)
    for body, message in _update_cases(created["id"]):
        kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
        response = await client.patch(f"{COLLECTION}/{created['id']}", **kwargs)
        assert response.status_code == 400, (message, response.text)
        errors = response.json()["errors"]
        assert any(message in error for error in errors), (message, errors)
    assert (await stored(client)) == [created]


async def test_invalid_update_of_unknown_id_is_400(client: httpx.AsyncClient) -> None:
    # The body is validated before the snapshot is looked up.
    response = await client.patch(f"{COLLECTION}/missing", json=update_body("missing", bogus=1))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "filter[view_name]"),
        ({"filter[view_name]": ""}, "filter[view_name]"),
        ({"filter[view_name]": "/home", "page[limit]": "0"}, "page[limit]"),
        ({"filter[view_name]": "/home", "page[limit]": "-3"}, "page[limit]"),
        ({"filter[view_name]": "/home", "page[limit]": "ten"}, "page[limit]"),
        ({"filter[view_name]": "/home", "page[limit]": "2.5"}, "page[limit]"),
        ({"filter[view_name]": "/home", "page[limit]": ""}, "page[limit]"),
    ],
)
async def test_invalid_list_query_is_400(
    client: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await client.get(COLLECTION, params=params)
    assert response.status_code == 400
    assert any(message in error for error in response.json()["errors"])


async def test_keys_fixture_is_what_the_default_settings_accept() -> None:
    # Any non-empty pair is accepted when accepted_keys is None.
    async with client_for(headers=None) as c:
        response = await c.get(COLLECTION, params={"filter[view_name]": "/"}, headers=KEYS)
        assert response.status_code == 200
