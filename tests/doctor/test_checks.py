"""`reconciler doctor` against the emulator in each mode: it names the mode, suggests the
settings, and exits 0 only when every assumption holds."""

from __future__ import annotations

import httpx
import pytest

from support.doctorkit import (
    Rewriting,
    RewrittenHeaders,
    big_view,
    doctor,
    lines_of,
    managed_view,
)
from support.workspace import API_KEY, APP, Workspace


def test_default_emulator_holds_every_assumption_read_only(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(ws)
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("Doctor: http://127.0.0.1:9, 1 managed view(s)\n")
    assert lines_of(result, "differs") == []
    assert f"ok       keys: accepted, with read permission on {APP} /checkout" in result.out
    assert "ok       items: complete: every attribute on all 3 listed snapshots" in result.out
    assert "ok       timestamps: fixed precision: 3 fraction digits" in result.out
    assert "ok       view names: listed as sent (no normalisation seen)" in result.out
    assert "ok       page limit: page[limit]=10000 accepted" in result.out
    assert "unknown  page cap: not detectable" in result.out
    assert (
        "ok       rate limits: list: replay_heatmap_snapshots_list allows 1000000 per 1 s"
        in result.out
    )
    assert result.out.endswith(
        "Suggested reconciler.yaml: nothing to change.\n\nAll assumptions hold.\n"
    )
    stats = ws.stats()
    assert set(stats["requests"]) == {"list"}  # read-only
    assert stats["committed"] == {"create": 0, "update": 0, "delete": 0}


def test_reject_mode_is_named_with_its_cap(ws: Workspace) -> None:
    managed_view(ws)
    ws.configure(page_limit_max=100, page_cap_mode="reject")
    result = doctor(ws)
    assert result.code == 1
    assert (
        "differs  page limit: reject mode: page[limit] above 100 is rejected "
        '(400 "page[limit] must be <= 100"); page_limit 1000 would fail every listing'
    ) in result.out
    assert "  page_limit: 100       # the server rejects more" in result.out
    assert "  server_page_cap: 100  # reject mode: the server's maximum" in result.out
    assert "ok       items: complete" in result.out  # listed with the cap it learnt


def test_reject_mode_above_page_limit_holds(ws: Workspace) -> None:
    managed_view(ws)
    ws.configure(page_limit_max=5000, page_cap_mode="reject", error_style="objects")
    result = doctor(ws)
    assert result.code == 0, result.out
    assert "ok       page limit: reject mode: page[limit] above 5000 is rejected" in result.out
    assert "server_page_cap: 5000" in result.out


def test_silent_cap_is_found_through_device_partitions(ws: Workspace) -> None:
    big_view(ws, 150)
    ws.configure(page_limit_max=100)
    result = doctor(ws)
    assert result.code == 1
    assert (
        f"differs  page cap: silent mode: listings stop at 100 without an error ({APP} /big "
        "lists 100, its device-type partitions 150)"
    ) in result.out
    assert "  server_page_cap: 100  # silent mode: listings stop there" in result.out


def test_reject_mode_with_a_view_over_the_cap_is_never_called_silent(ws: Workspace) -> None:
    big_view(ws, 60)
    ws.configure(page_limit_max=50, page_cap_mode="reject")
    result = doctor(ws)
    assert result.code == 1
    assert "differs  page limit: reject mode: page[limit] above 50 is rejected" in result.out
    assert "  server_page_cap: 50  # reject mode: the server's maximum" in result.out
    assert (
        f"unknown  page cap: not detectable: the largest managed view ({APP} /big) fills "
        "page[limit] (50)"
    ) in result.out
    assert "silent" not in result.out


@pytest.mark.parametrize(
    ("view", "settings", "code", "finding"),
    [
        pytest.param(
            "/checkout",
            {"sparse_items": ["start", "application_id"]},
            1,
            "differs  items: sparse: the API returned no `application_id` for 3 of 3, "
            "no `start` for 3 of 3 listed snapshots",
            id="sparse items",
        ),
        pytest.param(
            "/Shop/Cart/",
            {"normalize_view_names": True},
            1,
            "differs  view names: normalised on write: '/Shop/Cart/' is listed as '/shop/cart' "
            "(rule seen: lower case + trailing slash stripped)",
            id="normalisation, with the rule seen",
        ),
        pytest.param(
            "/checkout",
            {"extra_attributes": True},
            0,
            "note     items: unknown extra attributes (ignored): heatmap_type, is_archived, "
            "metadata, revision",
            id="extra attributes: a note",
        ),
    ],
)
def test_an_open_behaviour_is_named(
    view: str, settings: dict[str, object], code: int, finding: str, ws: Workspace
) -> None:
    ws.configure(**settings)
    managed_view(ws, view)
    result = doctor(ws)
    assert result.code == code, result.out
    assert finding in result.out


def test_variable_precision_is_named(ws: Workspace) -> None:
    managed_view(ws, count=8)
    ws.configure(timestamp_precision="variable")
    result = doctor(ws)
    assert result.code == 1
    [line] = [line for line in lines_of(result, "differs") if "timestamps" in line]
    assert line.startswith("differs  timestamps: variable precision: ")
    assert line.endswith(" fraction digits seen; order by parsed time, not text")


def test_refused_keys_stop_the_checks(ws: Workspace) -> None:
    managed_view(ws)
    ws.settings.accepted_keys = (("another-api-key-0001", "another-app-key-0001"),)
    result = doctor(ws)
    assert result.code == 1
    [refused] = lines_of(result, "differs")
    assert refused.startswith("differs  keys: refused: GET /api/v2/replay/heatmap/snapshots")
    assert "403 Forbidden" in refused
    assert "ok       site: reachable" in result.out
    assert "page limit" not in result.out
    assert API_KEY not in result.out + result.err


def test_unreachable_site(ws: Workspace) -> None:
    managed_view(ws)
    ws.configure(fail_rate=1.0)
    result = doctor(ws)
    assert result.code == 1
    [line] = lines_of(result, "differs")
    assert line.startswith("differs  site: not reachable: GET /api/v2/replay/heatmap/snapshots")


def test_a_view_that_fills_the_page_is_reported(ws: Workspace) -> None:
    managed_view(ws, count=5)
    result = doctor(ws, page_limit=5)
    assert result.code == 1
    assert (
        f"differs  listing: {APP} /checkout fills page[limit] (5): it may be truncated, so "
        "it cannot be planned on"
    ) in result.out


def test_a_failure_after_the_first_listing_still_prints_the_report(ws: Workspace) -> None:
    managed_view(ws)

    def fail_big_pages(request: httpx.Request) -> httpx.Response | None:
        if request.url.params.get("page[limit]") == "10000":
            return httpx.Response(503, json={"errors": ["down for a moment"]})
        return None

    result = doctor(ws, transport=Rewriting(ws.transport(), fail_big_pages))
    assert result.code == 1
    [stopped] = lines_of(result, "differs")
    assert stopped.startswith("differs  checks: stopped: GET /api/v2/replay/heatmap/snapshots")
    assert "503 Service Unavailable: down for a moment" in stopped
    assert result.out.endswith("1 assumption(s) do not hold.\n")


def without_rate_limit_headers(
    request: httpx.Request, headers: httpx.Headers
) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.items() if not k.startswith("x-ratelimit")]


def test_missing_rate_limit_headers_are_reported(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(ws, transport=RewrittenHeaders(ws.transport(), without_rate_limit_headers))
    assert result.code == 1
    assert lines_of(result, "differs") == [
        "differs  rate limits: list: no usable X-RateLimit-Limit/-Period/-Name headers; "
        "requests cannot be paced, only backed off after 429"
    ]


def garbled_rate_limit_headers(request: httpx.Request, headers: httpx.Headers) -> dict[str, str]:
    garbled = dict(headers) | {"x-ratelimit-name": "bucket\tname" + "x" * 500}
    if request.method == "POST":
        garbled["x-ratelimit-limit"] = "lots"
    return garbled


def test_rate_limit_headers_are_parsed_not_echoed(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(
        ws, write_probe=True, transport=RewrittenHeaders(ws.transport(), garbled_rate_limit_headers)
    )
    assert result.code == 1
    [listing] = [line for line in result.out.splitlines() if "rate limits: list" in line]
    assert listing.startswith("ok       rate limits: list: bucket?namexxx")
    assert listing.endswith("... allows 1000000 per 1 s")
    assert len(listing) < 200
    assert "differs  rate limits: create: no usable X-RateLimit" in result.out
