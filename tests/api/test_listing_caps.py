"""Page caps (issue 12, 1), against servers the emulator cannot be: a cap that cuts
silently, one that refuses, views listed again by device type, and the round counts that
are cross-checked. Each test asserts what is planned (or refused) and how many requests it
took."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest

from reconciler.core.model import ViewScope
from reconciler.plan.diff import diff
from support.factories import APP
from support.listingkit import DEVICES, SCOPE, FakeApi, desired_of, item, listing, spread

# -- page caps (issue 12, 1) ---------------------------------------------------------------


@pytest.mark.parametrize("cap", [50, 100, 1000])
@pytest.mark.parametrize("mode", ["silent", "reject"])
def test_a_view_over_the_cap_is_listed_by_device_type_or_refused(cap: int, mode: str) -> None:
    """Acceptance (issue 12): over the cap, never a wrong plan; under it, one request."""
    rules = {"server_page_cap": cap} if mode == "silent" else {}
    # over the cap but each device type under it: listed by device type, planned correctly
    items = spread(cap + cap // 2)
    api = FakeApi(items, cap=cap, mode=mode)
    [result] = listing(api, **rules)
    assert result.errors == ()
    assert len(result.snapshots[SCOPE]) == len(items)
    assert diff(desired_of(items), result.snapshots) == []
    assert [r.get("filter[device_type]") for r in api.requests][-3:] == list(DEVICES)
    # one device type over the cap: a view error, nothing planned
    crowded = spread(cap + 1, devices=("desktop",))
    api = FakeApi(crowded, cap=cap, mode=mode)
    [result] = listing(api, **rules)
    [error] = result.errors
    assert "listing of its desktop snapshots returned" in error.message
    assert diff(desired_of(crowded[:1]), result.snapshots) == []
    # under the cap: one request (after the run has learned the cap, in reject mode)
    small = spread(cap - 1)
    api = FakeApi(small, cap=cap, mode=mode)
    first, second = listing(api, repeat=2, **rules)
    assert first.errors == second.errors == ()
    assert len(first.snapshots[SCOPE]) == cap - 1
    expected_first = 1 if mode == "silent" or cap == 1000 else 2  # the 400 that taught it
    assert len(api.requests) == expected_first + 1


def test_a_silent_cap_below_server_page_cap_cannot_be_seen_so_the_setting_names_it() -> None:
    """Documented limit: a silent cut below `server_page_cap` looks complete. Told the cap
    (the `server_page_cap` setting), the same listing is never planned wrongly."""
    items = spread(150, devices=("desktop",))
    (blind,) = listing(FakeApi(items, cap=100))
    assert len(blind.snapshots[SCOPE]) == 100  # what any client would see
    (told,) = listing(FakeApi(items, cap=100), server_page_cap=100)
    assert told.snapshots == {}
    assert "server's page cap (100)" in told.errors[0].message


def test_a_silent_cap_below_server_page_cap_is_seen_by_device_type() -> None:
    """A round count under the page size is cross-checked by device type: more there than
    in the whole is a view error naming the cap, never a plan that creates what was cut."""
    items = spread(150)
    api = FakeApi(items, cap=100)
    [result] = listing(api)
    assert result.snapshots == {}
    [error] = result.errors
    assert error.message == (
        "the API returned 100 snapshots for the view but more by device type (150): it caps "
        "listings at 100; set server_page_cap: 100 (reconciler doctor finds it); the view is "
        "not planned"
    )


@pytest.mark.parametrize(("count", "requests"), [(99, 1), (49, 1), (100, 4), (50, 4)])
def test_a_round_count_is_cross_checked_and_planned_when_the_parts_agree(
    count: int, requests: int
) -> None:
    items = spread(count)
    api = FakeApi(items)
    [result] = listing(api)
    assert result.errors == ()
    assert diff(desired_of(items), result.snapshots) == []
    assert len(api.requests) == requests


def creates_two(items: list[dict[str, Any]]) -> None:
    items.extend([item("new1", "new1"), item("new2", "new2")])


def removes_four(items: list[dict[str, Any]]) -> None:
    del items[:4]


@pytest.mark.parametrize(
    ("devices", "count", "writer", "listed"),
    [
        pytest.param(DEVICES, 100, creates_two, 102, id="grows: not a cap"),
        pytest.param(("desktop",), 150, removes_four, 146, id="shrinks: a partition"),
    ],
)
def test_a_view_another_writer_changes_while_cross_checked_is_listed_again(
    devices: Sequence[str],
    count: int,
    writer: Callable[[list[dict[str, Any]]], None],
    listed: int,
) -> None:
    """Another writer changes the view after the first whole listing. Grown: more by device
    type than in the whole, but the whole grew meanwhile, so it is not a cap. Shrunk (racing
    applies): those deleted between the whole listing and the listing by device type are gone
    from a second whole listing too, so the filter is a partition. Either way the view is
    listed again and planned."""
    items = spread(count, devices)
    api = FakeApi(items)
    plain_handler = api.handler

    def changing(request: httpx.Request) -> httpx.Response:
        response = plain_handler(request)
        if len(api.requests) == 1:
            writer(items)
        return response

    api.handler = changing  # type: ignore[method-assign]
    [result] = listing(api)
    assert result.errors == ()
    assert len(result.snapshots[SCOPE]) == listed
    assert diff(desired_of(items), result.snapshots) == []


def test_reject_mode_learns_by_halving_when_the_400_names_no_maximum() -> None:
    api = FakeApi(spread(10), cap=300, mode="reject", reject_message="page[limit] is too large")
    first, _ = listing(api, repeat=2)
    assert first.errors == ()
    limits = [int(r["page[limit]"]) for r in api.requests]
    assert limits == [1000, 500, 250, 250]  # learned once, remembered for the run


def test_a_400_about_something_else_is_a_view_error_without_retries() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"errors": ["filter[view_name] is invalid"]})

    api = FakeApi([])
    api.handler = handler  # type: ignore[method-assign]
    [result] = listing(api)
    assert "filter[view_name] is invalid" in result.errors[0].message


def test_page_limit_below_the_cap_keeps_its_message() -> None:
    [result] = listing(FakeApi(spread(5)), page_limit=5)
    assert result.errors[0].message == (
        "listing returned 5 snapshots, the page size: it may be truncated (the API has no "
        "cursor); raise page_limit (now 5)"
    )


def test_an_unknown_device_type_in_a_cut_listing_cannot_be_partitioned() -> None:
    items = [item("tv", "tv", device="television"), *spread(50)]
    [result] = listing(FakeApi(items, cap=50), server_page_cap=50)
    assert "device type 'television' cannot be listed apart" in result.errors[0].message


def test_a_400_of_one_view_mentioning_a_limit_does_not_shrink_the_others() -> None:
    api = FakeApi(spread(10))
    plain = api.handler

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["filter[view_name]"] == "/a-odd":  # listed first
            return httpx.Response(400, json={"errors": ["view name exceeds the length limit"]})
        return plain(request)

    api.handler = handler  # type: ignore[method-assign]
    odd = ViewScope(APP, "/a-odd")
    [result] = listing(api, scopes=[odd, SCOPE], parallelism=1)
    assert [error.scope for error in result.errors] == [odd]
    assert len(result.snapshots[SCOPE]) == 10
    checkout = [r["page[limit]"] for r in api.requests if r["filter[view_name]"] == "/checkout"]
    assert checkout == ["1000"]


def test_a_device_type_filter_that_loses_snapshots_is_a_view_error() -> None:
    api = FakeApi(spread(60), cap=50)
    plain = api.handler

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("filter[device_type]") == "tablet":
            return httpx.Response(200, json={"data": []})  # a filter that drops its items
        return plain(request)

    api.handler = handler  # type: ignore[method-assign]
    [result] = listing(api, server_page_cap=50)
    assert result.snapshots == {}
    assert "misses" in result.errors[0].message


def test_a_round_listing_whose_device_filter_drops_snapshots_stays_a_view_error() -> None:
    api = FakeApi(spread(150))
    plain = api.handler

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("filter[device_type]") == "tablet":
            return httpx.Response(200, json={"data": []})
        return plain(request)

    api.handler = handler  # type: ignore[method-assign]
    [result] = listing(api)
    assert result.snapshots == {}
    assert result.errors[0].message.startswith("its listing by device type misses 50 snapshots")


def test_a_cut_second_listing_cannot_excuse_what_the_device_filter_dropped() -> None:
    """Over the cap, a second whole listing is cut too: a snapshot absent from it may only
    have been cut, so it does not prove the snapshot was deleted."""
    items = spread(60)
    api = FakeApi(items, cap=50)
    plain = api.handler
    dropped = {f"id{i:05}" for i in range(10)}

    def handler(request: httpx.Request) -> httpx.Response:
        device = request.url.params.get("filter[device_type]")
        if device is None and len(api.requests) > 0:  # the second whole listing: newest first
            api.requests.append(dict(request.url.params))
            page = list(reversed(items))[:50]
            return httpx.Response(200, json={"data": page})
        response = plain(request)
        if device is not None:
            kept = [d for d in json.loads(response.content)["data"] if d["id"] not in dropped]
            return httpx.Response(200, json={"data": kept})
        return response

    api.handler = handler  # type: ignore[method-assign]
    [result] = listing(api, server_page_cap=50)
    assert result.snapshots == {}
    assert "misses" in result.errors[0].message
