"""The executor with the real client against the in-process emulator, on a shared fake
clock: rate-limit storms, 5xx before and after commit, 404s, and interruption run in
virtual time."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import httpx

from reconciler.client import ApiClient
from reconciler.diff import diff
from reconciler.emulator import EmulatorSettings, create_app
from reconciler.executor import ApplyResult, Executor
from reconciler.model import Operation, ViewScope
from reconciler.planner import build_plan
from reconciler.remote import parse_snapshot
from reconciler.retry import RetryPolicy
from reconciler.secrets import Credentials
from support.clock import FakeClock
from support.factories import APP, have, key, want

SCOPE = ViewScope(APP, "/checkout")


async def run_ops(
    settings: EmulatorSettings,
    operations: Sequence[Operation],
    *,
    parallelism: int = 4,
    stop_first: bool = False,
) -> tuple[ApplyResult, list[dict[str, object]], FakeClock]:
    clock = FakeClock()
    settings.clock = clock.monotonic
    app = create_app(settings)
    retry = RetryPolicy(rng=random.Random(1))
    client = ApiClient(
        "http://127.0.0.1:9",
        Credentials("k1", "k2"),
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        retry=retry,
    )
    async with client:
        executor = Executor(
            client,
            parallelism=parallelism,
            clock=clock,
            retry=retry,
        )
        if stop_first:
            executor.stop.set()
        result = await executor.run(operations)
        settings.fail_rate = settings.drop_after_commit_rate = 0.0
        settings.rate_limit = None
        listed = await client.list_snapshots(APP, "/checkout", 1000)
    return result, listed, clock


def creates(count: int) -> list[Operation]:
    return build_plan(
        diff([want(key(f"s{i:03}")) for i in range(count)], {SCOPE: []}), {}
    ).operations  # type: ignore[return-value]


def names(listed: list[dict[str, object]]) -> list[str]:
    parsed = [parse_snapshot(item, SCOPE) for item in listed]
    return sorted(s.key.snapshot_name for s in parsed if s is not None)


def test_a_429_storm_ends_with_everything_created_once() -> None:
    settings = EmulatorSettings(rate_limit=3, rate_period=1)
    result, listed, clock = asyncio.run(run_ops(settings, creates(30), parallelism=8))
    assert result.summary() == "Apply: 30 created, 0 patched, 0 deleted, 0 failed, 0 skipped."
    assert names(listed) == [f"s{i:03}" for i in range(30)]
    assert clock.monotonic() - 1000.0 >= 9.0  # 30 creates at 3 per second


def test_5xx_before_commit_is_retried_after_checking_nothing_was_created() -> None:
    settings = EmulatorSettings(fail_rate=0.4, seed=3)
    result, listed, _ = asyncio.run(run_ops(settings, creates(20)))
    done = [r for r in result.results if r.status == "done"]
    assert len(done) + len([r for r in result.results if r.status == "failed"]) == 20
    assert names(listed) == sorted(r.operation.key.snapshot_name for r in done)
    assert len(done) >= 18


def test_commit_then_502_is_adopted_without_a_duplicate() -> None:
    settings = EmulatorSettings(drop_after_commit_rate=0.5, seed=5, drop_style="status")
    result, listed, _ = asyncio.run(run_ops(settings, creates(20)))
    assert result.ok
    assert names(listed) == [f"s{i:03}" for i in range(20)]
    adopted = [r for r in result.results if r.message.startswith("adopted")]
    assert adopted


def test_patch_of_a_vanished_snapshot_fails_and_delete_of_one_succeeds() -> None:
    gone = have(key("gone"), "00000000-0000-0000-0000-00000000dead")
    ops = build_plan(diff([want(key("gone"), start=1)], {SCOPE: [gone]}), {}).operations
    ops += build_plan(diff([], {SCOPE: [gone]}), {}).operations
    result, _, _ = asyncio.run(run_ops(EmulatorSettings(), ops))
    patch, delete = result.results
    assert (patch.status, patch.message) == ("failed", "deleted outside reconciler; run plan again")
    # The delete phase is skipped because the patch failed.
    assert (delete.status, delete.message) == (
        "skipped",
        "skipped: a create or patch failed, so nothing is deleted",
    )
    only_delete = build_plan(diff([], {SCOPE: [gone]}), {}).operations
    result, _, _ = asyncio.run(run_ops(EmulatorSettings(), only_delete))
    [deleted] = result.results
    assert (deleted.status, deleted.message) == ("done", "already deleted")


def test_stopped_executor_starts_nothing() -> None:
    result, listed, _ = asyncio.run(run_ops(EmulatorSettings(), creates(5), stop_first=True))
    assert result.interrupted
    assert [r.status for r in result.results] == ["skipped"] * 5
    assert listed == []
