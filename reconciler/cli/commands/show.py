"""`reconciler show PLAN`: render a saved plan."""

from __future__ import annotations

from reconciler.core import exitcodes
from reconciler.core.output import echo
from reconciler.plan.planfile import PlanDocument
from reconciler.render.formats import render
from reconciler.render.sections import render_all


def run(*, plan_path: str, output_format: str, color: bool) -> int:
    document = PlanDocument.read(plan_path)
    if document.environment is not None and output_format in ("text", "markdown", "github"):
        # as `plan` printed it: a section per environment
        output = render_all([document], output_format, color=color)
    else:
        output = render(document, output_format, color=color)
    echo(output, nl=False)
    return exitcodes.OK
