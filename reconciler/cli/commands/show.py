"""`reconciler show PLAN`: render a saved plan."""

from __future__ import annotations

from reconciler.core import exitcodes
from reconciler.core.output import echo
from reconciler.plan.planfile import PlanDocument
from reconciler.render.formats import PLAN_FORMATS, render_all


def run(*, plan_path: str, output_format: str, color: bool) -> int:
    document = PlanDocument.read(plan_path)
    # As `plan` printed it: in its environment's section, unless the output is the document.
    is_document = PLAN_FORMATS[output_format].is_plan_document
    sectioned = document.environment is not None and not is_document
    echo(
        render_all([document], output_format, color=color, sectioned=sectioned),
        nl=False,
        styled=color,
    )
    return exitcodes.OK
