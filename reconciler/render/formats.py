"""Every format a plan renders to, in one registry (`PLAN_FORMATS`): text like Terraform's,
markdown for pull-request comments, GitHub annotations and JSON (the plan document itself).
The command line offers what is here: a new format is one entry, and its renderer.

Rendering works from a PlanDocument, so `plan` and `show` print the same bytes for the same
plan. With environments declared, the plans of all selected environments render together, a
section each (`reconciler.render.sections`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from reconciler.core.text import inert_json
from reconciler.plan.planfile import PlanDocument
from reconciler.render.github import render_github
from reconciler.render.markdown import render_markdown
from reconciler.render.sections import (
    github_sections,
    json_sections,
    markdown_sections,
    text_sections,
)
from reconciler.render.text import render_text


@dataclass(frozen=True, slots=True)
class PlanFormat:
    """One output format of plans. Each renderer takes (`color`: colours wanted, which only
    text shows; `forced`: apply runs with --force, so the warning that apply would refuse
    the plan without it does not apply and is not printed)."""

    #: One plan.
    render: Callable[[PlanDocument, bool, bool], str]
    #: The plans of several environments, a section each.
    sections: Callable[[Sequence[PlanDocument], bool, bool], str]
    #: What it is, for `--format`'s help.
    help: str
    #: The output is the plan document itself (plan.schema.json, as `plan --out` saves
    #: it, read back as the same values: printed, its strings are inert, `core.text`): it
    #: needs the fingerprints, and `show` prints a saved plan as it is, not in its
    #: environment's section.
    is_plan_document: bool = False


#: Every format of `plan` and `show`, in the order `--format` lists them.
PLAN_FORMATS: Final[Mapping[str, PlanFormat]] = MappingProxyType(
    {
        "text": PlanFormat(
            lambda document, color, forced: render_text(document, color=color, forced=forced),
            text_sections,
            "text like Terraform",
        ),
        "markdown": PlanFormat(
            lambda document, color, forced: render_markdown(document, forced=forced),
            markdown_sections,
            "markdown for a pull-request comment",
        ),
        "json": PlanFormat(
            lambda document, color, forced: inert_json(document.to_json()),
            json_sections,
            "json (plan.schema.json)",
            is_plan_document=True,
        ),
        "github": PlanFormat(
            lambda document, color, forced: render_github(document, forced=forced),
            github_sections,
            "github: Actions annotations",
        ),
    }
)

#: What `apply` prints on stdout: its text (the plan, then a line per operation) or the
#: JSON result of each operation.
APPLY_FORMATS: Final = ("text", "json")


def render(
    document: PlanDocument, output_format: str, *, color: bool = False, forced: bool = False
) -> str:
    """The plan in `output_format` (a name of `PLAN_FORMATS`)."""
    return PLAN_FORMATS[output_format].render(document, color, forced)


def render_all(
    documents: Sequence[PlanDocument],
    output_format: str,
    *,
    color: bool = False,
    forced: bool = False,
    sectioned: bool = True,
) -> str:
    """`documents` in `output_format`; `sectioned`: environments are declared (a section
    each); else the one plan as `render` renders it."""
    chosen = PLAN_FORMATS[output_format]
    if not sectioned:
        [document] = documents
        return chosen.render(document, color, forced)
    return chosen.sections(documents, color, forced)
