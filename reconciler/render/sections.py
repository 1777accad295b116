"""Plans of several environments in one output: a section per environment, in the order
they were selected, as each format of `reconciler.render.formats` puts them together."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from reconciler import __version__
from reconciler.core.text import inert_json, plain
from reconciler.plan.planfile import FORMAT_VERSION, PlanDocument
from reconciler.render.common import MARKDOWN_LIMIT
from reconciler.render.github import render_github
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

#: Stands for the environment's name in `plan --out PATH`: one saved plan per environment.
ENV_PLACEHOLDER: Final = "{env}"


def text_sections(documents: Sequence[PlanDocument], color: bool, forced: bool) -> str:
    """Each plan under a heading naming its environment and where it goes."""
    sections = []
    for document in documents:
        head = f"Environment {plain(document.environment or '')} ({plain(document.target_url)}):"
        sections.append(head + "\n" + render_text(document, color=color, forced=forced))
    return "\n".join(sections)


def markdown_sections(documents: Sequence[PlanDocument], color: bool, forced: bool) -> str:
    """Each plan in its share of one comment's size: one comment holds every section."""
    # The line breaks joining the sections count too.
    share = (MARKDOWN_LIMIT - max(len(documents) - 1, 0)) // max(len(documents), 1)
    return "\n".join(render_markdown(d, share, forced=forced) for d in documents)


def github_sections(documents: Sequence[PlanDocument], color: bool, forced: bool) -> str:
    """The annotations of every plan (each names its environment)."""
    return "".join(render_github(document, forced=forced) for document in documents)


def json_sections(documents: Sequence[PlanDocument], color: bool, forced: bool) -> str:
    """`{"format_version", "generator", "environments": [plan, ...]}`."""
    wrapper = {
        "format_version": FORMAT_VERSION,
        "generator": f"reconciler {__version__}",
        "environments": [document.to_dict() for document in documents],
    }
    return inert_json(json.dumps(wrapper, indent=2, ensure_ascii=False)) + "\n"
