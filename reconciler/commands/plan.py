"""`reconciler plan`: validate, list each managed view, diff, print the plan."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence

from reconciler import exitcodes
from reconciler.baseref import managed_at
from reconciler.client import ApiClient
from reconciler.engine import Context, compute_plan, list_all, prepare
from reconciler.model import DesiredState, RemovedView
from reconciler.output import echo
from reconciler.planfile import PlanDocument
from reconciler.render import render
from reconciler.runtime import Runtime


def run(
    *,
    config_path: str | None,
    overrides: Mapping[str, object],
    output_format: str,
    out: str | None,
    detailed_exitcode: bool,
    targets: Sequence[str],
    color: bool,
    base: str | None = None,
    runtime: Runtime = Runtime(),
) -> int:
    context, desired = prepare(config_path, overrides, runtime=runtime)

    async def plan() -> PlanDocument:
        async with context.client() as client:
            document, _ = await compute_plan(
                context,
                client,
                desired,
                targets=targets,
                fingerprints=output_format == "json" or out is not None,
            )
            if base is not None:
                removed = await removed_views(context, client, desired, base)
                document = dataclasses.replace(document, removed_views=removed)
            return document

    document = asyncio.run(plan())
    echo(render(document, output_format, color=color), nl=False)
    if document.errors:
        echo(
            f"error: {len(document.errors)} view(s) could not be listed; they were not planned"
            + ("; the plan was not saved" if out else ""),
            err=True,
        )
        return exitcodes.ERROR
    if out:
        document.write(out)
        echo(f"Saved plan to {out}. Apply it with: reconciler apply {out}", err=True)
    if detailed_exitcode and document.plan.has_changes:
        return exitcodes.CHANGES
    return exitcodes.OK


async def removed_views(
    context: Context, client: ApiClient, desired: DesiredState, base: str
) -> tuple[RemovedView, ...]:
    """Views managed at `base` that no file manages now, each with its remote snapshot count
    (listed by the same client and rules as the plan's own views)."""
    now = {view.scope for view in desired.views}
    then = {view.scope: view.position for view in managed_at(base, context.settings.snapshots)}
    gone = sorted(set(then) - now)
    if not gone:
        return ()
    listing = await list_all(context, client, gone)
    counts = listing.counts
    return tuple(RemovedView(scope, counts.get(scope), then[scope]) for scope in gone)
