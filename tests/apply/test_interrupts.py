"""SIGTERM as an interruption, in-process: what the real-process suite
(tests/system/test_early_signals.py) can hit only by chance."""

from __future__ import annotations

import os
import signal
import sys
import time
import weakref
from typing import Any

import pytest

from reconciler.apply.interrupts import Terminated, run_loop, terminate_as_interrupt


async def nothing() -> str:
    return "ran"


def test_a_sigterm_whose_exception_python_dropped_still_ends_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python ignores an exception raised in a weakref (or import-lock) callback: a SIGTERM
    handled there is lost unless the run remembers it. The next event loop ends the run."""
    dropped: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: dropped.append(info.exc_value))

    class Thing:
        pass

    def signalled_in_callback(_: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)  # the handler runs here, inside the callback

    with terminate_as_interrupt():
        thing = Thing()
        reference = weakref.ref(thing, signalled_in_callback)
        del thing
        assert reference() is None
        assert len(dropped) == 1
        assert isinstance(dropped[0], Terminated)
        with pytest.raises(Terminated):
            run_loop(nothing)


def test_a_new_command_starts_without_an_earlier_sigterm() -> None:
    """In-process runs (the tests) share the module: each command starts afresh."""

    def signalled() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)

    with terminate_as_interrupt(), pytest.raises(Terminated):
        signalled()
    with terminate_as_interrupt():
        assert run_loop(nothing) == "ran"
