"""`reconciler plan`: validate, list each managed view, diff, print the plan."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import click

from reconciler import exitcodes
from reconciler.engine import compute_plan, prepare
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
            return document

    document = asyncio.run(plan())
    click.echo(render(document, output_format, color=color), nl=False)
    if document.errors:
        click.echo(
            f"error: {len(document.errors)} view(s) could not be listed; they were not planned"
            + ("; the plan was not saved" if out else ""),
            err=True,
        )
        return exitcodes.ERROR
    if out:
        document.write(out)
        click.echo(f"Saved plan to {out}. Apply it with: reconciler apply {out}", err=True)
    if detailed_exitcode and document.plan.has_changes:
        return exitcodes.CHANGES
    return exitcodes.OK
