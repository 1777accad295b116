"""The user-facing errors: one message each; invalid input lists its problems sorted, one
`path:line:col: message` per line."""

from __future__ import annotations

from reconciler.core.errors import InvalidInput, ReconcilerError, UsageProblem
from reconciler.core.model import Problem


def test_invalid_input_lists_its_problems_sorted_one_per_line() -> None:
    problems = [
        Problem("b.yaml", 1, 1, "second file"),
        Problem("a.yaml", 9, 2, "later line"),
        Problem("a.yaml", 2, 1, "first"),
    ]
    error = InvalidInput(problems)
    assert error.problems == (problems[2], problems[1], problems[0])
    assert str(error) == "a.yaml:2:1: first\na.yaml:9:2: later line\nb.yaml:1:1: second file"


def test_every_user_facing_error_is_a_reconciler_error() -> None:
    # The command line maps ReconcilerError to exit code 1 in one place.
    assert issubclass(UsageProblem, ReconcilerError)
    assert issubclass(InvalidInput, ReconcilerError)
    assert str(UsageProblem("bad option")) == "bad option"
