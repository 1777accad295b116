"""The one place where outcomes become exit codes: every error exits 1 (click's usage
errors included) so that 2 always means "changes pending"; messages pass the key redactor."""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import click

from reconciler import exitcodes
from reconciler.errors import InvalidInput, ReconcilerError
from reconciler.output import echo


def guarded(call: Callable[[], object]) -> int:
    """The one place where outcomes become exit codes; messages pass the key redactor."""
    from reconciler.secrets import register_environment

    register_environment()
    try:
        result = call()
    except click.exceptions.Exit as exc:  # --help, --version
        return int(exc.exit_code)
    except click.ClickException as exc:  # usage errors: 1, not click's 2
        shown = io.StringIO()
        exc.show(file=shown)  # masked like every other output: it may quote an argument
        echo(shown.getvalue(), err=True, nl=False)
        return exitcodes.ERROR
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (and end of input at a prompt) into Abort.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):
            echo("Interrupted.", err=True)
            return _interrupted_code(cause)
        echo("Aborted.", err=True)
        return exitcodes.ERROR
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
        if os.environ.get("RECONCILER_DEBUG"):
            raise
        # A bug of ours, not bad input: one line, no traceback (RECONCILER_DEBUG=1 shows it).
        name = type(exc).__name__
        echo(f"internal error: {name}: {exc} (please report it)", err=True)
        return exitcodes.ERROR
    return result if isinstance(result, int) else exitcodes.OK


def _interrupted_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (which apply raises as `Terminated`)."""
    from reconciler.interrupts import Terminated

    return exitcodes.TERMINATED if isinstance(exc, Terminated) else exitcodes.INTERRUPTED
