"""The sinks of everything the commands print: stdout, stderr, the progress bar and the files
the tool writes each pass the key redactor."""

from __future__ import annotations

import pytest

from reconciler.core.output import echo, redact_file_text, write_stderr
from reconciler.core.secrets import Credentials

KEY = "0utp7t-k3y-9f8e7d6c5b4a39281706"
OTHER = "0utp7t-4pp-1a2b3c4d5e6f70819203"


@pytest.fixture(autouse=True)
def known_keys() -> None:
    Credentials(KEY, OTHER)


@pytest.mark.parametrize("text", [f"name {KEY} id", f"name {KEY} café ✓", f"\x1b[31m{KEY}\x1b[0m"])
def test_echo_masks_a_key_on_stdout_and_stderr(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    echo(text)
    echo(text, err=True)
    out, err = capsys.readouterr()
    assert KEY not in out + err
    assert "***" in out
    assert out == err


def test_echo_without_a_newline_writes_just_the_text(capsys: pytest.CaptureFixture[str]) -> None:
    echo("no newline", nl=False)
    echo()
    assert capsys.readouterr().out == "no newline\n"


def test_the_progress_bar_is_masked_and_written_raw(capsys: pytest.CaptureFixture[str]) -> None:
    write_stderr(f"\r[==  ] {OTHER[:14]}\x1b[K")
    assert capsys.readouterr().err == "\r[==  ] ***\x1b[K"


def test_file_text_is_masked_like_every_other_output() -> None:
    assert redact_file_text(f"a: {KEY}\nb: {OTHER}\n") == "a: ***\nb: ***\n"
    assert redact_file_text("nothing secret\n") == "nothing secret\n"
