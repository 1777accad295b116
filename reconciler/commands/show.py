"""`reconciler show PLAN`: render a saved plan."""

from __future__ import annotations

from reconciler import exitcodes
from reconciler.output import echo
from reconciler.planfile import PlanDocument
from reconciler.render import render


def run(*, plan_path: str, output_format: str, color: bool) -> int:
    document = PlanDocument.read(plan_path)
    echo(render(document, output_format, color=color), nl=False)
    return exitcodes.OK
