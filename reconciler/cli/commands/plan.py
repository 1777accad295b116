"""`reconciler plan`: validate, list each managed view, diff, print the plan."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Sequence

from reconciler.api.client import ApiClient
from reconciler.api.runtime import Runtime
from reconciler.apply.interrupts import run_loop
from reconciler.config.environments import NO_SELECTION, Selection
from reconciler.config.settings import Overrides
from reconciler.core import exitcodes
from reconciler.core.errors import UsageProblem
from reconciler.core.model import DesiredState, RemovedView
from reconciler.core.output import echo
from reconciler.desired.baseref import BaseState, desired_at
from reconciler.plan.engine import (
    Context,
    check_targets_matched,
    compute_plan,
    list_all,
    prepare_all,
)
from reconciler.plan.planfile import PlanDocument
from reconciler.render.formats import PLAN_FORMATS, render_all
from reconciler.render.progress import ListingShown, LiveLine
from reconciler.render.sections import ENV_PLACEHOLDER


def run(
    *,
    config_path: str | None,
    overrides: Overrides,
    output_format: str,
    out: str | None,
    detailed_exitcode: bool,
    targets: Sequence[str],
    color: bool,
    base: str | None = None,
    runtime: Runtime = Runtime(),
    selection: Selection = NO_SELECTION,
    progress: bool = False,
    escapes: bool = True,
) -> int:
    """`progress`: `listing views N/M` on a live line on stderr (`render.progress`);
    `escapes`: it may erase with an escape code (not with --no-color or NO_COLOR)."""
    with contextlib.ExitStack() as stack:
        if progress:
            live = stack.enter_context(LiveLine(escapes=escapes))
            runtime = dataclasses.replace(runtime, listing_progress=ListingShown(live))
        prepared = prepare_all(config_path, overrides, runtime=runtime, selection=selection)
        documents = _plan_all(prepared, output_format, out, targets, base)
    check_targets_matched(documents)
    sectioned = prepared[0][0].environment is not None
    echo(
        render_all(documents, output_format, color=color, sectioned=sectioned),
        nl=False,
        styled=color,
    )
    codes = [_outcome(document, out, detailed_exitcode) for document in documents]
    return exitcodes.combined(codes)


def _plan_all(
    prepared: Sequence[tuple[Context, DesiredState]],
    output_format: str,
    out: str | None,
    targets: Sequence[str],
    base: str | None,
) -> list[PlanDocument]:
    """Every environment's plan (with `base`, the views it no longer manages)."""
    if out is not None and len(prepared) > 1 and ENV_PLACEHOLDER not in out:
        raise UsageProblem(
            f"--out with several environments needs {ENV_PLACEHOLDER} in the path (one saved "
            f"plan per environment), e.g. --out plan-{ENV_PLACEHOLDER}.json"
        )
    fingerprints = PLAN_FORMATS[output_format].is_plan_document or out is not None

    async def plan(context: Context, desired: DesiredState) -> PlanDocument:
        then = None
        if base is not None:  # each environment's files at REF, placed as today's are
            then = desired_at(
                base, context.settings.snapshots, context.environment, context.application_aliases
            )
        async with context.client() as client:
            document, _ = await compute_plan(
                context,
                client,
                desired,
                targets=targets,
                fingerprints=fingerprints,
                require_match=len(prepared) == 1,
                base=then,
            )
            if then is not None:
                removed = await removed_views(context, client, desired, then)
                document = dataclasses.replace(document, removed_views=removed)
            return document

    async def plan_all() -> list[PlanDocument]:
        # Concurrently, each environment with its own client, keys and rate-limit state.
        return list(await asyncio.gather(*(plan(c, d) for c, d in prepared)))

    return run_loop(plan_all)


def _outcome(document: PlanDocument, out: str | None, detailed_exitcode: bool) -> int:
    """One environment's exit code; its plan saved when it is complete."""
    where = "" if document.environment is None else f"environment {document.environment}: "
    if document.errors:
        echo(
            f"error: {where}{len(document.errors)} view(s) could not be listed; they were not "
            "planned" + ("; the plan was not saved" if out else ""),
            err=True,
        )
        return exitcodes.ERROR
    if out:
        path = out.replace(ENV_PLACEHOLDER, document.environment or "")
        document.write(path)
        echo(f"{where}Saved plan to {path}. Apply it with: reconciler apply {path}", err=True)
    if detailed_exitcode and document.plan.has_changes:
        return exitcodes.CHANGES
    return exitcodes.OK


async def removed_views(
    context: Context, client: ApiClient, desired: DesiredState, base: BaseState
) -> tuple[RemovedView, ...]:
    """Views managed at `base` that no file manages now, each with its remote snapshot count
    (listed by the same client and rules as the plan's own views)."""
    now = {view.scope for view in desired.views}
    then = {view.scope: view.position for view in base.state.views}
    gone = sorted(set(then) - now)
    if not gone:
        return ()
    listing = await list_all(context, client, gone)
    counts = listing.counts
    return tuple(RemovedView(scope, counts.get(scope), then[scope]) for scope in gone)
