"""SIGTERM and Ctrl-C as an interruption, in-process: what the real-process suite
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


def signalled_in_a_callback(signum: int) -> None:
    """`signum` sent to this process while Python runs a weakref callback, where it ignores
    (drops) any exception: the handler's exception is raised there and lost."""

    class Thing:
        pass

    def callback(_: Any) -> None:
        os.kill(os.getpid(), signum)
        time.sleep(0.01)  # the handler runs here, inside the callback

    thing = Thing()
    reference = weakref.ref(thing, callback)
    del thing
    assert reference() is None


@pytest.mark.parametrize(
    ("signum", "raised"),
    [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)],
)
def test_an_interruption_python_dropped_still_ends_the_run_silently(
    capfd: pytest.CaptureFixture[str], signum: int, raised: type[BaseException]
) -> None:
    """Python prints "Exception ignored in ..." with a traceback for an exception it drops;
    the run says nothing there, and its next event loop ends it."""
    with terminate_as_interrupt():
        signalled_in_a_callback(signum)
        assert capfd.readouterr() == ("", "")
        with pytest.raises(raised):
            run_loop(nothing)


def test_other_exceptions_python_drops_go_to_the_hook_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: seen.append(unraisable.exc_value))

    class Thing:
        pass

    def callback(_: Any) -> None:
        raise ValueError("a bug of ours")

    with terminate_as_interrupt():
        thing = Thing()
        reference = weakref.ref(thing, callback)
        del thing
        assert reference() is None
        assert run_loop(nothing) == "ran"
    assert [str(error) for error in seen] == ["a bug of ours"]


def test_a_new_command_starts_without_an_earlier_interruption() -> None:
    """In-process runs (the tests) share the module: each command starts afresh, and an
    event loop run outside a command (a test's own) is not ended by an earlier one's."""
    with terminate_as_interrupt():
        signalled_in_a_callback(signal.SIGTERM)
        signalled_in_a_callback(signal.SIGINT)
    assert run_loop(nothing) == "ran"
    with terminate_as_interrupt():
        assert run_loop(nothing) == "ran"
