"""`reconciler show PLAN`: render a saved plan."""

from __future__ import annotations

import click

from reconciler import exitcodes
from reconciler.planfile import PlanDocument
from reconciler.render import render


def run(*, plan_path: str, output_format: str, color: bool) -> int:
    document = PlanDocument.read(plan_path)
    click.echo(render(document, output_format, color=color), nl=False)
    return exitcodes.OK
