"""Issue 12's acceptance, against the real emulator in each realism mode: page caps that cut
silently or refuse, sparse items, normalised view names and repeated ids. Requests are
counted at the transport, per view."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from support.workspace import APP, Workspace, remote_attributes, snapshot

DEVICES = ("desktop", "mobile", "tablet")


class CountingLists(httpx.AsyncBaseTransport):
    """The emulator, counting list requests per `filter[view_name]`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, counts: Counter[str]) -> None:
        self.inner, self.counts = inner, counts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.counts[request.url.params.get("filter[view_name]", "")] += 1
        return await self.inner.handle_async_request(request)


def count_lists(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()
    inner = type(ws).transport
    monkeypatch.setattr(ws, "transport", lambda: CountingLists(inner(ws), counts))
    return counts


def spread(view: str, count: int, devices: tuple[str, ...] = DEVICES) -> list[dict[str, Any]]:
    return [
        remote_attributes(f"s{i:05}", view=view, device=devices[i % len(devices)])
        for i in range(count)
    ]


def declared(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [snapshot(a["snapshot_name"], device=a["device_type"]) for a in items]


@pytest.mark.parametrize("cap", [50, 100, 1000])
@pytest.mark.parametrize("mode", ["silent", "reject"])
def test_views_over_and_under_each_page_cap(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, cap: int, mode: str
) -> None:
    """Over the cap: a correct plan by device type, or a view error; never a create or a
    delete from a cut listing. Under it: one request. A silent cap cannot be seen, so it is
    given as `server_page_cap`; a refusing one is learned from its 400."""
    ws.configure(page_limit_max=cap, page_cap_mode=mode)
    big = spread("/big", cap + cap // 2)  # every device type under the cap
    crowded = spread("/crowded", cap + 1, devices=("desktop",))
    small = spread("/small", cap - 1)
    ws.seed(*big, *crowded, *small)
    ws.write_snapshots(
        {"/big": declared(big), "/crowded": declared(crowded[:1]), "/small": declared(small)}
    )
    counts = count_lists(ws, monkeypatch)
    overrides = {"server_page_cap": cap} if mode == "silent" else {}
    result = ws.plan(parallelism=1, **overrides)
    assert result.code == 1
    assert result.out == (
        f"Error: view /crowded of application {APP}: listing of its desktop snapshots returned "
        f"{cap}, the server's page cap ({cap}): it may be truncated (the API has no cursor); "
        "the view is not planned\n"
        "Plan incomplete: 1 of 3 views could not be listed and were not planned. In the "
        "listed views: no changes.\n"
    )
    learned = 1 if mode == "reject" and cap < 1000 else 0  # the 400 that told the cap
    assert counts["/big"] == learned + 1 + len(DEVICES)  # whole, then by device type
    assert counts["/crowded"] == 2  # whole, then desktop: still at the cap
    assert counts["/small"] == 1
    assert len(ws.remote()) == len(big) + len(crowded) + len(small)


def test_a_view_under_a_refusing_cap_costs_one_request_once_the_cap_is_known(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.configure(page_limit_max=100, page_cap_mode="reject")
    ws.seed(*spread("/small", 99))
    ws.write_snapshots({"/small": declared(spread("/small", 99))})
    counts = count_lists(ws, monkeypatch)
    assert ws.plan(server_page_cap=100).out == "No changes.\n"
    assert counts["/small"] == 1
    assert ws.stats()["requests"]["list"] == {"200": 1}


def test_sparse_items_after_apply_are_no_changes_with_one_report_line(ws: Workspace) -> None:
    """Acceptance (issue 12): no `start`, no `application_id` (the filter was sent)."""
    ws.configure(sparse_items=["start", "application_id"])
    ws.write_snapshots({"/checkout": [snapshot("a"), snapshot("b", start=7)]})
    applied = ws.apply()
    assert applied.code == 0, applied.out + applied.err
    assert "Converged." in applied.out
    line = "Warning: the API returned no `start` for 2 snapshots; `start` is not compared for them"
    assert applied.out.count(line) <= 1
    planned = ws.plan(detailed_exitcode=True)
    assert (planned.code, planned.out) == (0, f"{line}\nNo changes.\n")
    again = ws.apply()
    assert (again.code, again.out) == (0, f"{line}\nNo changes.\n")
    assert ws.stats()["committed"]["update"] == 0  # never a patch on every run


def test_normalised_view_names_are_reported_never_a_create_loop(ws: Workspace) -> None:
    ws.configure(normalize_view_names=True)
    ws.write_snapshots({"/Checkout/": [snapshot("hero")]})
    first = ws.apply()
    assert (
        f"Could not check convergence: view /Checkout/ of application {APP}: the server "
        "normalises names (letter case and trailing slash): asked for view_name '/Checkout/', "
        "it returned '/checkout'; write '/checkout' in the snapshots file"
    ) in first.out
    for _ in range(2):
        again = ws.apply()
        assert again.code == 1
        assert "the server normalises names" in again.out
    assert len(ws.remote()) == 1
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    assert ws.plan().out == "No changes.\n"


def test_repeated_ids_in_listings_never_delete_the_only_copy(ws: Workspace) -> None:
    """Issue 11, 5: a listing holding one id twice (same or different names)."""
    ws.settings.seed = 3
    ws.admin("POST", "/_emulator/reset")
    ws.write_snapshots({"/checkout": [snapshot(f"s{i}") for i in range(4)]})
    assert ws.apply().code == 0
    ws.configure(repeat_ids_rate=1.0)
    outcomes = set()
    for _ in range(6):
        result = ws.apply()
        assert "delete" not in result.out
        outcomes.add(result.code)
    assert len(ws.remote()) == 4
    faults = ws.stats()["faults"]
    assert faults["repeated_ids_same"] > 0
    assert faults["repeated_ids_renamed"] > 0
    assert outcomes == {0, 1}  # same content: no changes; renamed copy: a view error


@pytest.mark.parametrize("where", ["reconciler.yaml", "environment"])
def test_server_page_cap_is_a_setting(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    if where == "environment":
        monkeypatch.setenv("RECONCILER_SERVER_PAGE_CAP", "3")
    else:
        ws.write("reconciler.yaml", "server_page_cap: 3\n")
    ws.seed(*spread("/checkout", 3, devices=("desktop",)))
    ws.write_snapshots({"/checkout": []})
    result = ws.plan()
    assert result.code == 1
    assert "listing of its desktop snapshots returned 3, the server's page cap (3)" in result.out
    monkeypatch.setenv("RECONCILER_SERVER_PAGE_CAP", "0")
    assert ws.plan().err == (
        "error: RECONCILER_SERVER_PAGE_CAP must be an integer (at least 1), got '0'\n"
    )


def test_page_limit_above_the_servers_cap_plans_only_the_missing_ones(ws: Workspace) -> None:
    """Issue 11, 1 (the listing half): `page_limit: 2000` above the server's cap (here 100,
    silent, known as `server_page_cap`), a view holding 101 snapshots and 2 new ones
    declared: exactly 2 creates, never one for a snapshot the cut listing left out."""
    ws.configure(page_limit_max=100)
    held = spread("/checkout", 101)
    ws.seed(*held)
    ws.write_snapshots({"/checkout": [*declared(held), snapshot("new-1"), snapshot("new-2")]})
    result = ws.plan(page_limit=2000, server_page_cap=100, detailed_exitcode=True)
    assert result.code == 2, result.out
    assert result.out.endswith("Plan: 2 to create, 0 to patch, 0 to delete.\n")
    assert result.out.count("+ create") == 2
