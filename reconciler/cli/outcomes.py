"""The one place where outcomes become exit codes: every error exits 1 (click's usage
errors included) so that 2 always means "changes pending"; messages pass the key redactor."""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import click

from reconciler.apply.interrupts import Terminated
from reconciler.core import exitcodes
from reconciler.core.errors import InvalidInput, ReconcilerError
from reconciler.core.output import echo
from reconciler.core.secrets import register_environment


def guarded(call: Callable[[], object]) -> int:
    """The one place where outcomes become exit codes; messages pass the key redactor."""
    register_environment()
    try:
        result = call()
    except InvalidInput as exc:
        for problem in exc.problems:
            echo(str(problem), err=True)
        return exitcodes.ERROR
    except ReconcilerError as exc:
        echo(f"error: {exc}", err=True)
        return exitcodes.ERROR
    except KeyboardInterrupt as exc:
        echo("Interrupted.", err=True)
        return _interrupted_code(exc)
    except Exception as exc:
        code = _click_outcome(exc)
        if code is not None:
            return code
        if os.environ.get("RECONCILER_DEBUG"):
            raise
        # A bug of ours, not bad input: one line, no traceback (RECONCILER_DEBUG=1 shows it).
        name = type(exc).__name__
        echo(f"internal error: {name}: {exc} (please report it)", err=True)
        return exitcodes.ERROR
    return result if isinstance(result, int) else exitcodes.OK


def _click_outcome(exc: Exception) -> int | None:
    """The exit code of one of click's exceptions (after printing what it says); None for
    any other exception."""
    if isinstance(exc, click.exceptions.Exit):  # --help, --version
        return int(exc.exit_code)
    if isinstance(exc, click.ClickException):  # usage errors: 1, not click's 2
        shown = io.StringIO()
        exc.show(file=shown)  # masked like every other output: it may quote an argument
        echo(shown.getvalue(), err=True, nl=False)
        return exitcodes.ERROR
    if isinstance(exc, click.exceptions.Abort):
        # click turns Ctrl-C (and end of input at a prompt) into Abort.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):
            echo("Interrupted.", err=True)
            return _interrupted_code(cause)
        echo("Aborted.", err=True)
        return exitcodes.ERROR
    return None


def _interrupted_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (raised as `Terminated`)."""
    return exitcodes.TERMINATED if isinstance(exc, Terminated) else exitcodes.INTERRUPTED
