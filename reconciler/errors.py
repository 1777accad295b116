"""The one user-facing error type. `cli` maps it to exit code 1 in one place."""

from __future__ import annotations


class ReconcilerError(Exception):
    """A problem to show the user as one clear message, never as a traceback."""


class UsageProblem(ReconcilerError):
    """Bad options, environment or configuration."""
