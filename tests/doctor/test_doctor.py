"""`reconciler doctor` against the emulator in each mode: it names the mode, suggests the
settings, and exits 0 only when every assumption holds."""

from __future__ import annotations

import httpx
import pytest
from doctor.doctorkit import (
    DeletesAlwaysSucceed,
    Rewriting,
    StepClock,
    doctor,
    lines_of,
    probes_left,
)

from reconciler.doctor_probe import PROBE_PREFIX
from support.workspace import API_KEY, APP, Workspace, remote_attributes, snapshot


def managed_view(ws: Workspace, view: str = "/checkout", count: int = 3) -> None:
    ws.write_snapshots({view: [snapshot(f"s{i}", start=i) for i in range(count)]})
    ws.seed(*(remote_attributes(f"s{i}", view=view, start=i) for i in range(count)))


def big_view(ws: Workspace, count: int) -> None:
    """/big, declared with one snapshot, holds `count` in Datadog, half desktop, half mobile."""
    ws.write_snapshots({"/big": [snapshot("declared")]})
    devices = ("mobile", "desktop")
    ws.seed(*(remote_attributes(f"s{i}", view="/big", device=devices[i % 2]) for i in range(count)))


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


# ---- --write-probe -------------------------------------------------------------------------


def test_write_probe_checks_writes_and_leaves_nothing(ws: Workspace) -> None:
    managed_view(ws)
    before = ws.remote()
    result = doctor(ws, write_probe=True)
    assert result.code == 0, result.out
    for expected in (
        "ok       create: answered with the new snapshot and its id",
        "ok       listing lag: none seen: a create showed in the next listing",
        "ok       view names: the list filter is exact ('/RECONCILER-DOCTOR-PROBE/' is another "
        "view)",
        "ok       patch: applied: answered and listed with the new values",
        "ok       delete: 2xx, then 404 for the same id (as the engine assumes)",
        "ok       listing lag: none seen: a delete showed in the next listing",
        "ok       rate limits: create: replay_heatmap_snapshots_create allows 1000000 per 1 s",
        "ok       rate limits: delete: replay_heatmap_snapshots_delete allows 1000000 per 1 s",
    ):
        assert expected in result.out
    assert ws.remote() == before
    stats = ws.stats()
    assert stats["committed"] == {"create": 1, "update": 1, "delete": 1}
    assert stats["requests"]["delete"] == {"204": 1, "404": 1}


def test_write_probe_measures_listing_lag(ws: Workspace) -> None:
    clock = StepClock()
    ws.settings.clock = clock
    managed_view(ws)
    ws.configure(list_lag_ms=2500)
    result = doctor(ws, write_probe=True, clock=clock)
    assert result.code == 1
    lags = [line for line in lines_of(result, "differs") if "listing lag" in line]
    assert len(lags) == 2
    for line, write in zip(lags, ("a create", "a delete"), strict=True):
        shown_after = int(line.split("only after ")[1].split(" ms")[0])
        assert line.startswith(f"differs  listing lag: {write} showed in listings only after")
        assert 2500 <= shown_after < 5000  # the lag, within one growing pause
    assert probes_left(ws) == []
    ws.configure(list_lag_ms=0)
    assert probes_left(ws) == []


def test_write_probe_reports_a_create_without_id_and_still_cleans_up(ws: Workspace) -> None:
    managed_view(ws)
    ws.configure(create_without_id_rate=1.0)
    result = doctor(ws, write_probe=True)
    assert result.code == 1
    assert "differs  create: answered without a usable snapshot" in result.out
    assert "ok       delete: 2xx, then 404" in result.out  # found by name, then deleted
    assert probes_left(ws) == []


def test_write_probe_removes_leftovers_and_nothing_else(ws: Workspace) -> None:
    managed_view(ws)
    view = "/scratch"
    ws.seed(
        remote_attributes(f"{PROBE_PREFIX}old-1", view=view),
        remote_attributes(f"{PROBE_PREFIX}old-2", view=view),
        remote_attributes("someone else's", view=view),
        remote_attributes(f"{PROBE_PREFIX}elsewhere", view="/other"),
    )
    result = doctor(ws, write_probe=True, probe_view=view)
    assert result.code == 0, result.out
    assert (
        "note     probe: removed 2 leftover probe snapshot(s) of an interrupted run" in result.out
    )
    names = sorted(item["attributes"]["snapshot_name"] for item in probes_left(ws))
    assert names == [f"{PROBE_PREFIX}elsewhere"]
    assert "someone else's" in [item["attributes"]["snapshot_name"] for item in ws.remote()]


