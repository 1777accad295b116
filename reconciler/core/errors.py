"""The one user-facing error type. `cli` maps it to exit code 1 in one place."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.core.model import Problem


class ReconcilerError(Exception):
    """A problem to show the user as one clear message, never as a traceback."""


class UsageProblem(ReconcilerError):
    """Bad options, environment or configuration."""


class InvalidInput(ReconcilerError):
    """Files that failed validation: each problem is printed as `path:line:col: message`."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(sorted(problems))
        super().__init__("\n".join(str(problem) for problem in self.problems))
