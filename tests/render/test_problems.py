"""The registry of `validate`'s formats: every problem, sorted, in each format; the summary
when there is none."""

from __future__ import annotations

import json

import pytest

from reconciler.core.model import Problem
from reconciler.render.problems import PROBLEM_FORMATS, Summary, render

SUMMARY = Summary(files=2, snapshots=3, views=1, config="reconciler.yaml")
PROBLEMS = [
    Problem("b.yaml", 1, 1, "second file"),
    Problem("a.yaml", 9, 3, "later line"),
    Problem("a.yaml", 2, 5, "first: 50%"),
]


def test_text_is_one_sorted_line_per_problem() -> None:
    assert render(PROBLEMS, "text", SUMMARY) == (
        "a.yaml:2:5: first: 50%\na.yaml:9:3: later line\nb.yaml:1:1: second file"
    )


def test_github_is_one_sorted_annotation_per_problem() -> None:
    assert render(PROBLEMS, "github", SUMMARY) == (
        "::error file=a.yaml,line=2,col=5::first: 50%25\n"
        "::error file=a.yaml,line=9,col=3::later line\n"
        "::error file=b.yaml,line=1,col=1::second file"
    )


def test_json_lists_the_sorted_problems_and_what_was_checked() -> None:
    assert json.loads(render(PROBLEMS, "json", SUMMARY)) == {
        "valid": False,
        "problems": [
            {"path": "a.yaml", "line": 2, "col": 5, "message": "first: 50%"},
            {"path": "a.yaml", "line": 9, "col": 3, "message": "later line"},
            {"path": "b.yaml", "line": 1, "col": 1, "message": "second file"},
        ],
        "files": 2,
        "snapshots": 3,
        "views": 1,
        "config": "reconciler.yaml",
    }


@pytest.mark.parametrize("name", list(PROBLEM_FORMATS))
def test_without_problems_each_format_says_what_was_checked(name: str) -> None:
    output = render([], name, SUMMARY)
    if name == "json":
        assert json.loads(output)["valid"] is True
    else:
        assert output == "OK: 2 files, 3 snapshots, 1 view, config reconciler.yaml."
