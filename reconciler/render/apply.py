"""What `apply` prints: one line per operation (as Terraform does), what convergence found,
and the JSON result document. Names, ids and server messages are made inert by `core.text`
where they are placed. (The live progress line is `render.progress`.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import click

from reconciler.apply.executor import ApplyResult, OperationResult
from reconciler.apply.run import Outcome
from reconciler.core.text import plain, printable
from reconciler.plan.planfile import PlanDocument
from reconciler.render.common import operation_title

_DONE_VERB = {"create": "created", "patch": "patched", "delete": "deleted"}
#: Each line's sign, as the plan's text shows the operation; a failure `!`, a skip `=`.
_SIGN = {"create": "+", "patch": "~", "delete": "-"}
_COLOUR = {"create": "green", "patch": "yellow", "delete": "red"}

#: After the convergence lines, when the run's deadline (`--timeout`) stopped it.
DEADLINE_PASSED = "The run's deadline passed: operations not started then were skipped."
#: Before the new plan, when planning again after the prompt gave another plan.
PLAN_CHANGED = "The plan changed while waiting for the answer; the new plan:"


def environment_heading(environment: str, base_url: str) -> str:
    """`Environment NAME (URL):` before what is said of one environment."""
    return f"Environment {plain(environment)} ({plain(base_url)}):"


def operation_line(
    result: OperationResult, names: Mapping[str, str] | None = None, *, color: bool = False
) -> str:
    """One operation's outcome, like Terraform's: `+ created /home desktop "Hero"
    (application storefront) [id=…] 0.3s`, `! failed patch … 1.2s: 400 …`, `= skipped
    delete …: a create or patch failed, …`; `names`: application id -> alias; `color`:
    the sign in the plan's colours (a failure red)."""
    op = result.operation
    message = result.message
    if result.status == "done":
        verb, sign, colour = _DONE_VERB[op.phase], _SIGN[op.phase], _COLOUR[op.phase]
        if op.kind == "duplicate":
            verb += " duplicate"
    else:
        verb, sign = f"{result.status} {op.phase}", "!" if result.status == "failed" else "="
        colour = "red" if result.status == "failed" else "bright_black"
        message = message.removeprefix("skipped: ")
    line = f"{_styled(sign, colour, color)} {operation_title(op, verb, names)}"
    if result.snapshot_id:
        line += f" [id={plain(result.snapshot_id)}]"
    if result.seconds is not None:
        line += " " + _styled(f"{result.seconds:.1f}s", "bright_black", color, bold=False)
    if message:
        line += f": {printable(message)}"
    return line


def _styled(text: str, colour: str, color: bool, *, bold: bool = True) -> str:
    return click.style(text, fg=colour, bold=bold) if color else text


def healing_line(duplicates: int) -> str:
    plural = "" if duplicates == 1 else "s"
    return (
        f"Removing {duplicates} duplicate{plural} that appeared during the run (another "
        "writer at the same time, or a lagging listing):"
    )


def convergence_lines(outcome: Outcome, names: Mapping[str, str] | None = None) -> list[str]:
    """What the re-plan after the run found: nothing left ("Converged."), views it could not
    list, or what is still to do (and why a create of this run may not show)."""
    residual = outcome.residual
    if residual.errors:
        return [
            f"Could not check convergence: {printable(str(error))}" for error in residual.errors
        ]
    if outcome.converged:
        return ["Converged."]
    return [
        "Not converged; still to do:",
        *(f"  {operation_title(op, names=names)}" for op in residual.plan.operations),
        *unlisted_creates(residual, outcome.result),
    ]


def result_document(document: PlanDocument, result: ApplyResult, converged: bool) -> dict[str, Any]:
    return {
        "plan": document.plan.summary(),
        "summary": result.summary(),
        "interrupted": result.interrupted,
        "deadline_reached": result.deadline_reached,
        "converged": converged,
        "results": [
            {
                "action": r.operation.phase,
                **r.operation.key.as_dict(),
                "status": r.status,
                "snapshot_id": r.snapshot_id,
                "message": r.message,
            }
            for r in result.results
        ],
    }


def unlisted_creates(residual: PlanDocument, result: ApplyResult) -> list[str]:
    """Why creates of this run are still to do: the server gave them ids, the listing does
    not show them. A page cap the run cannot see does that; applying again would create
    them again, so say it plainly."""
    created = {
        r.operation.key
        for r in result.results
        if r.status == "done" and r.operation.phase == "create" and r.snapshot_id
    }
    unlisted = Counter(
        op.key.scope
        for op in residual.plan.operations
        if op.phase == "create" and op.key in created
    )
    counts = {view.scope: view.snapshot_count for view in residual.views}
    return [
        f"The listing of view {plain(scope.view_name)} of application "
        f"{plain(scope.application_id)} does not show {count} snapshot"
        f"{'' if count == 1 else 's'} this run created: the API may cap listings "
        f"({counts.get(scope, 0)} listed); run `reconciler doctor` before applying again."
        for scope, count in sorted(unlisted.items())
    ]
