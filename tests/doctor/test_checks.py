"""The read-only checks of `reconciler doctor`, against the emulator in each mode: it names
the mode, suggests the settings, and exits 0 only when every assumption holds; and the
recorder of rate-limit headers they read."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from reconciler.core.resource import COLLECTION_PATH
from reconciler.doctor.checks import HeaderRecorder, check_rate_limits
from reconciler.doctor.report import Finding, Report
from support.doctorkit import (
    Rewriting,
    RewrittenHeaders,
    big_view,
    doctor,
    lines_of,
    managed_view,
)
from support.factories import APP
from support.workspace import API_KEY, Workspace, snapshot


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


def refuse_page_limits_above(
    cap: int, message: str
) -> Callable[[httpx.Request], httpx.Response | None]:
    """A server in reject mode whose 400 says `message`."""

    def answer(request: httpx.Request) -> httpx.Response | None:
        limit = request.url.params.get("page[limit]")
        if request.method == "GET" and limit is not None and int(limit) > cap:
            return httpx.Response(400, json={"errors": [message]})
        return None

    return answer


def test_a_cap_without_a_number_in_the_message_is_found_by_halving(ws: Workspace) -> None:
    managed_view(ws)
    refuse = refuse_page_limits_above(37, "page size too large")
    result = doctor(ws, transport=Rewriting(ws.transport(), refuse))
    assert result.code == 1
    assert (
        'differs  page limit: reject mode: page[limit] above 37 is rejected (400 "page size '
        'too large"; the largest accepted, found by halving, is 37)'
    ) in result.out
    assert "  page_limit: 37" in result.out


@pytest.mark.parametrize(
    "message",
    [
        "page[limit] must be <= 250",
        "page[limit] must be less than or equal to 250",
        "Invalid page size: must be at most 250.",
    ],
)
def test_the_cap_a_rejection_names_is_taken_once_verified(ws: Workspace, message: str) -> None:
    managed_view(ws)
    transport = Rewriting(ws.transport(), refuse_page_limits_above(250, message))
    result = doctor(ws, transport=transport)
    assert result.code == 1
    assert (
        f'differs  page limit: reject mode: page[limit] above 250 is rejected (400 "{message}"); '
        "page_limit 1000 would fail every listing"
    ) in result.out
    assert "  server_page_cap: 250  # reject mode: the server's maximum" in result.out


def test_a_cap_the_server_itself_refuses_is_found_by_halving(ws: Workspace) -> None:
    managed_view(ws)
    wrong = refuse_page_limits_above(300, "page[limit] must be <= 500")
    result = doctor(ws, transport=Rewriting(ws.transport(), wrong))
    assert result.code == 1
    assert "the largest accepted, found by halving, is 300)" in result.out
    assert "  server_page_cap: 300" in result.out


def test_empty_managed_views_leave_the_page_cap_unknown(ws: Workspace) -> None:
    ws.write_snapshots({"/empty": []})
    result = doctor(ws)
    assert result.code == 0, result.out
    assert "unknown  page cap: not detectable: the managed views are empty" in result.out
    assert "unknown  items: no snapshots in the managed views to inspect" in result.out


def test_no_managed_views_means_nothing_to_list(ws: Workspace) -> None:
    ws.write("snapshots/a.yaml", f"application_id: {APP}\nviews: {{}}\n")
    result = doctor(ws)
    assert result.code == 0, result.out
    assert "unknown  views: no managed views in the snapshot files: nothing to list" in result.out
    assert ws.stats()["total_requests"] == 0


def test_a_view_that_cannot_be_listed_is_named(ws: Workspace) -> None:
    ws.write_snapshots({"/a": [snapshot("s")], "/b": [snapshot("s")]})

    def fail_b(request: httpx.Request) -> httpx.Response | None:
        if request.url.params.get("filter[view_name]") == "/b":
            return httpx.Response(400, json={"errors": ["no such view today"]})
        return None

    result = doctor(ws, transport=Rewriting(ws.transport(), fail_b))
    assert result.code == 1
    [line] = [line for line in lines_of(result, "differs") if "listing" in line]
    assert line.startswith(f"differs  listing: {APP} /b could not be listed: GET ")
    assert line.endswith("400 Bad Request: no such view today")


# ---- the header recorder -------------------------------------------------------------------


def answering(headers: dict[str, str]) -> httpx.MockTransport:
    """A server of the test's own that answers every request with these headers."""
    return httpx.MockTransport(lambda request: httpx.Response(200, headers=headers, json={}))


