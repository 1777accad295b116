"""Realism options, each alone: behaviours the API's documentation leaves open. Every
default is the plain behaviour (the other test files run with the defaults)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from reconciler.emulator.shape import EXTRA_ATTRIBUTES
from support.emulatorkit import (
    COLLECTION,
    KEYS,
    FakeClock,
    attributes,
    client_for,
    create,
    list_view,
    seed,
    stored,
    update_body,
)

pytestmark = pytest.mark.anyio


# ---- page cap ------------------------------------------------------------------------------


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


# ---- listing lag ---------------------------------------------------------------------------


async def test_lag_hides_a_create_then_shows_it(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    settings.list_lag_ms = 1000
    created = await create(client)  # the creator gets its answer at once
    assert await list_view(client) == []
    assert await stored(client) == [created]  # the admin view is never lagged
    clock.advance(0.999)
    assert await list_view(client) == []
    clock.advance(0.002)
    assert await list_view(client) == [created]
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["faults"]["lagged_listings"] == 2


async def test_lag_keeps_a_deleted_one_and_the_old_version_of_a_patched_one(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    first, second = await create(client), await create(client, snapshot_name="two")
    settings.list_lag_ms = 500
    patch = update_body(event_id="e-new", start=9)
    patched = await client.patch(f"{COLLECTION}/{first['id']}", json=patch)
    assert patched.status_code == 200
    assert (await client.delete(f"{COLLECTION}/{second['id']}")).status_code == 204
    assert await list_view(client) == [first, second]  # as they were before the writes
    assert [s["id"] for s in await stored(client)] == [first["id"]]
    clock.advance(0.501)
    assert await list_view(client) == [patched.json()["data"]]


async def test_lag_shows_the_version_before_the_first_unseen_write(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    settings.list_lag_ms = 1000
    created = await create(client)
    patch = update_body(event_id="e-new", start=9)
    clock.advance(0.6)
    patched = await client.patch(f"{COLLECTION}/{created['id']}", json=patch)
    assert await list_view(client) == []  # the create itself is not visible yet
    clock.advance(0.5)
    assert await list_view(client) == [created]  # the create is, the patch not yet
    clock.advance(0.5)
    assert await list_view(client) == [patched.json()["data"]]


async def test_lag_respects_the_page_limit_and_filters(
    client: httpx.AsyncClient, settings: EmulatorSettings, clock: FakeClock
) -> None:
    old = [await create(client, snapshot_name=f"old{i}") for i in range(3)]
    settings.list_lag_ms = 100
    for snapshot in old:
        await client.delete(f"{COLLECTION}/{snapshot['id']}")
    await create(client, view_name="/other")
    assert await list_view(client, **{"page[limit]": "2"}) == old[:2]
    assert await list_view(client, "/other") == []
    clock.advance(0.2)
    assert await list_view(client) == []
    assert len(await list_view(client, "/other")) == 1


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


# ---- keys ----------------------------------------------------------------------------------


async def test_only_the_accepted_pair_passes() -> None:
    settings = EmulatorSettings(accepted_keys=(("right-api", "right-app"),))
    async with client_for(settings, headers=None) as c:
        params = {"filter[view_name]": "/"}
        assert (await c.get(COLLECTION, params=params, headers=KEYS)).status_code == 403
        right = {"DD-API-KEY": "right-api", "DD-APPLICATION-KEY": "right-app"}
        assert (await c.get(COLLECTION, params=params, headers=right)).status_code == 200
