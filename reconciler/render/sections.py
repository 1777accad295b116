"""Plans of several environments in one output: a section per environment, in the order
they were selected. Without environments, the one plan is rendered as before (`render`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from reconciler import __version__
from reconciler.core.text import plain
from reconciler.plan.planfile import FORMAT_VERSION, PlanDocument
from reconciler.render.common import MARKDOWN_LIMIT
from reconciler.render.formats import render

#: Stands for the environment's name in `plan --out PATH`: one saved plan per environment.
ENV_PLACEHOLDER: Final = "{env}"


def render_all(
    documents: Sequence[PlanDocument],
    output_format: str,
    *,
    color: bool = False,
    forced: bool = False,
    sectioned: bool = True,
) -> str:
    """`documents` in `output_format`; `sectioned`: environments are declared (a section
    each, and JSON as `{"format_version", "generator", "environments": [plan, ...]}`)."""
    if not sectioned:
        [document] = documents
        return render(document, output_format, color=color, forced=forced)
    if output_format == "json":
        wrapper = {
            "format_version": FORMAT_VERSION,
            "generator": f"reconciler {__version__}",
            "environments": [document.to_dict() for document in documents],
        }
        return json.dumps(wrapper, indent=2, ensure_ascii=False) + "\n"
    if output_format == "markdown":
        from reconciler.render.markdown import render_markdown

        share = MARKDOWN_LIMIT // max(len(documents), 1)  # one comment holds every section
        return "\n".join(render_markdown(d, share, forced=forced) for d in documents)
    if output_format == "github":
        return "".join(render(d, "github", forced=forced) for d in documents)
    sections = []
    for document in documents:
        head = f"Environment {plain(document.environment or '')} ({plain(document.target_url)}):"
        sections.append(head + "\n" + render(document, "text", color=color, forced=forced))
    return "\n".join(sections)
