"""One environment's apply, once the plan is confirmed: plan again when asked (and go on
only if nothing changed), execute, then converge: re-plan the touched views, remove
duplicates that appeared during the run (a concurrent apply, a lagging listing), look again
at a listing that may lag what the run did, and report what is left.

Values in, an `Outcome` out; what happens on the way is told to `Events` (the command
prints it). Nothing here prints, prompts or parses options.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from reconciler.api.client import ApiClient
from reconciler.api.retry import look_again_delay
from reconciler.apply import interrupts
from reconciler.apply.executor import ApplyResult, Executor, OperationResult, Relist
from reconciler.core import exitcodes
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import DesiredState, RemoteSnapshot, ViewError, ViewScope
from reconciler.plan.engine import Context, compute_plan, list_scope
from reconciler.plan.operations import Operation
from reconciler.plan.planfile import PlanDocument

#: Rounds of removing duplicates found after the run before giving up ("Not converged").
MAX_HEAL_ROUNDS = 2


class Events(Protocol):
    """What an apply run tells as it goes, in this order."""

    def started(self, operations: int) -> None:
        """The plan's operations are about to run."""

    def finished(self, result: OperationResult) -> None:
        """One operation ended (the plan's, or a duplicate's removal)."""

    def executed(self, result: ApplyResult) -> None:
        """The plan's operations have run; convergence is checked next."""

    def healing(self, duplicates: int) -> None:
        """Duplicates that appeared during the run are being removed."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the run did, and the last re-plan of the views it touched."""

    result: ApplyResult
    #: The touched views planned again after the run: what is still to do, or their errors.
    residual: PlanDocument
    #: The signal that stopped the run, if one did.
    signum: int | None = None

    @property
    def converged(self) -> bool:
        return self.residual.complete and not self.residual.plan.has_changes

    @property
    def exit_code(self) -> int:
        if self.result.interrupted:
            return interrupts.exit_code(self.signum)
        return exitcodes.OK if self.result.ok and self.converged else exitcodes.ERROR


async def apply_plan(
    context: Context, desired: DesiredState, document: PlanDocument, events: Events
) -> Outcome:
    """Execute `document` and converge."""
    async with context.client() as client:
        return await execute(context, client, desired, document, events)


async def apply_if_unchanged(
    context: Context,
    desired: DesiredState,
    document: PlanDocument,
    events: Events,
    *,
    targets: Sequence[str],
    require_match: bool,
) -> Outcome | PlanDocument:
    """Plan again (the server may have changed while a person read the plan); execute
    `document` only when that gives the same operations, else return the new plan."""
    async with context.client() as client:
        fresh, _ = await compute_plan(
            context, client, desired, targets=targets, require_match=require_match
        )
        if fresh.errors:
            raise ReconcilerError("some views could not be listed; nothing was applied")
        if fresh.plan.operations != document.plan.operations:
            return fresh
        return await execute(context, client, desired, document, events)


async def execute(
    context: Context,
    client: ApiClient,
    desired: DesiredState,
    document: PlanDocument,
    events: Events,
) -> Outcome:
    """Run the plan's operations (the first Ctrl-C or SIGTERM stops new ones), then
    converge."""
    stop, seen = asyncio.Event(), interrupts.Interruption()
    operations = document.plan.operations
    with interrupts.stop_on_signals(stop, seen):
        executor = _executor(context, client, stop, events)
        events.started(len(operations))
        result = await executor.run(operations)
        events.executed(result)
        result, residual = await converge(
            context, client, desired, executor, document, result, events
        )
    return Outcome(result, residual, seen.signum)


def _executor(context: Context, client: ApiClient, stop: asyncio.Event, events: Events) -> Executor:
    runtime = context.runtime
    return Executor(
        client,
        relist=relister(context, client),
        parallelism=context.settings.parallelism,
        clock=runtime.clock,
        retry=runtime.retry,
        consistency_window=runtime.consistency_window,
        interrupt_grace=runtime.interrupt_grace,
        deadline=runtime.deadline,  # `--timeout`, in the clock's time
        report=events.finished,
        stop=stop,
    )


async def converge(
    context: Context,
    client: ApiClient,
    desired: DesiredState,
    executor: Executor,
    document: PlanDocument,
    result: ApplyResult,
    events: Events,
) -> tuple[ApplyResult, PlanDocument]:
    """Re-plan the touched views. Duplicates that appeared during the run are removed by
    the diff's rule (so racing runs remove the same copies), at most MAX_HEAL_ROUNDS
    times. What is left of operations that succeeded may be a lagging listing: it is
    looked at again, with backoff, within the consistency window. Anything else left is
    the residual (an endless diff is a bug)."""
    touched = sorted({r.operation.key.scope for r in result.results})
    clock = context.runtime.clock
    settle_until = clock.monotonic() + context.runtime.consistency_window
    heals = looks = 0
    while True:
        residual, _ = await compute_plan(
            context, client, desired, targets=document.targets, scopes=touched
        )
        operations = residual.plan.operations
        if residual.errors or not operations or executor.stop.is_set():
            return result, residual
        if all(_is_duplicate(op) for op in operations) and heals < MAX_HEAL_ROUNDS:
            heals += 1
            events.healing(len(operations))
            result = result.extended(await executor.run(operations))
            continue
        remaining = settle_until - clock.monotonic()
        if remaining <= 0 or not _may_lag(operations, result):
            return result, residual
        looks += 1
        await clock.sleep(look_again_delay(looks, remaining))


def _may_lag(residual: Sequence[Operation], result: ApplyResult) -> bool:
    """Is something left of an operation that succeeded (its effect may not be listed yet)?"""
    done = {r.operation.key for r in result.results if r.status == "done"}
    return any(op.key in done for op in residual)


def _is_duplicate(op: Operation) -> bool:
    return op.kind == "duplicate"


def relister(context: Context, client: ApiClient) -> Relist:
    """The executor's re-listing of one view, through the same authority (and settings) as
    plan, so that truncation and filter rules exist once."""

    async def relist(scope: ViewScope) -> Sequence[RemoteSnapshot] | ViewError:
        return await list_scope(context, client, scope)

    return relist
