"""The sinks of everything the commands print: stdout, stderr, the progress bar and every log
line. Each write is made inert here (`text.inert_output`: no workflow command, no `##[`, no
raw control or bidi character) and then masked (`secrets.redact`), once.

Commands print through `echo` (stdout or stderr) and `write_stderr` (the progress bar), and
log through `LogHandler`, never through `click.echo`, `print` or `sys.stdout` directly, so
that nothing a file or a server wrote (a name, an id, an error body) commands the terminal
or the CI runner, and a key echoed by a server into a snapshot name, an id or an error, or
written in a file, never reaches a terminal or a CI log. Files are masked by their writers
(`redact_file_text`): saved plans and exported YAML, which are data and kept exact.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from reconciler.core.secrets import redact
from reconciler.core.text import inert_output, printable


def shown(text: str, *, styled: bool = False, redraw: bool = False) -> str:
    """`text` as a sink writes it: inert, then masked (masking only ever replaces text with
    `***`, which can neither form a command nor undo an escape)."""
    return redact(inert_output(text, styled=styled, redraw=redraw))


def echo(message: str = "", *, err: bool = False, nl: bool = True, styled: bool = False) -> None:
    """`message` on stdout (stderr with `err`); `styled`: its colour codes are the render's
    own (`render.text` with colour), kept as they are."""
    # With its newline: the sink knows whether the write leaves its line open.
    text = shown(message + "\n" if nl else message, styled=styled)
    stream = sys.stderr if err else sys.stdout
    if stream is not None and text.isascii() and "\x1b" not in text:
        # Exactly what click.echo writes for such text (it only strips escape codes), without
        # importing click: the fast start of `validate` never loads it.
        stream.write(text)
        stream.flush()
        return
    import click

    click.echo(text, err=err, nl=False)


def write_stderr(text: str) -> None:
    """A progress bar's text to stderr: its carriage returns and erase-line codes kept, the
    rest inert and masked."""
    sys.stderr.write(shown(text, redraw=True))


def redact_file_text(text: str) -> str:
    """The contents of a file the tool writes, masked like every other output."""
    return redact(text)


class _OneLineMessages(logging.Formatter):
    """A record's message on one inert line: a line break in a view name cannot start a
    line of its own (a traceback below it keeps its lines, each inert at the sink)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


class LogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The sink of every log line: to `sys.stderr` as it is when each record is emitted, not
    when configured (a stream swapped since, as tests do, must not receive records after it
    is closed); each record one inert, masked line."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(_OneLineMessages("%(message)s"))
        self.terminator = ""  # `format` ends each record's line: one write, sink and all

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass

    def format(self, record: logging.LogRecord) -> str:
        return shown(super().format(record) + "\n")
