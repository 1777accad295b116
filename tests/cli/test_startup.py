"""The start of the `reconciler` command (`reconciler.__main__`, click's group): what the
offline lines people run most import (pre-commit runs `validate` on every commit), `python -m`,
usage errors, and the sink every command prints through."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from reconciler import __main__ as entry
from reconciler.core.output import echo, shown
from support.cli_runner import REPO, imported_by

#: Deferred by the commands that need them (`reconciler.cli.main`, `cli.options`,
#: `cli.outcomes`, `cli.emulator`, `core.schemacheck`): each is a large part of a start-up
#: (jsonschema: needed only by invalid files), and no offline line uses it.
DEFERRED = ("httpx", "asyncio", "starlette", "uvicorn", "jsonschema", "importlib.resources")


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["--help"], ["validate", "snapshots/storefront-shop.yaml"], ["validate"]],
)
def test_the_offline_lines_import_no_deferred_stack(argv: list[str]) -> None:
    assert imported_by("reconciler.__main__", argv, DEFERRED) == "0 []"


@pytest.mark.parametrize("argv", [["--version"], ["validate", "snapshots"], ["plan", "-h"]])
def test_python_dash_m_and_the_command_agree(argv: list[str]) -> None:
    by_module = subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        capture_output=True,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    script = Path(sys.executable).with_name("reconciler")
    if not script.exists():
        pytest.skip("no console script next to the interpreter")
    by_script = subprocess.run(
        [str(script), *argv], capture_output=True, cwd=REPO, check=False, timeout=60
    )
    assert (by_module.returncode, by_module.stdout, by_module.stderr) == (
        by_script.returncode,
        by_script.stdout,
        by_script.stderr,
    )
    assert by_module.returncode == 0


@pytest.mark.parametrize(
    "text", ["OK: 1 file.", "", "a\nb", "café ✓", "esc \x1b[31mred\x1b[0m", "bell \x07", "\x1b"]
)
@pytest.mark.parametrize(("err", "nl"), [(False, True), (True, True), (False, False)])
def test_echo_writes_what_click_echo_writes(
    text: str, err: bool, nl: bool, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """`output.echo` writes ASCII text itself: the same bytes as click.echo writes of the
    text made inert (escape codes and controls shown escaped, `output.shown`)."""
    capsysbinary.readouterr()
    echo(text, err=err, nl=nl)
    ours = capsysbinary.readouterr()
    click.echo(shown(text), err=err, nl=nl)
    assert ours == capsysbinary.readouterr()


def test_echo_on_a_stream_that_cannot_encode_the_text_is_clicks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """click re-wraps an ASCII-configured stdout; text that is not ASCII must reach it."""

    def written(write: Callable[[str], None], text: str) -> bytes:
        buffer = io.BytesIO()
        stream = io.TextIOWrapper(buffer, encoding="ascii")
        monkeypatch.setattr(sys, "stdout", stream)
        write(text)
        stream.flush()
        return buffer.getvalue()

    for text in ("café ✓", "plain"):
        assert written(echo, text) == written(click.echo, text)


def test_usage_errors_are_reported_as_click_reports_them_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = entry.main(["validate", "--format", "xml"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.startswith("Usage: reconciler validate [OPTIONS] [PATHS]...\n")
    assert "Error: Invalid value for '--format': 'xml' is not one of" in err
