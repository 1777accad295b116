"""Rendering problems for people (text), GitHub Actions (annotations) and machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from reconciler.core.model import Problem

FORMATS: Final = ("text", "github", "json")


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
            line += f", config {self.config}"
        return line + "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def render(problems: Sequence[Problem], output_format: str, summary: Summary) -> str:
    """All problems, sorted, one per line; the summary line when there are none."""
    ordered = sorted(problems)
    if output_format == "json":
        return render_json(ordered, summary)
    if not ordered:
        return summary.text()
    if output_format == "github":
        return "\n".join(github_annotation(problem) for problem in ordered)
    return "\n".join(str(problem) for problem in ordered)


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
    return json.dumps(document, indent=2, ensure_ascii=False)


def github_annotation(problem: Problem) -> str:
    """`::error file=F,line=L,col=C::message`, escaped as GitHub workflow commands require."""
    return (
        f"::error file={_property(problem.path)},line={problem.line},col={problem.col}"
        f"::{_data(problem.message)}"
    )


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
