"""The executor with the real client against the in-process emulator, on a shared fake
clock: rate-limit storms, 5xx before and after commit, 404s, and interruption run in
virtual time."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from reconciler.api.listing import parse_snapshot
from reconciler.api.retry import RetryPolicy
from reconciler.api.runtime import Runtime
from reconciler.apply.executor import ApplyResult, Executor
from reconciler.apply.run import relister
from reconciler.config.settings import Settings
from reconciler.core.model import ViewScope
from reconciler.core.secrets import Credentials
from reconciler.emulator import EmulatorSettings, create_app
from reconciler.emulator.app import emulator_of
from reconciler.plan.diff import diff
from reconciler.plan.engine import Context
from reconciler.plan.operations import Operation
from reconciler.plan.planner import build_plan
from support.clock import FakeClock
from support.factories import APP, have, key, want
from support.worlds import CreateAnswer, World

SCOPE = ViewScope(APP, "/checkout")


def run_ops(
    settings: EmulatorSettings,
    operations: Sequence[Operation],
    *,
    parallelism: int = 4,
    stop_first: bool = False,
    page_limit: int = 1000,
    seed: Sequence[dict[str, object]] = (),
    on_app: Callable[[Any], None] = lambda emulator: None,
    **world: Any,
) -> tuple[ApplyResult, list[dict[str, object]], World]:
    """Run `operations` through the executor, its re-listing built by apply from the one
    listing authority, against the emulator (wrapped in a World) on a fake clock."""
    clock = FakeClock()
    settings.clock = clock.monotonic
    app = create_app(settings)
    if seed:
        emulator_of(app).store.seed(((s, None, None) for s in seed), emulator_of(app).owner(), 0)
    on_app(emulator_of(app))
    transport = World(app, clock, **world)
    retry = RetryPolicy(rng=random.Random(1))
    runtime = Runtime(transport=transport, clock=clock, retry=retry)
    context = Context(
        Settings(page_limit=page_limit, parallelism=parallelism),
        "http://127.0.0.1:9",
        Credentials("k1", "k2"),
        runtime,
    )

    async def main() -> tuple[ApplyResult, list[dict[str, object]]]:
        async with context.client() as client:
            executor = Executor(
                client,
                relist=relister(context, client),
                parallelism=parallelism,
                clock=clock,
                retry=retry,
                consistency_window=runtime.consistency_window,
            )
            if stop_first:
                executor.stop.set()
            result = await executor.run(operations)
        return result, emulator_of(app).store.all()

    result, listed = asyncio.run(main())
    return result, listed, transport


def remote(name: str) -> dict[str, object]:
    return {
        **key(name).as_dict(),
        "event_id": "e",
        "start": 1,
        "is_device_type_selected_by_user": False,
    }


def creates(count: int) -> list[Operation]:
    return build_plan(
        diff([want(key(f"s{i:03}")) for i in range(count)], {SCOPE: []}), {}
    ).operations  # type: ignore[return-value]


def names(listed: list[dict[str, object]]) -> list[str]:
    parsed = [parse_snapshot(item, SCOPE) for item in listed]
    return sorted(s.key.snapshot_name for s in parsed if s is not None)


def test_a_429_storm_ends_with_everything_created_once() -> None:
    settings = EmulatorSettings(rate_limit=3, rate_period=1)
    result, listed, world = run_ops(settings, creates(30), parallelism=8)
    assert result.summary() == "Apply: 30 created, 0 patched, 0 deleted, 0 failed, 0 skipped."
    assert names(listed) == [f"s{i:03}" for i in range(30)]
    assert world.clock.monotonic() - 1000.0 >= 9.0  # 30 creates at 3 per second


def test_5xx_before_commit_is_retried_after_checking_nothing_was_created() -> None:
    settings = EmulatorSettings(fail_rate=0.3, seed=8)
    result, listed, world = run_ops(settings, creates(20))
    assert result.summary() == "Apply: 20 created, 0 patched, 0 deleted, 0 failed, 0 skipped."
    assert names(listed) == [f"s{i:03}" for i in range(20)]
    window = Runtime().consistency_window
    resent = 0
    for name in names(listed):
        posts = world.posts(name)
        for failed, again in itertools.pairwise(posts):
            assert failed.status >= 500
            # Before a new POST: the view was listed after the failure, and the listing was
            # watched over the whole consistency window.
            looks = [e for e in world.lists() if failed.at <= e.at <= again.at]
            assert looks, f"{name}: sent again without a re-list"
            assert again.at - failed.at >= window, f"{name}: sent again within the window"
            resent += 1
    assert resent >= 5  # the seed makes enough POSTs fail for the check to mean something


def test_a_listing_that_lags_3_s_leads_to_adoption_not_a_second_post() -> None:
    settings = EmulatorSettings(drop_after_commit_rate=1.0, drop_style="status")
    result, listed, world = run_ops(settings, creates(5), list_lag=3.0)
    assert result.summary() == "Apply: 5 created, 0 patched, 0 deleted, 0 failed, 0 skipped."
    assert names(listed) == [f"s{i:03}" for i in range(5)]  # exactly one copy each
    assert len(world.posts()) == 5
    assert all(r.message.startswith("adopted after an ambiguous failure") for r in result.results)


@pytest.mark.parametrize("answer", ["no id", "empty"])
def test_a_201_without_a_usable_id_is_adopted_not_sent_again(answer: CreateAnswer) -> None:
    result, listed, world = run_ops(
        EmulatorSettings(), creates(3), list_lag=3.0, create_answer=answer
    )
    assert names(listed) == ["s000", "s001", "s002"]
    assert len(world.posts()) == 3
    assert [r.status for r in result.results] == ["done"] * 3
    for r in result.results:
        assert r.message.startswith("adopted after an ambiguous failure (POST "), r.message
        assert "malformed response" in r.message


def test_an_ambiguous_create_in_a_possibly_truncated_view_is_not_sent_again() -> None:
    # page_limit 5: the view holds 4, the create commits (5 = the page) and answers 502.
    seeded = [remote(f"old{i}") for i in range(4)]
    settings = EmulatorSettings(drop_after_commit_rate=1.0, drop_style="status")
    result, listed, world = run_ops(settings, creates(1), page_limit=5, seed=seeded)
    [failed] = result.results
    assert failed.status == "failed"
    assert "it may have been created; the next run adopts it" in failed.message
    assert "may be truncated" in failed.message
    assert "nothing was created" not in failed.message
    assert len(world.posts()) == 1
    assert names(listed).count("s000") == 1


def test_page_limit_2000_and_a_view_of_999_never_duplicates() -> None:
    # Finding 1: the server caps pages at 1000 whatever page_limit says; a listing of 1000
    # may be truncated, for adoption as for plan.
    seeded = [remote(f"old{i:04}") for i in range(999)]
    settings = EmulatorSettings(drop_after_commit_rate=1.0, drop_style="status")
    result, listed, world = run_ops(settings, creates(2), page_limit=2000, seed=seeded)
    assert Counter(names(listed))["s000"] == Counter(names(listed))["s001"] == 1
    assert len(world.posts()) == 2
    for r in result.results:
        assert "it may have been created" in r.message
        assert "nothing was created" not in r.message


def test_a_snapshot_found_by_adoption_is_patched_to_the_desired_state() -> None:
    store: list[Any] = []

    def other_writer(attributes: Mapping[str, Any]) -> None:
        # Another writer creates the same key with a different start; our POST meets a 502.
        emulator = store[0]
        emulator.store.create({**attributes, "start": 7}, emulator.owner(), 0)

    settings = EmulatorSettings()
    ops = creates(1)
    result, listed, world = run_ops(
        settings, ops, instead_of_create=other_writer, on_app=store.append
    )
    [done] = result.results
    assert done.status == "done"
    assert done.message.startswith("adopted after an ambiguous failure")
    [item] = listed
    assert item["attributes"]["start"] == 1500  # patched to the desired value
    assert done.snapshot_id == item["id"]
    assert len(world.posts()) == 1


def test_a_create_never_seen_is_sent_again_only_after_each_window_then_given_up() -> None:
    result, listed, world = run_ops(
        EmulatorSettings(), creates(1), instead_of_create=lambda attributes: None
    )
    [failed] = result.results
    assert failed.status == "failed"
    assert "gave up after 5 attempts, none of them seen in the listing within 10 s" in (
        failed.message
    )
    assert "nothing was created" not in failed.message
    posts = world.posts()
    assert len(posts) == 5
    assert all(b.at - a.at >= 10.0 for a, b in itertools.pairwise(posts))
    assert listed == []


def test_commit_then_502_is_adopted_without_a_duplicate() -> None:
    settings = EmulatorSettings(drop_after_commit_rate=0.5, seed=5, drop_style="status")
    result, listed, _ = run_ops(settings, creates(20))
    assert result.ok
    assert names(listed) == [f"s{i:03}" for i in range(20)]
    adopted = [r for r in result.results if r.message.startswith("adopted")]
    assert adopted


def test_patch_of_a_vanished_snapshot_fails_and_delete_of_one_succeeds() -> None:
    gone = have(key("gone"), "00000000-0000-0000-0000-00000000dead")
    ops = build_plan(diff([want(key("gone"), start=1)], {SCOPE: [gone]}), {}).operations
    ops += build_plan(diff([], {SCOPE: [gone]}), {}).operations
    result, _, _ = run_ops(EmulatorSettings(), ops)
    patch, delete = result.results
    assert (patch.status, patch.message) == ("failed", "deleted outside reconciler; run plan again")
    # The delete phase is skipped because the patch failed.
    assert (delete.status, delete.message) == (
        "skipped",
        "skipped: a create or patch failed, so nothing is deleted",
    )
    only_delete = build_plan(diff([], {SCOPE: [gone]}), {}).operations
    result, _, _ = run_ops(EmulatorSettings(), only_delete)
    [deleted] = result.results
    assert (deleted.status, deleted.message) == ("done", "already deleted")


def test_stopped_executor_starts_nothing() -> None:
    result, listed, _ = run_ops(EmulatorSettings(), creates(5), stop_first=True)
    assert result.interrupted
    assert [r.status for r in result.results] == ["skipped"] * 5
    assert listed == []


def test_in_flight_work_after_an_interruption_is_bounded() -> None:
    """Stop arrives while a POST hangs for 1000 s: after the grace (10 s) it is cancelled
    and reported with what is known; nothing new starts."""

    async def main() -> tuple[ApplyResult, FakeClock]:
        clock = FakeClock()
        settings = EmulatorSettings(clock=clock.monotonic)
        app = create_app(settings)
        runtime = Runtime(transport=World(app, clock, create_delay=1000.0), clock=clock)
        context = Context(
            Settings(parallelism=1), "http://127.0.0.1:9", Credentials("k1", "k2"), runtime
        )
        async with context.client() as client:
            executor = Executor(
                client, relist=relister(context, client), parallelism=1, clock=clock
            )

            async def interrupt() -> None:
                while 1000.0 not in clock.sleeps:  # the POST is on its way
                    await asyncio.sleep(0)
                executor.stop.set()

            stopper = asyncio.ensure_future(interrupt())
            result = await executor.run(creates(3))
            await stopper
        return result, clock

    result, clock = asyncio.run(main())
    first, *rest = result.results
    assert result.interrupted
    assert (first.status, first.message) == (
        "failed",
        "interrupted before an answer: it may have been created; the next run adopts it or "
        "removes the extra copy",
    )
    assert [r.status for r in rest] == ["skipped", "skipped"]
    assert clock.monotonic() - 1000.0 < 100  # the grace, not the hanging request


def test_past_the_run_deadline_nothing_new_starts() -> None:
    async def main() -> ApplyResult:
        clock = FakeClock()
        app = create_app(EmulatorSettings(clock=clock.monotonic))
        runtime = Runtime(transport=World(app, clock, create_delay=3.0), clock=clock)
        context = Context(
            Settings(parallelism=1), "http://127.0.0.1:9", Credentials("k1", "k2"), runtime
        )
        async with context.client() as client:
            executor = Executor(
                client,
                relist=relister(context, client),
                parallelism=1,
                clock=clock,
                deadline=clock.monotonic() + 5.0,
            )
            return await executor.run(creates(3))

    result = asyncio.run(main())
    assert result.deadline_reached
    assert [(r.status, r.message) for r in result.results] == [
        ("done", ""),
        ("done", ""),
        ("skipped", "skipped: the run's deadline passed"),
    ]


def test_an_operation_due_exactly_at_the_deadline_does_not_start() -> None:
    async def main() -> ApplyResult:
        clock = FakeClock()
        app = create_app(EmulatorSettings(clock=clock.monotonic))
        runtime = Runtime(transport=World(app, clock, create_delay=2.5), clock=clock)
        context = Context(
            Settings(parallelism=1), "http://127.0.0.1:9", Credentials("k1", "k2"), runtime
        )
        async with context.client() as client:
            executor = Executor(
                client,
                relist=relister(context, client),
                parallelism=1,
                clock=clock,
                deadline=clock.monotonic() + 5.0,  # the third create is due at 2.5 + 2.5
            )
            return await executor.run(creates(3))

    result = asyncio.run(main())
    assert result.deadline_reached
    assert [r.status for r in result.results] == ["done", "done", "skipped"]


def test_adoption_takes_only_a_snapshot_with_the_whole_key() -> None:
    """The create of desktop "s000" commits but its answer is lost, and the listing shows
    it only 3 s later; a mobile "s000" is listed all along. That one is another snapshot:
    it is not adopted, nor touched."""
    mobile = {**key("s000", device="mobile").as_dict(), "event_id": "e", "start": 1}
    mobile["is_device_type_selected_by_user"] = False
    settings = EmulatorSettings(drop_after_commit_rate=1.0, drop_style="status")
    result, listed, world = run_ops(settings, creates(1), seed=[mobile], list_lag=3.0)
    [done] = result.results
    assert (done.status, done.message[:39]) == ("done", "adopted after an ambiguous failure (POS")
    items: list[Any] = listed
    by_device = {item["attributes"]["device_type"]: item for item in items}
    assert done.snapshot_id == by_device["desktop"]["id"]
    assert by_device["mobile"]["attributes"]["start"] == 1  # not patched to ours
    assert len(world.posts()) == 1


def test_a_stop_during_the_last_look_of_the_window_sends_no_new_create() -> None:
    """The create's answer is lost and nothing shows in the listing; Ctrl-C comes while the
    window's last look runs. The window is over, but with a stop requested the create is
    not sent again."""

    async def main() -> tuple[ApplyResult, World]:
        clock = FakeClock()
        app = create_app(EmulatorSettings(clock=clock.monotonic))
        world = World(app, clock, instead_of_create=lambda attributes: None)
        runtime = Runtime(transport=world, clock=clock)
        context = Context(
            Settings(parallelism=1), "http://127.0.0.1:9", Credentials("k1", "k2"), runtime
        )
        stop = asyncio.Event()
        window = runtime.consistency_window
        async with context.client() as client:
            inner = relister(context, client)
            first: list[float] = []

            async def relist(scope: ViewScope) -> Any:
                first.append(clock.monotonic())
                if clock.monotonic() - first[0] >= window:
                    stop.set()  # the look that finds the window over
                return await inner(scope)

            executor = Executor(client, relist=relist, clock=clock, interrupt_grace=60.0, stop=stop)
            return await executor.run(creates(1)), world

    result, world = asyncio.run(main())
    [failed] = result.results
    assert result.interrupted
    assert failed.status == "failed"
    assert failed.message.endswith(
        "(interrupted; it may have been created; the next run adopts it or removes the extra copy)"
    )
    assert len(world.posts()) == 1


def test_the_looks_for_an_unseen_create_back_off_from_a_quarter_second_to_two() -> None:
    _, _, world = run_ops(EmulatorSettings(), creates(1), instead_of_create=lambda attributes: None)
    window = [0.25, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 0.25]  # 10 s, then the create again
    assert isinstance(world.clock, FakeClock)
    assert world.clock.sleeps == window * 5
