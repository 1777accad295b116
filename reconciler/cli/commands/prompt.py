"""The apply prompt: one line from the terminal, interruptible by a signal at any time."""

from __future__ import annotations

import os
import select
import sys

import click

from reconciler.core.errors import ReconcilerError
from reconciler.core.output import echo


def confirm(count: int, interactive: bool) -> None:
    if not interactive:
        raise ReconcilerError(
            "stdin is not a terminal: pass --auto-approve to apply without a prompt "
            "(or save a plan with `plan --out` and apply that)"
        )
    noun = "change" if count == 1 else "changes"
    answer = ask(f"Apply {count} {noun}? [y/N]")
    if answer.strip().lower() not in ("y", "yes"):
        raise ReconcilerError("apply cancelled; nothing was changed")


def ask(question: str) -> str:
    """One line from the terminal. Waits in `select` with a timeout rather than in a bare
    read: a signal arriving just before the read would otherwise be acted on only after
    the next key press (Python runs its handlers between calls, not inside one)."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests): click's prompt
        fd = -1
    if fd < 0 or os.name != "posix":
        answer: str = click.prompt(question, default="", show_default=False)
        return answer
    echo(f"{question}: ", nl=False)
    while not select.select([fd], [], [], 0.1)[0]:
        pass
    line = sys.stdin.readline()
    if not line:  # end of input
        raise click.Abort
    return line
