"""One environment's apply: plan (or check a saved plan), confirm, re-plan, execute, then
converge: re-plan the touched views, remove duplicates that appeared during the run (a
concurrent apply, a lagging listing) and report anything left."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.api.client import ApiClient
from reconciler.apply.executor import ApplyResult, Executor, OperationResult, Relist
from reconciler.apply.interrupts import Interruption, exit_code, run_loop, stop_on_signals
from reconciler.cli.commands.prompt import confirm
from reconciler.core import exitcodes
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import DesiredState, RemoteSnapshot, ViewError, ViewScope
from reconciler.core.output import echo
from reconciler.core.text import plain
from reconciler.plan.engine import Context, compute_plan, list_scope
from reconciler.plan.operations import Operation
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.saved import verify_saved_plan
from reconciler.render.apply import ProgressBar, result_document, result_line, unlisted_creates
from reconciler.render.common import operation_title
from reconciler.render.formats import render

#: Rounds of removing duplicates found after the run before giving up ("Not converged").
MAX_HEAL_ROUNDS = 2


@dataclass
class ApplyRun:
    context: Context
    desired: DesiredState
    plan_path: str | None
    auto_approve: bool
    force: bool
    text_output: bool
    targets: tuple[str, ...]
    color: bool
    interactive: bool
    progress: bool
    _bar: ProgressBar | None = field(default=None, init=False)
    #: With several environments: where the JSON results go (printed together at the end).
    results: list[dict[str, object]] | None = field(default=None, init=False)
    #: A `--target` must match here (with several environments: in one of them).
    require_match: bool = field(default=True, init=False)
    #: application id -> alias, for each result line (computed once).
    names: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.names = self.context.application_names

    def say(self, line: str) -> None:
        echo(line, err=not self.text_output)

    def heading(self) -> None:
        """`Environment NAME (URL):` before what is said of one environment."""
        environment = self.context.environment
        if environment is not None:
            self.say(f"Environment {plain(environment)} ({plain(self.context.base_url)}):")

    def show(self, document: PlanDocument) -> None:
        if self.text_output:
            echo(render(document, "text", color=self.color, forced=self.force), nl=False)

    def emit(self, result: dict[str, object]) -> None:
        """The JSON result of the run (`--format json`)."""
        if self.results is None:
            echo(json.dumps(result, indent=2))
        else:
            self.results.append({"environment": self.context.environment, **result})

    def start(self, planned: PlanDocument | None = None) -> int:
        document = run_loop(self.first_document) if planned is None else planned
        while True:
            if not document.plan.has_changes:
                if not self.text_output:
                    self.emit(result_document(document, ApplyResult(()), True))
                return exitcodes.OK
            if not document.plan.is_safe and not self.force:
                raise ReconcilerError(
                    "refusing to apply an unsafe plan (see the warnings above); "
                    "review it, then run again with --force"
                )
            replan = self.plan_path is None and not self.auto_approve
            if replan:
                # The prompt runs outside the event loop: one Ctrl-C (or SIGTERM) ends it.
                confirm(len(document.plan.operations), self.interactive)
                # A person's wait is not the server's time to spend: the deadline starts again.
                self.context = dataclasses.replace(
                    self.context, runtime=self.context.runtime.renewed()
                )
            outcome = run_loop(functools.partial(self.apply, document, replan=replan))
            if isinstance(outcome, int):
                return outcome
            self.say("The plan changed while waiting for the answer; the new plan:")
            document = outcome
            self.show(document)

    async def first_document(self, show: bool = True) -> PlanDocument:
        """The plan (or the checked saved plan); shown unless `show` is False (several
        environments are shown together, once all are planned)."""
        context, desired = self.context, self.desired
        async with context.client() as client:
            if self.plan_path is None:
                document = await self.plan(client, show=show)
            else:
                saved = PlanDocument.read(self.plan_path)
                document = await verify_saved_plan(saved, context, client, desired)
                if not self.text_output:  # the text render shows them
                    for warning in document.warnings:
                        self.say(f"Warning: {warning}")
                if show:
                    self.show(document)
        return document

    async def planned(self, client: ApiClient) -> PlanDocument:
        """The plan of this run's files and targets as the server is now."""
        document, _ = await compute_plan(
            self.context,
            client,
            self.desired,
            targets=self.targets,
            require_match=self.require_match,
        )
        return document

    async def plan(self, client: ApiClient, show: bool = True) -> PlanDocument:
        document = await self.planned(client)
        if show:
            self.show(document)
        if document.errors:
            if not show:  # several environments: this one's errors, since it is not shown
                self.heading()
                self.show(document)
            raise ReconcilerError(
                self.where() + "some views could not be listed; nothing was applied"
            )
        return document

    def where(self) -> str:
        environment = self.context.environment
        return "" if environment is None else f"environment {environment}: "

    async def apply(self, document: PlanDocument, *, replan: bool) -> int | PlanDocument:
        """Execute `document`; with `replan`, only if planning again gives the same plan
        (else the new plan is returned, to be shown and confirmed)."""
        async with self.context.client() as client:
            if replan:
                fresh = await self.planned(client)
                if fresh.errors:
                    raise ReconcilerError("some views could not be listed; nothing was applied")
                if fresh.plan.operations != document.plan.operations:
                    return fresh
            return await self.execute(client, document)

    async def execute(self, client: ApiClient, document: PlanDocument) -> int:
        stop, seen = asyncio.Event(), Interruption()
        operations = document.plan.operations
        with stop_on_signals(stop, seen):
            executor = self.executor(client, stop)
            self._bar = ProgressBar(len(operations)) if self.progress else None
            result = await executor.run(operations)
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            self.say(result.summary())
            result, converged = await self.converge(client, executor, document, result)
        if not self.text_output:
            self.emit(result_document(document, result, converged))
        if result.interrupted:
            return exit_code(seen.signum)
        if result.deadline_reached:
            self.say("The run's deadline passed: operations not started then were skipped.")
        return exitcodes.OK if result.ok and converged else exitcodes.ERROR

    def executor(self, client: ApiClient, stop: asyncio.Event) -> Executor:
        runtime = self.context.runtime
        return Executor(
            client,
            relist=relister(self.context, client),
            parallelism=self.context.settings.parallelism,
            clock=runtime.clock,
            retry=runtime.retry,
            consistency_window=runtime.consistency_window,
            interrupt_grace=runtime.interrupt_grace,
            deadline=runtime.deadline,  # `--timeout`, in the clock's time
            report=self.report,
            stop=stop,
        )

    def report(self, result: OperationResult) -> None:
        if self._bar is not None:
            self._bar.advance(result)
        else:
            self.say(result_line(result, self.names))

    async def converge(
        self, client: ApiClient, executor: Executor, document: PlanDocument, result: ApplyResult
    ) -> tuple[ApplyResult, bool]:
        """Re-plan the touched views. Duplicates that appeared during the run are removed by
        the diff's rule (so racing runs remove the same copies), at most MAX_HEAL_ROUNDS
        times. What is left of operations that succeeded may be a lagging listing: it is
        looked at again, with backoff, within the consistency window. Anything else left is
        reported (an endless diff is a bug)."""
        touched = sorted({r.operation.key.scope for r in result.results})
        clock = self.context.runtime.clock
        settle_until = clock.monotonic() + self.context.runtime.consistency_window
        heals = looks = 0
        while True:
            residual, _ = await compute_plan(
                self.context, client, self.desired, targets=document.targets, scopes=touched
            )
            if residual.errors:
                for error in residual.errors:
                    self.say(f"Could not check convergence: {error}")
                return result, False
            operations = residual.plan.operations
            if not operations:
                self.say("Converged.")
                return result, True
            if executor.stop.is_set():
                break
            if all(_is_duplicate(op) for op in operations) and heals < MAX_HEAL_ROUNDS:
                heals += 1
                count = len(operations)
                self.say(
                    f"Removing {count} duplicate{'' if count == 1 else 's'} that appeared "
                    "during the run (another writer at the same time, or a lagging listing):"
                )
                result = result.extended(await executor.run(operations))
                continue
            remaining = settle_until - clock.monotonic()
            if remaining <= 0 or not _may_lag(operations, result):
                break
            looks += 1
            await clock.sleep(min(0.25 * 2 ** (looks - 1), 2.0, remaining))
        self.say("Not converged; still to do:")
        for op in residual.plan.operations:
            self.say(f"  {operation_title(op, names=self.names)}")
        for line in unlisted_creates(residual, result):
            self.say(line)
        return result, False


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
