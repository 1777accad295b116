"""The default settings (no `parallelism`) against the real emulator: no 429 is provoked,
neither under its default limits nor under a tight one (virtual time on both sides)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.api.inflight import MAX_IN_FLIGHT
from reconciler.api.runtime import Runtime
from reconciler.cli.commands import apply as apply_command
from reconciler.cli.commands import plan as plan_command
from reconciler.cli.main import guarded
from reconciler.config.settings import Overrides
from support.clock import FakeClock
from support.inflight import InFlight
from support.workspace import Outcome, Workspace, remote_attributes, snapshot


def run_default(ws: Workspace, command: str, clock: FakeClock | None = None) -> Outcome:
    runtime = Runtime(transport=ws.transport(), clock=clock or FakeClock())
    common: dict[str, Any] = {
        "config_path": None,
        "overrides": Overrides(api_url="http://127.0.0.1:9"),
        "output_format": "text",
        "targets": (),
        "color": False,
        "runtime": runtime,
    }
    if command == "plan":
        call = lambda: plan_command.run(out=None, detailed_exitcode=False, **common)  # noqa: E731
    else:
        call = lambda: apply_command.run(  # noqa: E731
            plan_path=None,
            auto_approve=True,
            force=True,
            interactive=False,
            progress=False,
            **common,
        )
    ws.capsys.readouterr()
    code = guarded(call)
    captured = ws.capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def rate_limited(ws: Workspace) -> int:
    return sum(counts.get("429", 0) for counts in ws.stats()["requests"].values())


def many_views(ws: Workspace, views: int, per_view: int) -> None:
    ws.write_snapshots(
        {
            f"/v{v:03d}": [snapshot(f"s{v}-{i}", event_id=f"e{v}-{i}") for i in range(per_view)]
            for v in range(views)
        }
    )


def test_plan_of_many_views_with_the_defaults_provokes_no_429(ws: Workspace) -> None:
    ws.configure(latency_ms=5)  # requests overlap
    many_views(ws, 150, 1)
    ws.seed(*(remote_attributes(f"s{v}-0", view=f"/v{v:03d}", event_id="old") for v in range(150)))
    result = run_default(ws, "plan")
    assert result.code == 0, result.err
    assert "Plan: 0 to create, 150 to patch, 0 to delete." in result.out
    assert rate_limited(ws) == 0
    assert ws.stats()["requests"]["list"] == {"200": 150}


@pytest.mark.parametrize(
    ("command", "views", "per_view", "expected"),
    [
        ("apply", 5, 20, "Converged."),
        ("plan", 40, 1, "Plan: 40 to create, 0 to patch, 0 to delete."),
    ],
)
def test_a_tight_limit_with_the_defaults_provokes_no_429(
    ws: Workspace, command: str, views: int, per_view: int, expected: str
) -> None:
    # 10 per second: the blind start (before any headers) must already fit in it. The
    # latency (real, 5 ms) lets requests overlap; windows and waits are in virtual time.
    clock = FakeClock()
    ws.settings.clock = clock.monotonic
    ws.configure(rate_limit=10, rate_period=1, latency_ms=5)
    many_views(ws, views, per_view)
    result = run_default(ws, command, clock)
    assert result.code == 0, result.out + result.err
    assert expected in result.out
    if command == "apply":
        assert ws.stats()["committed"]["create"] == 100
    assert rate_limited(ws) == 0


def test_plan_with_the_defaults_opens_to_what_the_server_allows(ws: Workspace) -> None:
    # A server of the test's own, 150 ms per answer on the fake clock, generous headers:
    # the default settings have every view's listing in flight at once, up to the cap.
    clock = FakeClock()
    in_flight = InFlight()

    async def handler(request: httpx.Request) -> httpx.Response:
        with in_flight.request():
            await clock.sleep(0.15)
        headers = {"x-ratelimit-limit": "600000", "x-ratelimit-remaining": "500000"}
        return httpx.Response(
            200, headers=headers | {"x-ratelimit-period": "60"}, json={"data": []}
        )

    many_views(ws, 100, 1)
    ws.transport = lambda: httpx.MockTransport(handler)  # type: ignore[method-assign]
    result = run_default(ws, "plan", clock)
    assert result.code == 0, result.err
    assert "Plan: 100 to create, 0 to patch, 0 to delete." in result.out
    assert in_flight.peak == MAX_IN_FLIGHT
