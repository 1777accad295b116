"""What a run shows while it works, on a terminal only: one line on stderr, redrawn in place,
naming its phase, with a count, a rate and the time left at that rate:

    listing views [######..............] 31/100  42.0/s  ETA 0:02
    applying [#########...........] 53/305  12.3/s  ETA 0:21

Whether there is a line at all is the command line's choice (`cli.options.live_line`: a
terminal on stderr, not CI, not -v). Without escapes (`--no-color`, NO_COLOR) the line is
erased with spaces and a carriage return: nothing but text reaches the terminal. Everything
goes through `core.output.write_stderr`, which keeps only carriage returns and erase-line.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from types import TracebackType

from reconciler.core.output import write_stderr

_BAR = 20
#: Redraws at most this often (seconds) unless something was printed above the line.
_EVERY = 0.1
#: The rate is not guessed from less than this (seconds): the first answers come in bursts.
_SETTLED = 0.5


class LiveLine:
    """The one line redrawn on stderr. A context: on exit it is erased, and meanwhile a
    log record erases it first (the next update draws it again below the record)."""

    def __init__(self, *, escapes: bool = True, columns: int | None = None) -> None:
        self._escapes = escapes
        self._columns = columns or _columns()
        #: The width drawn, None when nothing is on the line.
        self._shown: int | None = None
        self._filter = _EraseFirst(self)

    def __enter__(self) -> LiveLine:
        for handler in logging.getLogger("reconciler").handlers:
            handler.addFilter(self._filter)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.clear()
        for handler in logging.getLogger("reconciler").handlers:
            handler.removeFilter(self._filter)

    def draw(self, text: str) -> None:
        # One column short of the width: a full line wraps on some terminals, and a
        # wrapped line cannot be redrawn with a carriage return.
        text = text[: max(self._columns - 1, 1)]
        # Without escapes, spaces cover what a longer line before left.
        erase = "\x1b[K" if self._escapes else " " * max((self._shown or 0) - len(text), 0)
        write_stderr("\r" + text + erase)
        sys.stderr.flush()
        self._shown = len(text)

    def clear(self) -> None:
        """Erase the line, if one is drawn: what is printed next starts at column one."""
        if self._shown is None:
            return
        write_stderr("\r\x1b[K" if self._escapes else "\r" + " " * self._shown + "\r")
        sys.stderr.flush()
        self._shown = None


def _columns() -> int:
    """The width of stderr, where the line is drawn (stdout may be a file); else what
    shutil finds (COLUMNS, 80): a new pseudo-terminal says 0."""
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, OSError, ValueError):  # no file descriptor: captured, closed
        columns = 0
    return columns or shutil.get_terminal_size().columns


class _EraseFirst(logging.Filter):
    def __init__(self, line: LiveLine) -> None:
        super().__init__()
        self._line = line

    def filter(self, record: logging.LogRecord) -> bool:
        self._line.clear()
        return True


class Tally:
    """One phase's count on the live line: `PHASE [bar] N/M  R/s  ETA m:ss`."""

    def __init__(
        self,
        line: LiveLine,
        phase: str,
        total: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.line = line
        self.phase = phase
        self.total = total
        self.done = 0
        self._clock = clock
        self._started = clock()
        self._drawn_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def advance(self) -> None:
        """One more done, drawn at once (apply prints a line above it each time)."""
        self.done += 1
        self.show()

    def show(self, *, at_once: bool = True) -> None:
        """Draw the line; unless `at_once`, only if the last draw is old enough (a
        thousand answers a second must not cost a thousand redraws)."""
        now = self._clock()
        if not at_once and self._drawn_at is not None and now - self._drawn_at < _EVERY:
            return
        self._drawn_at = now
        self.line.draw(self.text(now))

    def text(self, now: float) -> str:
        filled = _BAR * self.done // max(self.total, 1)
        text = f"{self.phase} [{'#' * filled}{'.' * (_BAR - filled)}] {self.done}/{self.total}"
        elapsed = now - self._started
        if self.done and elapsed >= _SETTLED:
            rate = self.done / elapsed
            left = (self.total - self.done) / rate
            pace = f"{rate:.1f}/s" if rate >= 1 else f"{rate * 60:.1f}/min"
            text += f"  {pace}  ETA {_clock_time(left)}"
        return text


def _clock_time(seconds: float) -> str:
    """`0:21`, `12:05`, `1:02:03`."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ListingShown:
    """`api.listing.ListingProgress` on the live line: `listing views N/M`. Listings that
    overlap (several environments at once) add up on one line; once all are done the line
    is erased, and the next listing (a re-plan) counts from zero."""

    def __init__(self, line: LiveLine, clock: Callable[[], float] = time.monotonic) -> None:
        self._line = line
        self._clock = clock
        self._tally: Tally | None = None

    def started(self, views: int) -> None:
        if not views:
            return
        if self._tally is None or self._tally.finished:
            self._tally = Tally(self._line, "listing views", views, self._clock)
        else:
            self._tally.total += views
        self._tally.show()

    def listed(self) -> None:
        tally = self._tally
        assert tally is not None, "listed() before started()"
        tally.done += 1
        if tally.finished:
            self._line.clear()
        else:
            tally.show(at_once=False)
