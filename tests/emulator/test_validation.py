"""Request validation against the OpenAPI contract: each invalid request is a 400 with a
specific message and changes nothing; page[limit] and its cap; view-name normalisation."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from reconciler.emulator.validation import (
    INT64_MAX,
    INT64_MIN,
    BadRequest,
    normalize_view_name,
    parse_json,
    parse_page_limit,
    parse_timestamp_ms,
    validate_create,
    validate_seed_item,
    validate_update,
)
from support.emulatorkit import (
    COLLECTION,
    FakeClock,
    attributes,
    client_for,
    create,
    create_body,
    list_view,
    seed,
    stored,
    update_body,
)

pytestmark = pytest.mark.anyio


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
    # No data.attributes is read as {}: the full list is pinned in test_hostile_requests.py.
    ({"data": {"type": "snapshots"}}, "missing required attribute 'application_id'"),
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


# An empty filter[view_name] and page[limit] <= 0 are valid by default, 400 only when told:
# test_hostile_requests.py pins both ways.
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "missing required query parameter 'filter[view_name]'"),
        (
            {"filter[view_name]": "/home", "page[limit]": "ten"},
            "page[limit] must be an integer, got 'ten'",
        ),
        (
            {"filter[view_name]": "/home", "page[limit]": "2.5"},
            "page[limit] must be an integer, got '2.5'",
        ),
        (
            {"filter[view_name]": "/home", "page[limit]": ""},
            "page[limit] must be an integer, got ''",
        ),
    ],
)
async def test_invalid_list_query_is_400(
    client: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await client.get(COLLECTION, params=params)
    assert response.status_code == 400
    assert response.json() == {"errors": [message]}


# ---- the pieces, one by one ----------------------------------------------------------------


def test_the_messages_of_a_create_body_name_each_problem_exactly() -> None:
    body = {"data": {"type": 3, "attributes": {"start": INT64_MIN - 1}}, "links": {}}
    with pytest.raises(BadRequest) as raised:
        validate_create(body)
    assert raised.value.messages == [
        "unknown field 'links'",
        "'data.type' must be 'snapshots', got 3",
        "missing required attribute 'application_id'",
        "missing required attribute 'view_name'",
        "missing required attribute 'device_type'",
        "missing required attribute 'snapshot_name'",
        "missing required attribute 'event_id'",
        "missing required attribute 'is_device_type_selected_by_user'",
        "attribute 'start' must fit in a 64-bit integer",
    ]


@pytest.mark.parametrize("start", [INT64_MIN, -1, 0, INT64_MAX])
def test_start_takes_every_64_bit_integer(start: int) -> None:
    assert validate_create(create_body(start=start))["start"] == start


# Another data.id than the path's (valid by default, 400 when told) is pinned through the
# endpoint in test_hostile_requests.py.
def test_an_update_without_data_id_or_with_the_path_id_is_valid() -> None:
    assert validate_update(update_body(), "abc") == update_body()["data"]["attributes"]
    assert validate_update(update_body("abc", view_id="v"), "abc")["view_id"] == "v"


@pytest.mark.parametrize(("body", "offset"), [(b"\xff\xfe", 0), (b'{"a": "\xe9"}', 7)])
def test_a_body_that_is_not_utf8_is_a_bad_request_naming_the_byte(body: bytes, offset: int) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_json(body)
    assert raised.value.messages == [f"request body is not valid UTF-8 (byte {offset})"]


# The rest of these messages is Python's json module's, which differs between versions.
@pytest.mark.parametrize("body", [b"{", b"[1,]", b"NaN-ish"])
def test_malformed_json_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_json(body)
    [message] = raised.value.messages
    assert message.startswith("invalid JSON in request body: ")


@pytest.fixture
def local_time_far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A local time zone that is not UTC, so that a naive time read as local would show."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_far_from_utc")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-01-01T00:00:01Z", 1000),
        ("1970-01-01T00:00:01.5+00:00", 1500),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1970-01-01T00:00:02", 2000),  # naive: UTC
    ],
)
def test_seed_timestamps_are_milliseconds_since_the_epoch(text: str, expected: int) -> None:
    assert parse_timestamp_ms(text, "created_at") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "'created_at' must be an ISO-8601 string"),
        ("yesterday", "'created_at' is not an ISO-8601 timestamp: 'yesterday'"),
    ],
)
def test_seed_timestamps_that_are_not_iso_8601_are_refused(value: object, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_timestamp_ms(value, "created_at")
    assert raised.value.messages == [message]


def test_a_seed_item_names_its_index_and_carries_its_times() -> None:
    item = attributes() | {
        "created_at": "1970-01-01T00:00:03Z",
        "modified_at": "1970-01-01T00:00:04Z",
    }
    assert validate_seed_item(item, 0) == (attributes(), 3000, 4000)
    assert validate_seed_item(attributes(), 1) == (attributes(), None, None)
    with pytest.raises(BadRequest) as raised:
        validate_seed_item(attributes(start="x", org_id=1), 7)
    assert raised.value.messages == [
        "data[7]: attribute 'start' must be an integer",
        "data[7]: attribute 'org_id' is read-only",
    ]
    with pytest.raises(BadRequest, match=r"^data\[2\] must be an object of attributes$"):
        validate_seed_item(["x"], 2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 100),
        ("1", 1),
        (" 7 ", 7),
        ("499", 499),
        ("500", 500),
        ("501", 500),
        ("99999999999", 500),
    ],
)
def test_page_limit_is_a_positive_integer_capped_silently(raw: str | None, expected: int) -> None:
    assert parse_page_limit(raw, 100, 500) == expected


def test_the_default_page_limit_never_exceeds_the_cap() -> None:
    assert parse_page_limit(None, 100, 20) == 20
    assert parse_page_limit(None, 100, 20, reject=True) == 20


# 0 or less (an empty page by default, 400 when told) is pinned through the endpoint in
# test_hostile_requests.py.
@pytest.mark.parametrize("reject_below_one", [False, True])
@pytest.mark.parametrize("raw", ["+5", "1e3", "٣", "５", "", " ", "0x10"])
def test_page_limit_refuses_anything_but_ascii_digits(raw: str, reject_below_one: bool) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_page_limit(raw, 100, 500, reject_below_one=reject_below_one)
    assert raised.value.messages == [f"page[limit] must be an integer, got {raw!r}"]


def test_page_limit_above_the_cap_is_refused_in_reject_mode() -> None:
    assert parse_page_limit("500", 100, 500, reject=True) == 500
    with pytest.raises(BadRequest) as raised:
        parse_page_limit("501", 100, 500, reject=True)
    assert raised.value.messages == ["page[limit] must be <= 500"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/Home/", "/home"),
        ("/a//", "/a"),
        ("/", "/"),
        ("///", "/"),
        ("", ""),
        ("noslash", "noslash"),
        (unicodedata.normalize("NFD", "/É"), "/é"),
    ],
)
def test_view_names_normalise_to_nfc_lower_case_without_trailing_slash(
    name: str, expected: str
) -> None:
    assert normalize_view_name(name) == expected


# ---- page[limit] through the list endpoint -------------------------------------------------


async def test_page_limit_default_and_cap(clock: FakeClock) -> None:
    settings = EmulatorSettings(clock=clock, page_limit_default=3, page_limit_max=5)
    async with client_for(settings) as client:
        seeded = await client.post(
            "/_emulator/snapshots", json={"data": [attributes(start=i) for i in range(8)]}
        )
        assert seeded.status_code == 201
        assert len(await list_view(client)) == 3
        assert len(await list_view(client, **{"page[limit]": "4"})) == 4
        capped = await list_view(client, **{"page[limit]": "1000"})
        assert [s["attributes"]["start"] for s in capped] == [0, 1, 2, 3, 4]


async def test_silent_cap_cuts_the_page(
    client: httpx.AsyncClient, settings: EmulatorSettings
) -> None:
    settings.page_limit_max = 3
    await seed(client, 5)
    assert len(await list_view(client, **{"page[limit]": "10"})) == 3
    assert len(await list_view(client, **{"page[limit]": "2"})) == 2


async def test_reject_mode_answers_400_above_the_cap(
    client: httpx.AsyncClient, settings: EmulatorSettings
) -> None:
    settings.page_limit_max, settings.page_cap_mode = 3, "reject"
    await seed(client, 5)
    params = {"filter[view_name]": "/home", "page[limit]": "4"}
    response = await client.get(COLLECTION, params=params)
    assert response.status_code == 400
    assert response.json() == {"errors": ["page[limit] must be <= 3"]}
    assert len(await list_view(client, **{"page[limit]": "3"})) == 3
    assert len(await list_view(client)) == 3  # no page[limit]: the default, within the cap
    settings.error_style = "objects"
    response = await client.get(COLLECTION, params=params)
    assert response.json() == {
        "errors": [{"status": "400", "title": "Bad Request", "detail": "page[limit] must be <= 3"}]
    }


async def test_cap_options_through_the_config_endpoint(client: httpx.AsyncClient) -> None:
    changed = await client.post(
        "/_emulator/config", json={"page_limit_max": 2, "page_cap_mode": "reject"}
    )
    assert changed.status_code == 200
    response = await client.get(COLLECTION, params={"filter[view_name]": "/", "page[limit]": "3"})
    assert response.json() == {"errors": ["page[limit] must be <= 2"]}


# ---- view name normalisation ---------------------------------------------------------------


async def test_normalized_view_names_are_stored_and_matched_in_normal_form(
    client: httpx.AsyncClient, settings: EmulatorSettings
) -> None:
    settings.normalize_view_names = True
    decomposed = unicodedata.normalize("NFD", "/Café/Menu/")
    created = await create(client, view_name=decomposed)
    assert created["attributes"]["view_name"] == "/café/menu"
    for spelling in (decomposed, "/café/menu", "/CAFÉ/MENU//", "/Café/Menu"):
        assert [s["id"] for s in await list_view(client, spelling)] == [created["id"]]
    root = await create(client, view_name="/")
    assert root["attributes"]["view_name"] == "/"
    assert [s["id"] for s in await list_view(client, "//")] == [root["id"]]


async def test_without_normalization_the_filter_is_exact(client: httpx.AsyncClient) -> None:
    created = await create(client, view_name="/Café/")
    assert created["attributes"]["view_name"] == "/Café/"
    assert await list_view(client, "/café") == []
    assert await list_view(client, "/Café/") == [created]
