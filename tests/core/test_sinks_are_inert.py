"""Every sink makes what it writes inert, whatever a renderer did (issue 22): `echo` on
stdout and stderr, the progress bar's `write_stderr`, and the log handler. A line that would
begin a workflow command, `##[` and raw controls never get through; only the github
renderer's own annotations begin with `::`, and a key is masked after all of it."""

from __future__ import annotations

import logging

import pytest

from reconciler.cli.options import configure_logging
from reconciler.core.output import echo, write_stderr
from reconciler.core.secrets import Credentials
from reconciler.core.text import annotation

KEY = "1nert-k3y-9f8e7d6c5b4a39281706"
FORGED = "::error file=README.md,line=1::approved"
HOSTILE = "a\x1b]0;title\x07 ##[add-mask]b \u202e\x9b2J"
SHOWN = "a\\u001b]0;title\\u0007 #\\u0023[add-mask]b \\u202e\\u009b2J"


@pytest.mark.parametrize("err", [False, True])
def test_echo_writes_no_command_and_no_raw_control(
    err: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    echo(f"{FORGED}\n  ::stop-commands::x\n{HOSTILE}", err=err)
    captured = capsys.readouterr()
    assert (captured.err if err else captured.out) == (
        f"\\u003a{FORGED[1:]}\n  \\u003a:stop-commands::x\n{SHOWN}\n"
    )


def test_echo_lets_only_the_github_renderers_annotations_begin_with_two_colons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = annotation("error", "::add-mask::x", file="README.md", line=1)
    echo(f"{made}\n{FORGED}")
    assert capsys.readouterr().out == f"{made}\n\\u003a{FORGED[1:]}\n"


def test_writes_on_one_line_cannot_join_into_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    for piece in (":", ":add-mask::x ", "#", "#[error]"):
        echo(piece, nl=False)
    assert capsys.readouterr().out == "\\u003a\\u003aadd-mask::x \\u0023#[error]"


def test_only_a_styled_render_keeps_its_colours(capsys: pytest.CaptureFixture[str]) -> None:
    coloured = "\x1b[32m\x1b[1m+\x1b[0m \x1b]8;;https://evil.example\x07link"
    echo(coloured, styled=True)
    echo(coloured)
    assert capsys.readouterr().out == (
        # Styled: the colours reach click.echo, which drops them when not on a terminal.
        "+ \\u001b]8;;https://evil.example\\u0007link\n"
        "\\u001b[32m\\u001b[1m+\\u001b[0m \\u001b]8;;https://evil.example\\u0007link\n"
    )


def test_the_progress_bar_keeps_its_redraw_codes_only(capsys: pytest.CaptureFixture[str]) -> None:
    write_stderr(f"\r\x1b[K{FORGED}\x1b[2J\n\r[##..] 1/2")
    assert capsys.readouterr().err == f"\r\x1b[K\\u003a{FORGED[1:]}\\u001b[2J\n\r[##..] 1/2"


def test_each_log_record_is_one_inert_masked_line(capsys: pytest.CaptureFixture[str]) -> None:
    Credentials(KEY, KEY[::-1])
    configure_logging(1)
    logging.getLogger("reconciler.api").info("GET %s 200", f"/v\n{FORGED}\r{HOSTILE} {KEY}")
    assert capsys.readouterr().err == f"GET /v\\n{FORGED}\\r{SHOWN} *** 200\n"


def test_a_traceback_in_a_log_record_keeps_its_lines_each_inert(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(1)
    try:
        raise ValueError(f"x\n{FORGED}")
    except ValueError:
        logging.getLogger("reconciler").exception("failed %s", "::add-mask::y")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "failed ::add-mask::y"
    assert lines[-2:] == ["ValueError: x", f"\\u003a{FORGED[1:]}"]
