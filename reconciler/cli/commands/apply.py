"""`reconciler apply [PLAN]`: in each selected environment, plan (or read a saved plan),
confirm, re-plan, execute and converge (`apply_run.ApplyRun`, over `apply.run`)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Sequence

from reconciler.api.runtime import Runtime
from reconciler.apply.interrupts import run_loop, terminate_as_interrupt
from reconciler.cli.commands.apply_run import ApplyRun
from reconciler.config.environments import NO_SELECTION, Selection, declared
from reconciler.config.settings import Overrides
from reconciler.core import exitcodes
from reconciler.core.errors import UsageProblem
from reconciler.core.output import echo
from reconciler.plan.engine import check_targets_matched, prepare_all
from reconciler.plan.planfile import PlanDocument
from reconciler.render.progress import ListingShown, LiveLine

__all__ = ["ApplyRun", "run"]


def run(
    *,
    plan_path: str | None,
    config_path: str | None,
    overrides: Overrides,
    auto_approve: bool,
    force: bool,
    output_format: str,
    targets: Sequence[str],
    color: bool,
    interactive: bool,
    progress: bool,
    runtime: Runtime = Runtime(),
    selection: Selection = NO_SELECTION,
    escapes: bool = True,
) -> int:
    """`progress`: a live line on stderr (`render.progress`: listing, then applying);
    `escapes`: it may erase with an escape code (not with --no-color or NO_COLOR)."""
    if plan_path is not None:
        selection = _saved_plan_selection(PlanDocument.read(plan_path), selection, config_path)
    with contextlib.ExitStack() as stack:
        live = stack.enter_context(LiveLine(escapes=escapes)) if progress else None
        if live is not None:
            runtime = dataclasses.replace(runtime, listing_progress=ListingShown(live))
        prepared = prepare_all(config_path, overrides, runtime=runtime, selection=selection)
        jobs = [
            ApplyRun(
                context,
                desired,
                plan_path=plan_path,
                auto_approve=auto_approve,
                force=force,
                text_output=output_format == "text",
                targets=tuple(targets),
                color=color,
                interactive=interactive,
                live=live,
            )
            for context, desired in prepared
        ]
        with terminate_as_interrupt():
            if jobs[0].context.environment is None:
                return jobs[0].start()
            return apply_environments(jobs, text_output=output_format == "text")


def _saved_plan_selection(
    saved: PlanDocument, selection: Selection, config_path: str | None
) -> Selection:
    """A saved plan is applied in the environment it names, and only there."""
    if selection.all_envs:
        raise UsageProblem("--all-envs cannot be combined with a saved PLAN")
    if saved.environment is None:
        if declared(config_path):
            raise UsageProblem(
                "the saved plan names no environment, and reconciler.yaml declares "
                "environments: make it again with `reconciler plan --env NAME --out PATH`"
            )
        return selection
    if not declared(config_path):
        raise UsageProblem(
            f"the saved plan is for environment {saved.environment!r}, and reconciler.yaml "
            "declares no environments"
        )
    if selection.names and selection.names != (saved.environment,):
        raise UsageProblem(
            f"the saved plan is for environment {saved.environment!r}; it cannot be applied "
            f"to {', '.join(repr(name) for name in selection.names)}"
        )
    return Selection((saved.environment,))


def apply_environments(jobs: Sequence[ApplyRun], *, text_output: bool) -> int:
    """Several environments: all are planned (concurrently, each with its own client) and
    checked before any is changed; then each is applied in turn, with its own prompt."""

    for job in jobs:
        job.require_match = False  # checked across the environments below

    async def first_all() -> list[PlanDocument]:
        return list(await asyncio.gather(*(job.first_document(show=False) for job in jobs)))

    documents = run_loop(first_all)
    check_targets_matched(documents)
    for index, (job, document) in enumerate(zip(jobs, documents, strict=True)):
        if text_output:  # JSON: only the results, at the end
            if index:
                echo("")
            job.heading()
            job.show(document)
    for job, document in zip(jobs, documents, strict=True):  # before any is changed
        document.plan.raise_if_unsafe(force=job.force, environment=job.context.environment)
    codes: list[int] = []
    results: list[dict[str, object]] = []
    for index, (job, document) in enumerate(zip(jobs, documents, strict=True)):
        job.results = results
        if index and text_output:
            echo("")
        job.heading()
        codes.append(job.start(document))
        if codes[-1] in (exitcodes.INTERRUPTED, exitcodes.TERMINATED):
            break
    if not text_output:
        echo(json.dumps({"environments": results}, indent=2))
    return exitcodes.combined(codes)
