"""`reconciler doctor --write-probe`: the writes it checks, the lag it measures, and that it
leaves nothing behind but what it found already there."""

from __future__ import annotations

import json

import httpx

from reconciler.doctor.probe import PROBE_PREFIX, probe_named
from support.doctorkit import (
    DeletesAlwaysSucceed,
    Rewriting,
    StepClock,
    doctor,
    lines_of,
    managed_view,
    probes_left,
)
from support.workspace import Workspace, remote_attributes

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


def test_a_probe_never_listed_is_reported_and_still_deleted(ws: Workspace) -> None:
    clock = StepClock()
    ws.settings.clock = clock
    managed_view(ws)
    ws.configure(list_lag_ms=120_000)
    result = doctor(ws, write_probe=True, clock=clock)
    assert result.code == 1
    assert "differs  listing lag: the probe was not listed within 30 s" in result.out
    assert "patch:" not in result.out  # nothing to patch that could be seen
    ws.configure(list_lag_ms=0)
    assert probes_left(ws) == []
    assert ws.stats()["committed"] == {"create": 1, "update": 0, "delete": 1}


def test_a_scratch_view_in_its_variant_spelling_skips_the_filter_check(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(ws, write_probe=True, probe_view="/SCRATCH/")
    assert result.code == 0, result.out
    assert "view names: the list filter" not in result.out
    assert probes_left(ws) == []


class PatchAnsweredWithAnotherStart(httpx.AsyncBaseTransport):
    """The emulator behind a proxy that changes `start` in the answer to a PATCH."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method != "PATCH":
            return response
        body = json.loads(await response.aread())
        body["data"]["attributes"]["start"] = 2
        return httpx.Response(response.status_code, headers=response.headers, json=body)


def test_a_patch_answered_with_other_values_is_reported(ws: Workspace) -> None:
    managed_view(ws)
    result = doctor(ws, write_probe=True, transport=PatchAnsweredWithAnotherStart(ws.transport()))
    assert result.code == 1
    assert "differs  patch: answered start=2, sent 1" in result.out
    assert "ok       delete: 2xx, then 404" in result.out
    assert probes_left(ws) == []


def test_a_probe_is_found_by_its_exact_name() -> None:
    items = [
        {"id": "1", "attributes": {"snapshot_name": f"{PROBE_PREFIX}a"}},
        {"id": "2", "attributes": {}},
        {"id": "3", "attributes": {"snapshot_name": f"{PROBE_PREFIX}b"}},
    ]
    assert probe_named(items, f"{PROBE_PREFIX}b") == items[2]
    assert probe_named(items, f"{PROBE_PREFIX}c") is None
