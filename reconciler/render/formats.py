"""Every format a plan renders to, in one place: text like Terraform's, markdown for
pull-request comments, GitHub annotations and JSON (the plan document itself). Rendering
works from a PlanDocument, so `plan` and `show` print the same bytes for the same plan."""

from __future__ import annotations

from reconciler.plan.planfile import PlanDocument
from reconciler.render.github import render_github
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text


def render(
    document: PlanDocument, output_format: str, *, color: bool = False, forced: bool = False
) -> str:
    """The plan in `output_format`. `forced`: apply runs with --force, so the warning that
    apply would refuse the plan without it does not apply and is not printed."""
    if output_format == "json":
        return document.to_json()
    if output_format == "markdown":
        return render_markdown(document, forced=forced)
    if output_format == "github":
        return render_github(document, forced=forced)
    return render_text(document, color=color, forced=forced)
