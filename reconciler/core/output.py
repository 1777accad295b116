"""The sinks of everything the commands print: each passes `secrets.redact` here, once.

Commands print through `echo` (stdout or stderr) and `write_stderr` (the progress bar),
never through `click.echo` or `sys.stdout` directly, so that a key echoed by a server into a
snapshot name, an id or an error, or written in a file, never reaches a terminal or a CI log.
Files are masked by their writers (`redact_file_text`): saved plans and exported YAML.
"""

from __future__ import annotations

import sys

from reconciler.core.secrets import redact


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    text = redact(message)
    stream = sys.stderr if err else sys.stdout
    if stream is not None and text.isascii() and "\x1b" not in text:
        # Exactly what click.echo writes for such text (it only strips escape codes), without
        # importing click: the fast start of `validate` never loads it.
        stream.write(text + "\n" if nl else text)
        stream.flush()
        return
    import click

    click.echo(text, err=err, nl=nl)


def write_stderr(text: str) -> None:
    """Raw text to stderr (carriage returns and escape codes of a progress bar), masked."""
    sys.stderr.write(redact(text))


def redact_file_text(text: str) -> str:
    """The contents of a file the tool writes, masked like every other output."""
    return redact(text)
