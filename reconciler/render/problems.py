"""Rendering problems for people (text), GitHub Actions (annotations) and machines (JSON):
every format of `validate`, in one registry (`PROBLEM_FORMATS`), which the command line
offers as it is. A new format is one entry there, and its renderer. Paths and messages
quote files (names, keys, values): each is made inert by `core.text` where it is placed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from reconciler.core.model import Problem
from reconciler.core.text import annotation, inert_json, printable


@dataclass(frozen=True, slots=True)
class Summary:
    """What was checked, for the success line and the JSON output."""

    files: int
    snapshots: int
    views: int
    config: str | None = None

    def text(self) -> str:
        line = (
            f"OK: {_count(self.files, 'file')}, {_count(self.snapshots, 'snapshot')},"
            f" {_count(self.views, 'view')}"
        )
        if self.config is not None:
            line += f", config {printable(self.config)}"
        return line + "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def render(problems: Sequence[Problem], output_format: str, summary: Summary) -> str:
    """All problems, sorted, in `output_format` (a name of `PROBLEM_FORMATS`)."""
    return PROBLEM_FORMATS[output_format].render(sorted(problems), summary)


def render_text(problems: Sequence[Problem], summary: Summary) -> str:
    """One problem per line, `path:line:col: message` (`Problem.__str__`, inert); the summary
    line when there are none."""
    return "\n".join(str(problem) for problem in problems) if problems else summary.text()


def render_github(problems: Sequence[Problem], summary: Summary) -> str:
    """One annotation per problem; the summary line when there are none."""
    if not problems:
        return summary.text()
    return "\n".join(github_annotation(problem) for problem in problems)


def render_json(problems: Sequence[Problem], summary: Summary) -> str:
    document = {
        "valid": not problems,
        "problems": [
            {"path": p.path, "line": p.line, "col": p.col, "message": p.message} for p in problems
        ],
        "files": summary.files,
        "snapshots": summary.snapshots,
        "views": summary.views,
        "config": summary.config,
    }
    return inert_json(json.dumps(document, indent=2, ensure_ascii=False))


def github_annotation(problem: Problem) -> str:
    """`::error file=F,line=L,col=C::message`, inert and escaped as GitHub workflow commands
    require (`core.text.annotation`)."""
    return annotation(
        "error", problem.message, file=problem.path, line=problem.line, col=problem.col
    )


@dataclass(frozen=True, slots=True)
class ProblemFormat:
    """One output format of `validate`."""

    #: (the problems, sorted; what was checked) -> the output.
    render: Callable[[Sequence[Problem], Summary], str]
    #: What it is, for `--format`'s help.
    help: str


#: Every format of `validate`, in the order `--format` lists them.
PROBLEM_FORMATS: Final[Mapping[str, ProblemFormat]] = MappingProxyType(
    {
        "text": ProblemFormat(render_text, "text: path:line:col: message"),
        "github": ProblemFormat(render_github, "github: Actions annotations"),
        "json": ProblemFormat(render_json, "json: a list"),
    }
)