def test_probe_view_must_be_a_scratch_view(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(ws, write_probe=True, probe_view="/checkout")
    assert result.code == 1
    assert "--probe-view '/checkout' is a managed view" in result.err
    assert ws.stats()["total_requests"] == 0


def test_the_normalised_filter_is_seen_by_the_probe(ws: Workspace) -> None:
    managed_view(ws)
    ws.configure(normalize_view_names=True)
    result = doctor(ws, write_probe=True)
    assert result.code == 1
    assert (
        "differs  view names: the list filter is normalised: '/RECONCILER-DOCTOR-PROBE/' lists "
        "the probe of '/reconciler-doctor-probe'"
    ) in result.out
    assert probes_left(ws) == []


def test_a_second_delete_answered_2xx_is_reported(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(ws, write_probe=True, transport=DeletesAlwaysSucceed(ws.transport()))
    assert result.code == 1
    assert "differs  delete: a second DELETE of the same id answered 2xx, not 404" in result.out
    assert probes_left(ws) == []


def test_a_cap_without_a_number_in_the_message_is_found_by_halving(ws: Workspace) -> None:
    managed_view(ws)

    def refuse_above_37(request: httpx.Request) -> httpx.Response | None:
        limit = request.url.params.get("page[limit]")
        if request.method == "GET" and limit is not None and int(limit) > 37:
            return httpx.Response(400, json={"errors": ["page size too large"]})
        return None

    result = doctor(ws, transport=Rewriting(ws.transport(), refuse_above_37))
    assert result.code == 1
    assert (
        'differs  page limit: reject mode: page[limit] above 37 is rejected (400 "page size '
        'too large"; the largest accepted, found by halving, is 37)'
    ) in result.out
    assert "  page_limit: 37" in result.out


def test_a_probe_stopped_by_an_error_is_still_deleted(ws: Workspace) -> None:
    managed_view(ws)

    def refuse_patches(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PATCH":
            return httpx.Response(400, json={"errors": ["no patching today"]})
        return None

    result = doctor(ws, write_probe=True, transport=Rewriting(ws.transport(), refuse_patches))
    assert result.code == 1
    [stopped] = [line for line in lines_of(result, "differs") if "probe" in line]
    assert stopped.startswith("differs  probe: stopped: PATCH /api/v2/replay/heatmap/snapshots/")
    assert stopped.endswith("400 Bad Request: no patching today")
    assert probes_left(ws) == []
    assert ws.stats()["committed"] == {"create": 1, "update": 0, "delete": 1}


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


class NoRateLimitHeaders(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        headers = [(k, v) for k, v in response.headers.items() if not k.startswith("x-ratelimit")]
        return httpx.Response(response.status_code, headers=headers, content=body)


def test_missing_rate_limit_headers_are_reported(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(ws, transport=NoRateLimitHeaders(ws.transport()))
    assert result.code == 1
    assert lines_of(result, "differs") == [
        "differs  rate limits: list: no usable X-RateLimit-Limit/-Period/-Name headers; "
        "requests cannot be paced, only backed off after 429"
    ]


class GarbledRateLimitHeaders(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        headers = dict(response.headers) | {"x-ratelimit-name": "bucket\tname" + "x" * 500}
        if request.method == "POST":
            headers["x-ratelimit-limit"] = "lots"
        return httpx.Response(response.status_code, headers=headers, content=body)


def test_rate_limit_headers_are_parsed_not_echoed(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(ws, write_probe=True, transport=GarbledRateLimitHeaders(ws.transport()))
    assert result.code == 1
    [listing] = [line for line in result.out.splitlines() if "rate limits: list" in line]
    assert listing.startswith("ok       rate limits: list: bucket?namexxx")
    assert listing.endswith("... allows 1000000 per 1 s")
    assert len(listing) < 200
    assert "differs  rate limits: create: no usable X-RateLimit" in result.out
