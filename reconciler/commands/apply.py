"""`reconciler apply [PLAN]`: plan (or read a saved plan), confirm, execute, check convergence."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import click

from reconciler import exitcodes
from reconciler.client import ApiClient
from reconciler.engine import Context, compute_plan, prepare
from reconciler.errors import ReconcilerError
from reconciler.executor import ApplyResult, Executor, OperationResult
from reconciler.model import DesiredState, Operation
from reconciler.output import echo, write_stderr
from reconciler.planfile import PlanDocument
from reconciler.render import operation_title, render
from reconciler.runtime import Runtime
from reconciler.saved_plan import verify_saved_plan

_DONE_VERB = {"create": "created", "patch": "patched", "delete": "deleted"}


def run(
    *,
    plan_path: str | None,
    config_path: str | None,
    overrides: Mapping[str, object],
    auto_approve: bool,
    force: bool,
    output_format: str,
    targets: Sequence[str],
    color: bool,
    interactive: bool,
    progress: bool,
    runtime: Runtime = Runtime(),
) -> int:
    context, desired = prepare(config_path, overrides, runtime=runtime)
    text_output = output_format == "text"
    say: Callable[[str], None] = (
        (lambda line: echo(line)) if text_output else (lambda line: echo(line, err=True))
    )

    async def main() -> int:
        async with context.client() as client:
            if plan_path is None:
                document, _ = await compute_plan(context, client, desired, targets=targets)
                if text_output:
                    echo(render(document, "text", color=color), nl=False)
                if document.errors:
                    raise ReconcilerError("some views could not be listed; nothing was applied")
            else:
                saved = PlanDocument.read(plan_path)
                document = await verify_saved_plan(saved, context, client, desired)
                if not text_output:  # the text render shows them
                    for warning in document.warnings:
                        say(f"Warning: {warning}")
                if text_output:
                    echo(render(document, "text", color=color), nl=False)
            plan = document.plan
            if not plan.has_changes:
                if not text_output:
                    echo(json.dumps(result_document(document, ApplyResult(()), True), indent=2))
                return exitcodes.OK
            if not plan.is_safe and not force:
                raise ReconcilerError(
                    "refusing to apply an unsafe plan (see the warnings above); "
                    "review it, then run again with --force"
                )
            if plan_path is None and not auto_approve:
                confirm(len(plan.operations), interactive)
            result = await execute(context, client, plan.operations, say, progress)
            say(result.summary())
            converged = await check_converged(context, client, desired, document, result, say)
            if not text_output:
                echo(json.dumps(result_document(document, result, converged), indent=2))
            if result.interrupted:
                return exitcodes.INTERRUPTED
            return exitcodes.OK if result.ok and converged else exitcodes.ERROR

    return asyncio.run(main())


def confirm(count: int, interactive: bool) -> None:
    if not interactive:
        raise ReconcilerError(
            "stdin is not a terminal: pass --auto-approve to apply without a prompt "
            "(or save a plan with `plan --out` and apply that)"
        )
    noun = "change" if count == 1 else "changes"
    answer = click.prompt(f"Apply {count} {noun}? [y/N]", default="", show_default=False)
    if answer.strip().lower() not in ("y", "yes"):
        raise ReconcilerError("apply cancelled; nothing was changed")


@contextlib.contextmanager
def interrupt_sets(stop: asyncio.Event) -> Iterator[None]:
    """Ctrl-C starts nothing new; in-flight requests finish. A second Ctrl-C is fatal."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        echo("\nInterrupted: finishing requests in flight, starting nothing new.", err=True)
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    try:
        loop.add_signal_handler(signal.SIGINT, first)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def execute(
    context: Context,
    client: ApiClient,
    operations: Sequence[Operation],
    say: Callable[[str], None],
    progress: bool,
) -> ApplyResult:
    stop = asyncio.Event()
    bar = ProgressBar(len(operations)) if progress else None

    def report(result: OperationResult) -> None:
        if bar is not None:
            bar.advance(result)
        else:
            say(result_line(result))

    executor = Executor(
        client,
        parallelism=context.settings.parallelism,
        page_limit=context.settings.page_limit,
        clock=context.runtime.clock,
        retry=context.runtime.retry,
        report=report,
        stop=stop,
    )
    with interrupt_sets(stop):
        result = await executor.run(operations)
    if bar is not None:
        bar.close()
    return result


def result_line(result: OperationResult) -> str:
    op = result.operation
    verb = _DONE_VERB[op.phase] if result.status == "done" else f"{result.status} {op.phase}"
    line = operation_title(op, verb)
    if result.snapshot_id:
        line += f" id={result.snapshot_id}"
    if result.message:
        line += f": {result.message}"
    return line


class ProgressBar:
    """One line redrawn on the terminal (stderr); failures are printed above it."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._done = 0

    def advance(self, result: OperationResult) -> None:
        self._done += 1
        if result.status == "failed":
            write_stderr("\r\033[K" + result_line(result) + "\n")
        width = 30
        filled = width * self._done // max(self._total, 1)
        write_stderr(f"\r[{'#' * filled}{'.' * (width - filled)}] {self._done}/{self._total}")
        sys.stderr.flush()

    def close(self) -> None:
        write_stderr("\r\033[K")
        sys.stderr.flush()


async def check_converged(
    context: Context,
    client: ApiClient,
    desired: DesiredState,
    document: PlanDocument,
    result: ApplyResult,
    say: Callable[[str], None],
) -> bool:
    """Re-plan the touched views: anything left is reported (an endless diff is a bug)."""
    touched = sorted({r.operation.key.scope for r in result.results})
    residual, _ = await compute_plan(
        context, client, desired, targets=document.targets, scopes=touched
    )
    if residual.errors:
        for error in residual.errors:
            say(f"Could not check convergence: {error}")
        return False
    if not residual.plan.has_changes:
        say("Converged.")
        return True
    say("Not converged; still to do:")
    for op in residual.plan.operations:
        say(f"  {operation_title(op)}")
    return False


def result_document(document: PlanDocument, result: ApplyResult, converged: bool) -> dict[str, Any]:
    return {
        "plan": document.plan.summary(),
        "summary": result.summary(),
        "interrupted": result.interrupted,
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
