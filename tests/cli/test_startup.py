"""The fast start of `reconciler.__main__` (the `reconciler` command): `--version` and plain
`validate` lines print exactly what the click route (`reconciler.cli.main.main`) prints, with the
same exit code, without importing click or logging; every other line goes to click."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import pytest

from reconciler import __main__ as entry
from reconciler.cli import main as cli
from support.cli_runner import CORPUS, REPO, imported_by

GOOD = (
    "application_id: 6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21\n"
    "views:\n  /home:\n    - snapshot_name: Home\n      device_type: desktop\n"
    "      event_id: e-1\n      start: 1500\n"
)
Main = Callable[[Sequence[str]], int]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository: reconciler.yaml, a good and a bad snapshots file, a file with a name
    and a message that are not ASCII, and one whose name holds an escape character."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "good.yaml").write_text(GOOD)
    (tmp_path / "reconciler.yaml").write_text("snapshots: snapshots\n")
    shutil.copy(CORPUS / "cli" / "five_mistakes.yaml", tmp_path / "bad.yaml")
    (tmp_path / "café.yaml").write_text(GOOD.replace("desktop", "bureau"))
    (tmp_path / "esc\x1b[31mred.yaml").write_text("views: 1\n")
    (tmp_path / "broken.yml").write_text("a: [1\n")
    return tmp_path


def outcome(main: Main, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, ...]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


LINES = [
    ["validate"],
    ["validate", "snapshots"],
    ["validate", "bad.yaml"],
    ["validate", "bad.yaml", "snapshots/good.yaml", "--format", "github"],
    ["validate", "--format=json", "bad.yaml"],
    ["validate", "--format", "json"],
    ["validate", "--config", "reconciler.yaml"],
    ["validate", "--config=missing.yaml"],
    ["validate", "reconciler.yaml"],
    ["validate", "missing.yaml", "snapshots"],
    ["validate", "café.yaml"],
    ["validate", "café.yaml", "--format", "json"],
    ["validate", "esc\x1b[31mred.yaml"],
    ["validate", "broken.yml"],
    ["validate", "--format", "xml"],  # the rest go to click
    ["validate", "--format"],
    ["validate", "-v", "bad.yaml"],
    ["validate", "--", "bad.yaml"],
    ["validate", "--help"],
    ["--version"],
    ["--version", "--help"],
    ["-C", ".", "validate"],
]


@pytest.mark.parametrize("argv", LINES, ids=" ".join)
def test_the_fast_start_prints_what_click_prints(
    workspace: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    fast = outcome(entry.main, argv, capsys)
    assert fast == outcome(cli.main, argv, capsys)
    assert fast[0] in (0, 1)


def test_a_key_in_a_file_is_masked_on_the_fast_start(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "0123456789abcdef0123456789abcdef"
    monkeypatch.setenv("DD_API_KEY", key)
    (workspace / "leak.yaml").write_text(GOOD.replace("desktop", key))
    code, out, err = outcome(entry.main, ["validate", "leak.yaml"], capsys)
    assert code == 1
    assert key[:12] not in out + err
    assert "***" in out
    assert (code, out, err) == outcome(cli.main, ["validate", "leak.yaml"], capsys)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["validate"], ([], "text", None)),
        (["validate", "a", "b"], (["a", "b"], "text", None)),
        (["validate", "a", "--format", "github", "b"], (["a", "b"], "github", None)),
        (["validate", "--format=json", "--config=c.yaml"], ([], "json", "c.yaml")),
        (["validate", "--config", "c.yaml", "a"], (["a"], "text", "c.yaml")),
        (["validate", "--format", "xml"], None),
        (["validate", "--format", "json", "--format", "text"], None),
        (["validate", "--format"], None),
        (["validate", "--config", "-x"], None),
        (["validate", "--config="], None),
        (["validate", "-v"], None),
        (["validate", "--verbose"], None),
        (["validate", "-h"], None),
        (["validate", "--"], None),
        (["validate", "-"], None),
        (["validate", ""], None),
        (["validate", "--env", "prod"], None),
        (["plan"], None),
        (["-C", "x", "validate"], None),
        ([], None),
    ],
)
def test_the_lines_read_without_click(
    argv: list[str], expected: tuple[list[str], str, str | None] | None
) -> None:
    assert entry.validate_options(argv) == expected


def test_an_unreadable_path_goes_to_click(tmp_path: Path) -> None:
    """click.Path() refuses a file this user cannot read; root reads every file, and then
    the fast start reads the line as click would accept it."""
    secret = tmp_path / "secret.yaml"
    secret.write_text(GOOD)
    secret.chmod(0)
    readable = os.access(secret, os.R_OK)  # True for root
    as_path = ([str(secret)], "text", None) if readable else None
    as_config = ([], "text", str(secret)) if readable else None
    assert entry.validate_options(["validate", str(secret)]) == as_path
    assert entry.validate_options(["validate", "--config", str(secret)]) == as_config


def test_the_fast_start_mirrors_the_validate_command() -> None:
    """`__main__` reads the options of `cli.validate` itself: a new option there must be
    read here too (or make its lines go to click), else the two routes would differ."""
    command = cli.cli.commands["validate"]
    params = {param.name: param for param in command.params}
    assert sorted(params) == ["config_path", "output_format", "paths", "verbose"]
    # Nothing is read from the environment by click (the fast start would not read it).
    group_params = sorted(str(param.name) for param in cli.cli.params)
    assert group_params == ["chdir", "version"]
    for param in (*command.params, *cli.cli.params):
        assert getattr(param, "envvar", None) is None, param.name
    assert "auto_envvar_prefix" not in {**cli.cli.context_settings, **command.context_settings}
    output_format = params["output_format"]
    assert isinstance(output_format.type, click.Choice)
    assert tuple(output_format.type.choices) == entry.VALIDATE_FORMATS
    assert output_format.default == "text"


def test_completion_requests_go_to_click(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("_RECONCILER_COMPLETE", "bash_source")
    with pytest.raises(SystemExit):
        entry.main(["validate"])
    assert "complete" in capsys.readouterr().out


#: Imported by the click route, never by the fast start.
SLOW_TO_IMPORT = ("click", "logging", "jsonschema", "difflib", "reconciler.plan.operations")


@pytest.mark.parametrize(
    "argv", [["--version"], ["validate", "snapshots/storefront-shop.yaml"], ["validate"]]
)
def test_the_fast_start_imports_neither_click_nor_logging(argv: list[str]) -> None:
    assert imported_by("reconciler.__main__", argv, SLOW_TO_IMPORT) == "0 []"


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
    """`output.echo` writes ASCII text itself (click is not imported on the fast start):
    the same bytes as click.echo, which strips escape codes when not on a terminal."""
    from reconciler.core.output import echo

    capsysbinary.readouterr()
    echo(text, err=err, nl=nl)
    ours = capsysbinary.readouterr()
    click.echo(text, err=err, nl=nl)
    assert ours == capsysbinary.readouterr()


def test_echo_on_a_stream_that_cannot_encode_the_text_is_clicks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """click re-wraps an ASCII-configured stdout; text that is not ASCII must reach it."""
    import io

    from reconciler.core.output import echo

    def written(write: Callable[[str], None], text: str) -> bytes:
        buffer = io.BytesIO()
        stream = io.TextIOWrapper(buffer, encoding="ascii")
        monkeypatch.setattr(sys, "stdout", stream)
        write(text)
        stream.flush()
        return buffer.getvalue()

    for text in ("café ✓", "plain"):
        assert written(echo, text) == written(click.echo, text)


def test_usage_errors_are_reported_as_click_reports_them(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = outcome(entry.main, ["validate", "--format", "xml"], capsys)
    assert (code, out) == (1, "")
    assert err.startswith("Usage: reconciler validate [OPTIONS] [PATHS]...\n")
    assert "Error: Invalid value for '--format': 'xml' is not one of" in err
