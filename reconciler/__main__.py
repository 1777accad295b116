"""The `reconciler` command (and `python -m reconciler`): the click group of
`reconciler.cli.main` parses every command line.

Ctrl-C and SIGTERM are handled from the first thing `main` does: until the command has
installed its own handlers (`apply.interrupts.terminate_as_interrupt`, before click parses a
word), importing the command (most of a start-up) is all that happened, so one ends the
process at once with the message and exit code a later one gives. Only the interpreter's own
start, before any code of ours runs, is left to the default action of the signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType

__all__ = ["main"]

#: What `reconciler.cli.outcomes.guarded` prints for an interrupted run.
INTERRUPTED = b"Interrupted.\n"


def _exit_interrupted(signum: int, frame: FrameType | None) -> None:
    # Nothing to finish or clean up, nothing printed yet; exit 130 or 143 as shells report
    # (128 + the signal), the codes of `reconciler.core.exitcodes`.
    with contextlib.suppress(OSError):  # no stderr to say it on: exit all the same
        os.write(2, INTERRUPTED)
    os._exit(128 + signum)


@contextlib.contextmanager
def _signals_end_the_start() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # no signals there
        yield
        return
    previous = {
        each: signal.signal(each, _exit_interrupted)
        for each in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(each) is not signal.SIG_IGN  # see `terminate_as_interrupt`
    }
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `reconciler ARGV` (default: the process's arguments); the exit code."""
    with _signals_end_the_start():
        from reconciler.cli.main import main as run

        code = run(argv)
    if code in _INTERRUPTED_CODES:
        _end_now(code)
    return code


#: 130 and 143: `reconciler.core.exitcodes.INTERRUPTED` and `TERMINATED`.
_INTERRUPTED_CODES = frozenset({128 + signal.SIGINT, 128 + signal.SIGTERM})


def _end_now(code: int) -> None:
    """End an interrupted run here, its output flushed. Left to the interpreter, a run whose
    Ctrl-C was handled and reported can still end by SIGINT (-2, not 130): CPython marks
    the KeyboardInterrupt unhandled while the process unwinds (measured: 13 of 200 early
    Ctrl-Cs; `tests/system/test_early_signals.py`)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
