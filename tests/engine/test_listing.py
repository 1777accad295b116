"""The one listing authority (`remote.RemoteReader`) against servers the emulator cannot be:
repeated ids, sparse items, normalised names, page caps that cut silently or refuse, and
timestamps of any precision. Each test asserts what is planned (or refused) and how many
requests it took."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from reconciler.client import ApiClient
from reconciler.diff import diff
from reconciler.model import ViewError, ViewScope, parse_timestamp
from reconciler.planner import build_plan
from reconciler.remote import Listing, ListingRules, RemoteReader
from reconciler.secrets import Credentials
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


# -- repeated ids (finding 5: the only copy was deleted) ----------------------------------


def test_the_same_id_twice_with_the_same_content_counts_once() -> None:
    api = FakeApi([item("a", "hero"), item("a", "hero")])
    [result] = listing(api)
    snapshots = only(result)
    assert not isinstance(snapshots, ViewError)
    assert [s.id for s in snapshots] == ["a"]
    # declared once, listed twice: nothing to do (today: a "duplicate" delete of the only copy)
    plan = build_plan(diff([want(key("hero"))], result.snapshots), result.counts)
    assert plan.operations == ()


def test_the_same_id_with_different_content_is_a_view_error_never_a_delete() -> None:
    api = FakeApi([item("a", "hero"), item("a", "hero renamed")])
    [result] = listing(api)
    assert result.snapshots == {}
    [error] = result.errors
    assert "holds id 'a' twice with different content" in error.message
    assert diff([want(key("hero"))], result.snapshots) == []


# -- timestamps (finding 6) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.1Z"),  # as text, ".1Z" < "Z"
        ("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00.500001Z"),
        ("2026-01-01T01:00:00+02:00", "2026-01-01T00:00:00Z"),  # 23:00 UTC the day before
        ("2026-01-01T00:00:00.123456+00:00", "2026-01-01T00:00:01Z"),
    ],
)
def test_the_oldest_copy_is_kept_by_instant_not_by_text(older: str, newer: str) -> None:
    api = FakeApi(
        [
            item("z-older", "hero", start=1, created_at=older),
            item("a-newer", "hero", start=2, created_at=newer),
        ]
    )
    [result] = listing(api)
    ops = diff([want(key("hero"))], result.snapshots)
    assert sorted((op.phase, getattr(op, "snapshot_id", "")) for op in ops) == [
        ("delete", "a-newer"),
        ("patch", "z-older"),
    ]


def test_timestamps_parse_with_0_to_6_fraction_digits_and_reject_the_rest() -> None:
    for digits in range(7):
        fraction = "." + "1" * digits if digits else ""
        assert parse_timestamp(f"2026-03-04T05:06:07{fraction}Z") is not None
    for bad in ("2026-03-04T05:06:07.1234567Z", "2026-03-04T05:06:07", "yesterday", ""):
        assert parse_timestamp(bad) is None


# -- page caps (issue 12, 1) ---------------------------------------------------------------


def spread(count: int, devices: Sequence[str] = DEVICES) -> list[dict[str, Any]]:
    return [item(f"id{i:05}", f"s{i:05}", device=devices[i % len(devices)]) for i in range(count)]


def desired_of(items: list[dict[str, Any]]) -> list[Any]:
    return [
        want(key(it["attributes"]["snapshot_name"], device=it["attributes"]["device_type"]))
        for it in items
    ]


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


# -- sparse items (issue 12, 2) ------------------------------------------------------------


def test_missing_application_id_is_accepted_because_it_was_filtered_on() -> None:
    [result] = listing(FakeApi([item("a", "hero")], sparse=("application_id",)))
    assert result.errors == ()
    [listed] = result.snapshots[SCOPE]
    assert listed.key == key("hero")
    assert diff([want(key("hero"))], result.snapshots) == []


@pytest.mark.parametrize("name", ["view_name", "snapshot_name", "device_type"])
def test_a_missing_key_field_is_a_view_error(name: str) -> None:
    [result] = listing(FakeApi([item("a", "hero")], sparse=(name,)))
    assert result.errors[0].message == (
        f"malformed listing: snapshot 'a' has no `{name}`; the view is not planned"
    )


def test_a_missing_required_field_is_not_compared_and_reported_once_per_run() -> None:
    api = FakeApi([item("a", "hero", start=1), item("b", "other")], sparse=("start",))
    first, second = listing(api, repeat=2)
    desired = [want(key("hero"), start=2000), want(key("other"))]
    assert diff(desired, first.snapshots) == []  # never a patch on every run
    assert first.warnings == (
        "the API returned no `start` for 2 snapshots; `start` is not compared for them",
    )
    assert second.warnings == ()


# -- normalised names (issue 12, 4) ------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "rule"),
    [
        ("/checkout/", "letter case"),
        ("/Checkout", "trailing slash"),
        ("/checkout", "letter case and trailing slash"),
    ],
)
def test_a_normalised_view_name_is_reported_never_a_create_loop(stored: str, rule: str) -> None:
    scope = ViewScope(APP, "/Checkout/")

    def normalise(name: str) -> str:
        return name.casefold().rstrip("/")

    api = FakeApi([item("a", "hero", view=stored)], normalise=normalise)
    [result] = listing(api, scopes=[scope])
    assert result.snapshots == {}
    [error] = result.errors
    assert f"the server normalises names ({rule})" in error.message
    assert f"write '{stored}' in the snapshots file" in error.message
    assert diff([want(key("hero", view="/Checkout/"))], result.snapshots) == []


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
