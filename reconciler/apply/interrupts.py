"""SIGTERM handled as Ctrl-C, everywhere a command runs (CI runners and `docker stop` send
SIGTERM on cancel).

- For the whole command (`terminate_as_interrupt`, installed by `reconciler.cli.main` before
  click parses the line), outside an event loop (parsing, reading files, the `[y/N]`
  prompt), SIGINT raises KeyboardInterrupt as Python does and SIGTERM raises `Terminated`, a
  KeyboardInterrupt: one signal ends the run, which says it was interrupted.
- Inside `run_loop` (listing, planning), SIGTERM cancels the main task as asyncio does for
  SIGINT, and `Terminated` is raised when the loop is done.
- While operations run (`stop_on_signals`), the first SIGINT or SIGTERM sets the stop event
  (start nothing new, in-flight requests finish within a bound); a second one ends the run
  at once.

Exit codes: 130 after SIGINT, 143 after SIGTERM (128 + the signal number, as shells report).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Final, TypeVar

from reconciler.core import exitcodes
from reconciler.core.output import echo

if TYPE_CHECKING:  # asyncio is a quarter of a start-up: imported where a loop runs
    import asyncio

T = TypeVar("T")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C."""


def exit_code(signum: int | None) -> int:
    return exitcodes.TERMINATED if signum == signal.SIGTERM else exitcodes.INTERRUPTED


#: Whether SIGTERM came during this command. Python drops an exception raised where it
#: ignores them (a weakref or import-lock callback), so the raise alone can be lost: the
#: next event loop of the run sees this and ends the run all the same.
_terminated = threading.Event()
#: Whether Python dropped a KeyboardInterrupt (Ctrl-C) in such a callback.
_interrupted = threading.Event()


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    _terminated.set()
    raise Terminated


def _dropped(previous: Callable[[sys.UnraisableHookArgs], object]) -> Callable[..., None]:
    """An unraisable-exception hook: an interruption Python dropped in a callback is kept
    for the next event loop, silently (the run still says "Interrupted." once)."""

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, Terminated):
            _terminated.set()
        elif isinstance(unraisable.exc_value, KeyboardInterrupt):
            _interrupted.set()
        else:
            previous(unraisable)

    return hook


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """For the whole command: SIGTERM raises Terminated and SIGINT KeyboardInterrupt
    (outside event loops), whatever handled them before (the start of the `reconciler`
    command ends the process at once)."""
    if not _main_thread():
        yield
        return
    _terminated.clear()
    _interrupted.clear()
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _dropped(previous_hook)
    # SIGINT: Python's own handler, under which asyncio.run cancels its main task on Ctrl-C.
    wanted = {signal.SIGTERM: _raise_terminated, signal.SIGINT: signal.default_int_handler}
    previous = {
        signum: signal.signal(signum, handler)
        for signum, handler in wanted.items()
        # A signal ignored when the process started stays ignored, as Python leaves SIGINT:
        # a script's background job ignores Ctrl-C, `nohup` and the like choose the same.
        if signal.getsignal(signum) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = previous_hook
        # The command's interruptions end with it (in-process runs share this module).
        _terminated.clear()
        _interrupted.clear()


def run_loop(main: Callable[[], Awaitable[T]]) -> T:
    """`asyncio.run(main())`, SIGTERM cancelling the main task as asyncio does for SIGINT.

    SIGINT and SIGTERM are held back (blocked, so they wait) while the event loop is made
    and while it is torn down: raised there, they would leave a half-made loop behind
    (warnings, or another exception in place of the interruption). They are let through once
    the loop's own SIGTERM handler is in place, and again after the loop is gone."""
    import asyncio

    held = _hold_signals()
    if _terminated.is_set() or _interrupted.is_set():  # an interruption Python dropped
        _release_signals(held)
        raise Terminated if _terminated.is_set() else KeyboardInterrupt

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        terminated = False

        def on_sigterm() -> None:
            nonlocal terminated
            terminated = True
            if task is not None:
                task.cancel()

        installed = _install(loop, signal.SIGTERM, on_sigterm)
        _release_signals(held)
        try:
            return await main()
        except asyncio.CancelledError:
            if terminated:
                raise Terminated from None
            raise
        finally:
            _hold_signals()
            if installed:
                loop.remove_signal_handler(signal.SIGTERM)
                signal.signal(signal.SIGTERM, _raise_terminated)

    try:
        return asyncio.run(guarded())
    finally:
        _release_signals(held)


_HELD: Final = {signal.SIGINT, signal.SIGTERM}


def _hold_signals() -> set[int | signal.Signals] | None:
    """Block SIGINT and SIGTERM (they stay pending); the mask before, None off the main
    thread (signals are the main thread's)."""
    if not _main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)


def _release_signals(previous: set[int | signal.Signals] | None) -> None:
    """Restore the mask `_hold_signals` saw: a signal that came meanwhile is handled now."""
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _install(
    loop: asyncio.AbstractEventLoop, signum: int, handler: Callable[..., None], *args: object
) -> bool:
    if not _main_thread():
        return False
    try:
        loop.add_signal_handler(signum, handler, *args)
    except (NotImplementedError, RuntimeError):  # no signals on this platform or loop
        return False
    return True


@dataclass
class Interruption:
    """Which signal stopped the run, if any."""

    signum: int | None = None


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event, seen: Interruption) -> Iterator[None]:
    """The first SIGINT or SIGTERM sets `stop`; after it, both signals end the run at once."""
    import asyncio

    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)

    def first(signum: int) -> None:
        echo("\nInterrupted: finishing requests in flight, starting nothing new.", err=True)
        seen.signum = signum
        stop.set()
        for each in signals:  # the next one is fatal: Python's own handlers again
            loop.remove_signal_handler(each)
        signal.signal(signal.SIGTERM, _raise_terminated)

    installed = [each for each in signals if _install(loop, each, first, each)]
    try:
        yield
    finally:
        for each in installed:
            loop.remove_signal_handler(each)
        if signal.SIGTERM in installed:
            signal.signal(signal.SIGTERM, _raise_terminated)