async def send(recorder: HeaderRecorder, method: str, path: str) -> None:
    request = httpx.Request(method, f"http://127.0.0.1:9{path}", headers={"DD-API-KEY": "k"})
    await recorder.handle_async_request(request)


@pytest.mark.anyio
async def test_the_recorder_keeps_only_rate_limit_headers_per_operation() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        limit = "5" if request.url.path.startswith(COLLECTION_PATH) else "999"
        headers = {"X-RateLimit-Limit": limit, "x-ratelimit-name": "n", "Server": "s"}
        return httpx.Response(200, headers=headers, json={})

    recorder = HeaderRecorder(httpx.MockTransport(answer))
    await send(recorder, "GET", COLLECTION_PATH)
    await send(recorder, "DELETE", f"{COLLECTION_PATH}/id")
    await send(recorder, "GET", "/api/v2/other")  # not a snapshot operation
    await send(recorder, "PUT", COLLECTION_PATH)  # not one of the four
    expected = {"x-ratelimit-limit": "5", "x-ratelimit-name": "n"}
    assert recorder.seen == {"list": expected, "delete": expected}


@pytest.mark.anyio
async def test_an_answer_without_the_headers_does_not_hide_those_seen_before() -> None:
    # A gateway's 5xx carries no rate-limit headers; the API's answers before it did.
    answers = [{}, {"x-ratelimit-limit": "5"}, {}]
    inner = httpx.MockTransport(lambda request: httpx.Response(200, headers=answers.pop(0)))
    recorder = HeaderRecorder(inner)
    await send(recorder, "POST", COLLECTION_PATH)
    assert recorder.seen == {"create": {}}  # seen, without headers
    await send(recorder, "POST", COLLECTION_PATH)
    await send(recorder, "POST", COLLECTION_PATH)
    assert recorder.seen == {"create": {"x-ratelimit-limit": "5"}}


@pytest.mark.parametrize(
    ("headers", "finding"),
    [
        (
            {"x-ratelimit-limit": "60", "x-ratelimit-period": "10", "x-ratelimit-name": " b "},
            Finding("ok", "rate limits", "update: b allows 60 per 10 s"),
        ),
        (
            {"x-ratelimit-limit": "60", "x-ratelimit-period": "0.5", "x-ratelimit-name": "b"},
            Finding("ok", "rate limits", "update: b allows 60 per 0.5 s"),
        ),
        (
            {"x-ratelimit-limit": "0", "x-ratelimit-period": "10", "x-ratelimit-name": "b"},
            None,
        ),
        ({"x-ratelimit-limit": "60", "x-ratelimit-period": "10", "x-ratelimit-name": " "}, None),
        ({"x-ratelimit-limit": "60", "x-ratelimit-name": "b"}, None),
        ({}, None),
    ],
)
def test_rate_limits_are_usable_only_with_a_limit_a_period_and_a_name(
    headers: dict[str, str], finding: Finding | None
) -> None:
    recorder = HeaderRecorder(answering({}))
    recorder.seen = {"update": headers}
    report = Report("t", 1)
    check_rate_limits(recorder, report)
    unusable = Finding(
        "differs",
        "rate limits",
        "update: no usable X-RateLimit-Limit/-Period/-Name headers; requests cannot be "
        "paced, only backed off after 429",
    )
    assert report.findings == [finding or unusable]
