"""How answers look where the API's documentation leaves it open, each option alone: sparse
list items, timestamp precision, error style, unknown extra attributes. Every default is
the plain behaviour (the other test files run with the defaults)."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from reconciler.emulator.shape import (
    EXTRA_ATTRIBUTES,
    error_body,
    fraction_digits,
    snapshot,
    vary_precision,
)
from support.emulatorkit import (
    COLLECTION,
    attributes,
    create,
    list_view,
    stored,
)

pytestmark = pytest.mark.anyio


# ---- sparse items --------------------------------------------------------------------------


async def test_sparse_items_leave_attributes_out_of_list_items_only(
    client: httpx.AsyncClient, settings: EmulatorSettings
) -> None:
    settings.sparse_items = ("start", "application_id")
    created = await create(client)
    assert {"start", "application_id"} <= set(created["attributes"])  # create answers all
    [listed] = await list_view(client)
    assert listed["id"] == created["id"]
    expected = {
        k: v for k, v in created["attributes"].items() if k not in ("start", "application_id")
    }
    assert listed["attributes"] == expected
    [kept] = await stored(client)
    assert kept == created


async def test_sparse_items_through_the_config_endpoint(client: httpx.AsyncClient) -> None:
    await create(client, session_id="s-1")
    await client.post("/_emulator/config", json={"sparse_items": ["session_id"]})
    [listed] = await list_view(client)
    assert "session_id" not in listed["attributes"]
    assert (await client.get("/_emulator/config")).json()["sparse_items"] == ["session_id"]


# ---- timestamp precision -------------------------------------------------------------------

FRACTION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d{1,6}))?Z$")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_variable_precision_shows_0_to_6_digits_of_the_same_instant(
    client: httpx.AsyncClient, settings: EmulatorSettings
) -> None:
    # Whole seconds, tenths and milliseconds, so that every digit count can appear.
    stamps = [
        f"2026-01-0{1 + i % 9}T10:00:0{i % 10}{frac}Z"
        for i in range(30)
        for frac in ("", ".5", ".123")
    ]
    items = [
        attributes(snapshot_name=f"s{i}") | {"created_at": s, "modified_at": s}
        for i, s in enumerate(stamps)
    ]
    assert (await client.post("/_emulator/snapshots", json={"data": items})).status_code == 201
    fixed = await list_view(client, **{"page[limit]": "1000"})
    settings.timestamp_precision = "variable"
    varied = await list_view(client, **{"page[limit]": "1000"})
    assert varied == await list_view(client, **{"page[limit]": "1000"})  # stable per snapshot
    digits = set()
    for plain, shown in zip(fixed, varied, strict=True):
        assert plain["id"] == shown["id"]
        for name in ("created_at", "modified_at"):
            match = FRACTION.match(shown["attributes"][name])
            assert match, shown["attributes"][name]
            digits.add(len(match.group(1) or ""))
            assert instant(shown["attributes"][name]) == instant(plain["attributes"][name])
    assert digits == {0, 1, 2, 3, 4, 5, 6}
    created = await create(client)  # a create's answer varies as well
    assert FRACTION.match(created["attributes"]["created_at"])


async def test_fixed_precision_is_milliseconds(client: httpx.AsyncClient) -> None:
    created = await create(client)
    assert re.fullmatch(r".*T\d\d:\d\d:\d\d\.\d{3}Z", created["attributes"]["created_at"])


@pytest.mark.parametrize(
    ("text", "digits", "expected"),
    [
        ("2026-01-01T10:00:00.120Z", 0, "2026-01-01T10:00:00.12Z"),  # never loses a digit
        ("2026-01-01T10:00:00.120Z", 2, "2026-01-01T10:00:00.12Z"),
        ("2026-01-01T10:00:00.123Z", 1, "2026-01-01T10:00:00.123Z"),
        ("2026-01-01T10:00:00.000Z", 0, "2026-01-01T10:00:00Z"),
        ("2026-01-01T10:00:00.000Z", 1, "2026-01-01T10:00:00.0Z"),
        ("2026-01-01T10:00:00.500Z", 6, "2026-01-01T10:00:00.500000Z"),
        ("2026-01-01T10:00:00.123Z", 3, "2026-01-01T10:00:00.123Z"),
    ],
)
def test_precision_varies_without_losing_information(text: str, digits: int, expected: str) -> None:
    assert vary_precision(text, digits) == expected


@pytest.mark.parametrize(
    "text", ["2026-01-01T10:00:00Z", "2026-01-01T10:00:00.123+00:00", "not a time at all!!!"]
)
def test_a_timestamp_not_in_the_canonical_form_is_left_as_it_is(text: str) -> None:
    assert vary_precision(text, 6) == text


def test_the_digits_are_fixed_per_seed_snapshot_and_field() -> None:
    ids = [f"id-{n}" for n in range(200)]
    created = [fraction_digits(1, i, "created_at") for i in ids]
    assert set(created) == set(range(7))
    assert created == [fraction_digits(1, i, "created_at") for i in ids]  # stable
    assert created != [fraction_digits(1, i, "modified_at") for i in ids]  # per field
    assert created != [fraction_digits(2, i, "created_at") for i in ids]  # per seed


# ---- error style ---------------------------------------------------------------------------


async def test_object_errors_carry_status_title_and_detail(
    client: httpx.AsyncClient, settings: EmulatorSettings
) -> None:
    settings.error_style = "objects"
    missing = await client.delete(f"{COLLECTION}/nope")
    assert missing.json() == {
        "errors": [{"status": "404", "title": "Not Found", "detail": "Not Found"}]
    }
    bad = await client.post(COLLECTION, json={"data": {"type": "snapshots", "attributes": {}}})
    assert bad.status_code == 400
    assert all(set(e) == {"status", "title", "detail"} for e in bad.json()["errors"])
    assert len(bad.json()["errors"]) == 7  # one object per problem
    refused = await client.get(
        COLLECTION, params={"filter[view_name]": "/"}, headers={"DD-API-KEY": ""}
    )
    assert refused.json() == {
        "errors": [{"status": "403", "title": "Forbidden", "detail": "Forbidden"}]
    }
    unknown = await client.put(f"{COLLECTION}/x")
    assert unknown.status_code == 405
    assert unknown.json()["errors"][0]["status"] == "405"
    admin = await client.post("/_emulator/config", json={"fail_rate": 5})
    assert admin.json() == {"errors": ["'fail_rate' must be between 0 and 1"]}  # admin: plain


async def test_string_errors_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.delete(f"{COLLECTION}/nope")).json() == {"errors": ["Not Found"]}


def test_an_error_status_without_a_known_phrase_is_titled_error() -> None:
    objects = EmulatorSettings(error_style="objects")
    assert error_body(objects, 599, ["odd", "odder"]) == {
        "errors": [
            {"status": "599", "title": "Error", "detail": "odd"},
            {"status": "599", "title": "Error", "detail": "odder"},
        ]
    }
    assert error_body(EmulatorSettings(), 599, ["odd"]) == {"errors": ["odd"]}


# ---- extra attributes ----------------------------------------------------------------------


async def test_extra_attributes_appear_on_answered_items_only(
    client: httpx.AsyncClient, settings: EmulatorSettings
) -> None:
    plain = await create(client)
    settings.extra_attributes = True
    created = await create(client)
    assert created["attributes"].items() >= EXTRA_ATTRIBUTES.items()
    listed = await list_view(client)
    assert all(item["attributes"].items() >= EXTRA_ATTRIBUTES.items() for item in listed)
    without = {k: v for k, v in listed[0]["attributes"].items() if k not in EXTRA_ATTRIBUTES}
    assert without == plain["attributes"]
    assert all(set(EXTRA_ATTRIBUTES).isdisjoint(s["attributes"]) for s in await stored(client))


def test_a_sparse_listing_may_leave_out_an_extra_attribute_too() -> None:
    settings = EmulatorSettings(extra_attributes=True, sparse_items=("revision", "start"))
    data = {"id": "x", "type": "snapshots", "attributes": {"start": 1, "view_name": "/v"}}
    listed = snapshot(settings, data, listed=True)
    assert listed["attributes"] == {"view_name": "/v"} | {
        k: v for k, v in EXTRA_ATTRIBUTES.items() if k != "revision"
    }
    answered = snapshot(settings, data, listed=False)  # a write's answer is never sparse
    assert answered["attributes"] == {"start": 1, "view_name": "/v"} | EXTRA_ATTRIBUTES
    assert data["attributes"] == {"start": 1, "view_name": "/v"}  # the store's copy untouched
