"""Apply's run past the prompt (execute, converge, heal) on values, against the in-process
emulator on a fake clock: what it tells as it goes and the outcome it returns."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from reconciler.api.runtime import Runtime
from reconciler.apply.executor import ApplyResult, OperationResult
from reconciler.apply.run import Outcome, apply_if_unchanged, apply_plan
from reconciler.config.settings import Settings
from reconciler.core.model import DesiredState
from reconciler.core.secrets import Credentials
from reconciler.emulator import EmulatorSettings, create_app
from reconciler.emulator.app import emulator_of
from reconciler.plan.engine import Context, compute_plan
from reconciler.plan.planfile import PlanDocument
from support.clock import FakeClock
from support.factories import key, state, want
from support.worlds import World


class Told:
    """The events of a run, as (event, value) in the order they came."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def started(self, operations: int) -> None:
        self.events.append(("started", operations))

    def finished(self, result: OperationResult) -> None:
        self.events.append(("finished", result.operation.key.snapshot_name))

    def executed(self, result: ApplyResult) -> None:
        self.events.append(("executed", result.summary()))

    def healing(self, duplicates: int) -> None:
        self.events.append(("healing", duplicates))


def world(**options: Any) -> tuple[Context, World, FakeClock]:
    clock = FakeClock()
    app = create_app(EmulatorSettings(clock=clock.monotonic))
    transport = World(app, clock, **options)
    runtime = Runtime(transport=transport, clock=clock)
    settings = Settings(parallelism=1)
    return (
        Context(settings, "http://127.0.0.1:9", Credentials("k1", "k2"), runtime),
        transport,
        clock,
    )


async def planned(context: Context, desired: DesiredState) -> PlanDocument:
    async with context.client() as client:
        document, _ = await compute_plan(context, client, desired)
    return document


def hero_and_cart() -> DesiredState:
    return state(want(key("hero")), want(key("cart")))


def test_a_listing_that_lags_the_run_is_looked_at_again_with_backoff() -> None:
    """The creates are done; the listing shows them 3 s later. Convergence looks again
    after 0.25, 0.5, 1 and 2 s, then finds nothing left to do."""
    context, _, clock = world(list_lag=3.0)
    desired, told = hero_and_cart(), Told()

    async def main() -> Outcome:
        document = await planned(context, desired)
        return await apply_plan(context, desired, document, told)

    outcome = asyncio.run(main())
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0]
    assert told.events == [
        ("started", 2),
        ("finished", "cart"),
        ("finished", "hero"),
        ("executed", "Apply: 2 created, 0 patched, 0 deleted, 0 failed, 0 skipped."),
    ]
    assert outcome.converged
    assert outcome.exit_code == 0


def test_what_is_left_of_a_failed_operation_is_not_waited_for() -> None:
    """A create whose answers are all lost and which never shows (with no window to watch
    the listing in) fails; the residual holds it, and no look again can change that: not
    converged, exit 1, and no pause."""
    context, _, clock = world(instead_of_create=lambda attributes: None)
    runtime = dataclasses.replace(context.runtime, consistency_window=0.0)
    context = dataclasses.replace(context, runtime=runtime)
    desired = state(want(key("hero")))

    async def main() -> Outcome:
        document = await planned(context, desired)
        return await apply_plan(context, desired, document, Told())

    outcome = asyncio.run(main())
    assert [r.status for r in outcome.result.results] == ["failed"]
    assert [op.key.snapshot_name for op in outcome.residual.plan.operations] == ["hero"]
    assert clock.sleeps == []
    assert not outcome.converged
    assert outcome.exit_code == 1


def test_duplicates_that_appear_during_the_run_are_removed_and_told() -> None:
    def racing_writer(attributes: Mapping[str, Any]) -> None:
        emulator = emulator_of(app)
        emulator.store.create(attributes, emulator.owner(), emulator.wall_ms())

    context, transport, _ = world(after_create=racing_writer)
    app = transport.app
    desired, told = hero_and_cart(), Told()

    async def main() -> Outcome:
        document = await planned(context, desired)
        return await apply_plan(context, desired, document, told)

    outcome = asyncio.run(main())
    assert told.events[-3:] == [("healing", 2), ("finished", "cart"), ("finished", "hero")]
    assert outcome.result.summary() == (
        "Apply: 2 created, 0 patched, 2 deleted, 0 failed, 0 skipped."
    )
    assert outcome.converged
    assert len(emulator_of(app).store.all()) == 2


def test_a_plan_that_changed_since_it_was_shown_is_returned_not_applied() -> None:
    context, _, _ = world()
    desired, told = hero_and_cart(), Told()

    async def main() -> Outcome | PlanDocument:
        shown = await planned(context, state(want(key("hero"))))
        return await apply_if_unchanged(
            context, desired, shown, told, targets=(), require_match=True
        )

    fresh = asyncio.run(main())
    assert isinstance(fresh, PlanDocument)
    assert [op.key.snapshot_name for op in fresh.plan.operations] == ["cart", "hero"]
    assert told.events == []
