"""One environment's `apply` as the user sees it: plan (or check a saved plan), show,
refuse an unsafe plan, confirm, then hand over to `apply.run` (execute, converge) and print
what it tells and finds."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from reconciler.api.client import ApiClient
from reconciler.apply.executor import ApplyResult, OperationResult
from reconciler.apply.interrupts import run_loop
from reconciler.apply.run import Outcome, apply_if_unchanged, apply_plan
from reconciler.cli.commands.prompt import confirm
from reconciler.core import exitcodes
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import DesiredState
from reconciler.core.output import echo
from reconciler.plan.engine import Context, compute_plan
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.saved import verify_saved_plan
from reconciler.render.apply import (
    DEADLINE_PASSED,
    PLAN_CHANGED,
    convergence_lines,
    environment_heading,
    healing_line,
    operation_line,
    result_document,
)
from reconciler.render.formats import render
from reconciler.render.progress import LiveLine, Tally


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
    #: The live progress line on stderr (a terminal), or None.
    live: LiveLine | None
    _tally: Tally | None = field(default=None, init=False)
    #: With several environments: where the JSON results go (printed together at the end).
    results: list[dict[str, object]] | None = field(default=None, init=False)
    #: A `--target` must match here (with several environments: in one of them).
    require_match: bool = field(default=True, init=False)
    #: application id -> alias, for each result line (computed once).
    names: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.names = self.context.application_names

    def say(self, line: str, *, styled: bool = False) -> None:
        """A line for people: on stdout with the text format, else on stderr (stdout holds
        only the JSON)."""
        echo(line, err=not self.text_output, styled=styled)

    def heading(self) -> None:
        environment = self.context.environment
        if environment is not None:
            self.say(environment_heading(environment, self.context.base_url))

    def show(self, document: PlanDocument) -> None:
        if self.text_output:
            echo(
                render(document, "text", color=self.color, forced=self.force),
                nl=False,
                styled=self.color,
            )

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
            document.plan.raise_if_unsafe(force=self.force)
            if self.plan_path is None and not self.auto_approve:
                # The prompt runs outside the event loop: one Ctrl-C (or SIGTERM) ends it.
                confirm(len(document.plan.operations), self.interactive)
                # A person's wait is not the server's time to spend: the deadline starts again.
                self.context = dataclasses.replace(
                    self.context, runtime=self.context.runtime.renewed()
                )
                main: Callable[[], Awaitable[Outcome | PlanDocument]] = functools.partial(
                    apply_if_unchanged,
                    self.context,
                    self.desired,
                    document,
                    self,
                    targets=self.targets,
                    require_match=self.require_match,
                )
            else:
                main = functools.partial(apply_plan, self.context, self.desired, document, self)
            outcome = run_loop(main)
            if isinstance(outcome, Outcome):
                return self.finish(document, outcome)
            self.say(PLAN_CHANGED)
            document = outcome
            self.show(document)

    def finish(self, document: PlanDocument, outcome: Outcome) -> int:
        for line in convergence_lines(outcome, self.names):
            self.say(line)
        if not self.text_output:
            self.emit(result_document(document, outcome.result, outcome.converged))
        if outcome.result.deadline_reached and not outcome.result.interrupted:
            self.say(DEADLINE_PASSED)
        return outcome.exit_code

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

    async def plan(self, client: ApiClient, show: bool = True) -> PlanDocument:
        document, _ = await compute_plan(
            self.context,
            client,
            self.desired,
            targets=self.targets,
            require_match=self.require_match,
        )
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

    # -- the events of `apply.run`, printed -----------------------------------------------

    def started(self, operations: int) -> None:
        if self.text_output:  # the plan's summary above, the operations' lines below
            echo("")
        if self.live is not None:
            self._tally = Tally(self.live, "applying", operations)
            self._tally.show()

    def finished(self, result: OperationResult) -> None:
        """A line per operation, above the live line (which is drawn again below it)."""
        if self.live is not None:
            self.live.clear()
        self.say(operation_line(result, self.names, color=self.color), styled=self.color)
        if self._tally is not None:
            self._tally.advance()

    def executed(self, result: ApplyResult) -> None:
        if self.live is not None:
            self.live.clear()
        self._tally = None
        self.say(result.summary())

    def healing(self, duplicates: int) -> None:
        self.say(healing_line(duplicates))
