"""The executor's rules against an API of the test's own, on a fake clock: what each
operation's result says (done, already deleted, failed with the server's reason, deleted
outside); a failed create skips every delete even when the patches between them succeed; a
plan without creates runs its other phases; past the run's deadline, or once stopped, each
operation is reported skipped; an ambiguous create that never shows in the listing is sent
at most `max_attempts` times, looked for on a doubling schedule over the consistency window
given (none when it is 0), and never sent again once stopped or when the view cannot be
listed; an interruption cuts in-flight work after the grace given (at once when it is 0)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from reconciler.api.errors import AmbiguousWrite, NotFound, RequestRejected, Unavailable
from reconciler.api.retry import RetryPolicy
from reconciler.apply.executor import ApplyResult, Executor, OperationResult
from reconciler.core.model import RemoteSnapshot, ViewError, ViewScope
from reconciler.core.resource import COLLECTION_PATH
from reconciler.plan.diff import diff
from reconciler.plan.operations import Operation
from reconciler.plan.planner import build_plan
from support.clock import FakeClock
from support.factories import APP, have, key, want

SCOPE = ViewScope(APP, "/checkout")
PATH = COLLECTION_PATH
#: A bound of the test's own: a create loop that never gives up fails here, never hangs.
MAX_POSTS = 20


class Api:
    """Answers as the test says: the names whose create is refused (400), answered 404,
    ambiguous (a 5xx after which the snapshot may exist) or never answered; the ids that are
    gone already (a PATCH meets 404, a DELETE answers that nothing was there). Records what
    was sent."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        refused: frozenset[str] = frozenset(),
        not_found: frozenset[str] = frozenset(),
        ambiguous: frozenset[str] = frozenset(),
        unanswered: frozenset[str] = frozenset(),
        gone: frozenset[str] = frozenset(),
    ) -> None:
        self.clock, self.refused, self.not_found = clock, refused, not_found
        self.ambiguous, self.unanswered, self.gone = ambiguous, unanswered, gone
        self.sent: list[tuple[str, str]] = []

    async def create_snapshot(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        name = attributes["snapshot_name"]
        self.sent.append(("POST", name))
        if name in self.unanswered:
            await asyncio.Event().wait()
        if name in self.refused or len(self.sent) > MAX_POSTS:
            raise RequestRejected("POST", PATH, 400, ("refused by the test",))
        if name in self.not_found:
            raise NotFound("POST", PATH, 404)
        if name in self.ambiguous:
            raise AmbiguousWrite("POST", PATH, 503)
        return {"id": f"id-{name}"}

    async def update_snapshot(
        self, snapshot_id: str, attributes: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.sent.append(("PATCH", snapshot_id))
        if snapshot_id in self.gone:
            raise NotFound("PATCH", f"{PATH}/{snapshot_id}", 404)
        return {"id": snapshot_id}

    async def delete_snapshot(self, snapshot_id: str) -> bool:
        self.sent.append(("DELETE", snapshot_id))
        return snapshot_id not in self.gone


class EmptyView:
    """A re-listing that never shows the snapshot; counts the looks. With `stop`, the first
    look sets it (Ctrl-C while looking); with `failing`, every look fails."""

    def __init__(self, stop: asyncio.Event | None = None, failing: bool = False) -> None:
        self.looks = 0
        self.stop, self.failing = stop, failing

    async def __call__(self, scope: ViewScope) -> Sequence[RemoteSnapshot] | ViewError:
        self.looks += 1
        if self.stop is not None:
            self.stop.set()
        if self.failing:
            raise Unavailable("GET", PATH, 503)
        return []


def execute(
    api: Api,
    operations: Sequence[Operation],
    *,
    relist: EmptyView | None = None,
    stop_after: float | None = None,
    **options: Any,
) -> tuple[ApplyResult, list[OperationResult]]:
    """Run the executor; `stop_after` seconds of the clock, stop is set (as Ctrl-C does)."""
    reported: list[OperationResult] = []

    async def main() -> ApplyResult:
        executor = Executor(
            api,
            relist=relist or EmptyView(),
            clock=api.clock,
            report=reported.append,
            **options,
        )
        if stop_after is None:
            return await executor.run(operations)

        async def interrupt() -> None:
            await api.clock.sleep(stop_after)
            executor.stop.set()

        interrupter = asyncio.ensure_future(interrupt())
        result = await executor.run(operations)
        await interrupter
        return result

    return asyncio.run(main()), reported


def plan_of(desired: list[str], patched: list[str], listed: list[str]) -> list[Operation]:
    """Creates of `desired`, patches of `patched` (listed with another start), deletes of
    the `listed` names not declared (with an event of their own: no create replaces them)."""
    wanted = [want(key(name)) for name in desired + patched]
    remote = [have(key(name), f"id-{name}", start=9) for name in patched]
    remote += [have(key(name), f"id-{name}", event_id="gone") for name in listed]
    return list(build_plan(diff(wanted, {SCOPE: remote}), {}).operations)


def test_each_result_says_what_happened() -> None:
    api = Api(
        FakeClock(),
        refused=frozenset({"refused"}),
        not_found=frozenset({"lost"}),
        gone=frozenset({"id-moved", "id-gone"}),
    )
    operations = plan_of(["refused", "lost"], ["kept", "moved"], ["old", "gone"])
    result, _ = execute(api, operations, parallelism=1)
    outcomes = [
        (r.operation.kind, r.operation.key.snapshot_name, r.status, r.message, r.snapshot_id)
        for r in result.results
    ]
    assert outcomes == [
        ("create", "lost", "failed", f"POST {PATH}: 404 Not Found", None),
        ("create", "refused", "failed", f"POST {PATH}: 400 Bad Request: refused by the test", None),
        ("patch", "kept", "done", "", "id-kept"),
        ("patch", "moved", "failed", "deleted outside reconciler; run plan again", None),
        (
            "delete",
            "gone",
            "skipped",
            "skipped: a create or patch failed, so nothing is deleted",
            None,
        ),
        (
            "delete",
            "old",
            "skipped",
            "skipped: a create or patch failed, so nothing is deleted",
            None,
        ),
    ]


class SlowApi(Api):
    """Each request takes `seconds` of the clock."""

    def __init__(self, clock: FakeClock, seconds: dict[str, float]) -> None:
        super().__init__(clock)
        self.seconds = seconds

    async def create_snapshot(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        await self.clock.sleep(self.seconds[attributes["snapshot_name"]])
        return await super().create_snapshot(attributes)


def test_each_result_says_how_long_its_operation_took() -> None:
    """The operation lines' `0.3s`: the run's clock from the request's start to its end."""
    api = SlowApi(FakeClock(start=1000.0), {"quick": 0.25, "slow": 2.0})
    result, _ = execute(api, plan_of(["quick", "slow"], [], []), parallelism=1)
    took = {r.operation.key.snapshot_name: r.seconds for r in result.results}
    assert took == {"quick": pytest.approx(0.25), "slow": pytest.approx(2.0)}


def test_deletes_report_what_was_there() -> None:
    api = Api(FakeClock(), gone=frozenset({"id-gone"}))
    result, _ = execute(api, plan_of([], [], ["old", "gone"]), parallelism=1)
    assert [(r.status, r.message, r.snapshot_id) for r in result.results] == [
        ("done", "already deleted", "id-gone"),
        ("done", "", "id-old"),
    ]


def test_a_plan_without_creates_runs_its_patches_and_deletes() -> None:
    api = Api(FakeClock())
    result, _ = execute(api, plan_of([], ["kept"], ["old"]), parallelism=1)
    assert api.sent == [("PATCH", "id-kept"), ("DELETE", "id-old")]
    assert result.summary() == "Apply: 0 created, 1 patched, 1 deleted, 0 failed, 0 skipped."


def test_once_stopped_each_operation_is_reported_skipped() -> None:
    stop = asyncio.Event()
    stop.set()
    api = Api(FakeClock())
    result, reported = execute(api, plan_of(["a"], ["b"], ["c"]), stop=stop, parallelism=1)
    assert [(r.operation.key.snapshot_name, r.status, r.message) for r in result.results] == [
        (name, "skipped", "skipped: interrupted") for name in "abc"
    ]
    assert reported == list(result.results)
    assert api.sent == []
    assert result.interrupted


def test_results_of_two_runs_add_up() -> None:
    api = Api(FakeClock())
    done, _ = execute(api, plan_of(["a"], [], []))
    for interrupted, deadline_reached in ((True, False), (False, True)):
        other = ApplyResult((), interrupted=interrupted, deadline_reached=deadline_reached)
        for total in (done.extended(other), other.extended(done)):
            assert total.results == done.results
            assert (total.interrupted, total.deadline_reached) == (interrupted, deadline_reached)


def test_a_failed_create_skips_every_delete_though_the_patches_succeeded() -> None:
    api = Api(FakeClock(), refused=frozenset({"new"}))
    operations = plan_of(["new"], ["kept"], ["gone"])
    result, reported = execute(api, operations, parallelism=1)
    assert [(r.operation.phase, r.status, r.message) for r in result.results] == [
        ("create", "failed", f"POST {PATH}: 400 Bad Request: refused by the test"),
        ("patch", "done", ""),
        ("delete", "skipped", "skipped: a create or patch failed, so nothing is deleted"),
    ]
    assert reported == list(result.results)
    assert api.sent == [("POST", "new"), ("PATCH", "id-kept")]
    assert result.summary() == "Apply: 0 created, 1 patched, 0 deleted, 1 failed, 1 skipped."
    assert (result.ok, result.interrupted, result.deadline_reached) == (False, False, False)


def test_past_the_deadline_each_operation_is_reported_skipped() -> None:
    clock = FakeClock()
    api = Api(clock)
    operations = plan_of(["a", "b"], ["c"], ["d"])
    result, reported = execute(api, operations, parallelism=1, deadline=clock.monotonic() - 1)
    assert [(r.operation.key.snapshot_name, r.status, r.message) for r in result.results] == [
        (name, "skipped", "skipped: the run's deadline passed") for name in "abcd"
    ]
    assert reported == list(result.results)
    assert api.sent == []
    assert result.deadline_reached
    assert result.summary() == "Apply: 0 created, 0 patched, 0 deleted, 0 failed, 4 skipped."


@pytest.mark.parametrize(
    ("window", "pauses"),
    [
        (1.0, [0.25, 0.5, 0.25]),  # the pause doubles; the last one ends the window
        (10.0, [0.25, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 0.25]),  # and stops growing at 2 s
    ],
)
def test_an_ambiguous_create_never_seen_is_sent_max_attempts_times(
    window: float, pauses: list[float]
) -> None:
    clock = FakeClock()
    api = Api(clock, ambiguous=frozenset({"new"}))
    view = EmptyView()
    result, _ = execute(
        api,
        plan_of(["new"], [], []),
        relist=view,
        retry=RetryPolicy(max_attempts=3),
        consistency_window=window,
    )
    [outcome] = result.results
    assert outcome.status == "failed"
    assert outcome.message == (
        f"POST {PATH}: 503 Service Unavailable (gave up after 3 attempts, none of them seen "
        f"in the listing within {window:g} s; if one was created after all, the next run "
        "adopts it or removes the extra copy)"
    )
    assert api.sent == [("POST", "new")] * 3
    assert view.looks == 3 * (len(pauses) + 1)  # a look at once, then one after each pause
    assert clock.sleeps == pauses * 3


@pytest.mark.parametrize("window", [0.0, 1.0])
def test_an_ambiguous_create_is_not_sent_again_once_stopped(window: float) -> None:
    stop = asyncio.Event()
    api = Api(FakeClock(), ambiguous=frozenset({"new"}))
    result, _ = execute(
        api, plan_of(["new"], [], []), relist=EmptyView(stop), stop=stop, consistency_window=window
    )
    [outcome] = result.results
    assert (outcome.status, outcome.message) == (
        "failed",
        f"POST {PATH}: 503 Service Unavailable (interrupted; it may have been created; the next "
        "run adopts it or removes the extra copy)",
    )
    assert api.sent == [("POST", "new")]


def test_an_ambiguous_create_is_not_sent_again_when_the_view_cannot_be_listed() -> None:
    api = Api(FakeClock(), ambiguous=frozenset({"new"}))
    result, _ = execute(api, plan_of(["new"], [], []), relist=EmptyView(failing=True))
    [outcome] = result.results
    assert (outcome.status, outcome.message) == (
        "failed",
        f"POST {PATH}: 503 Service Unavailable; it may have been created; the next run adopts "
        f"it or removes the extra copy (cannot re-list the view: GET {PATH}: 503 Service "
        "Unavailable)",
    )
    assert api.sent == [("POST", "new")]


def test_a_window_of_0_looks_once_and_sleeps_not() -> None:
    clock = FakeClock()
    api = Api(clock, ambiguous=frozenset({"new"}))
    view = EmptyView()
    result, _ = execute(
        api,
        plan_of(["new"], [], []),
        relist=view,
        retry=RetryPolicy(max_attempts=2),
        consistency_window=0.0,
    )
    assert [r.status for r in result.results] == ["failed"]
    assert (len(api.sent), view.looks, clock.sleeps) == (2, 2, [])


def test_a_grace_of_0_cuts_in_flight_work_when_stop_is_set() -> None:
    clock = FakeClock()
    api = Api(clock, unanswered=frozenset({"new"}))
    result, _ = execute(
        api, plan_of(["new"], [], []), stop_after=1.0, interrupt_grace=0.0, parallelism=1
    )
    [outcome] = result.results
    assert outcome.operation.key.snapshot_name == "new"
    assert (outcome.status, outcome.message) == (
        "failed",
        "interrupted before an answer: it may have been created; the next run adopts it or "
        "removes the extra copy",
    )
    assert result.interrupted
    assert clock.monotonic() == 1000.0 + 1.0
