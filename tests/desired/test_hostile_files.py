"""Hostile input: never a crash, a hang or a traceback; always a path:line:col message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.core import yamlload
from reconciler.core.model import Problem
from reconciler.desired import load as desired
from support.cli_runner import REPO, Run, imported_by
from support.yaml_parser import c_parser_in_use

GOOD_APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(path: Path) -> list[str]:
    _, problems = desired.load_desired([path.name])
    return [str(problem) for problem in problems]


def test_deep_flow_nesting_is_refused_not_crashing(cwd: Path) -> None:
    # libyaml's composer recurses in C: 200,000 levels would overflow the C stack.
    (cwd / "deep.yaml").write_text("[" * 200_000 + "]" * 200_000)
    assert check(cwd / "deep.yaml") == ["deep.yaml:1:101: nesting is deeper than 100 levels"]


def test_deep_block_nesting(cwd: Path) -> None:
    text = "".join(" " * level + f"k{level}:\n" for level in range(150))
    (cwd / "deep.yaml").write_text(text)
    assert "deep.yaml:101:101: nesting is deeper than 100 levels" in check(cwd / "deep.yaml")


def test_deep_nesting_in_a_child_process_exits_cleanly(cwd: Path) -> None:
    """A segfault would not be caught in-process; prove it in a real process."""
    (cwd / "deep.yaml").write_text("{a: " * 100_000 + "}" * 100_000)
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "deep.yaml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == "deep.yaml:1:401: nesting is deeper than 100 levels\n"
    assert "Traceback" not in result.stderr


def test_alias_bomb_is_bounded(cwd: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 30)]
    (cwd / "bomb.yaml").write_text("\n".join(lines) + "\n")
    found = check(cwd / "bomb.yaml")  # expanded, 10**30 nodes: only the budget ends it
    assert "bomb.yaml:4:5: aliases expand to more than 100000 nodes (alias bomb?)" in found


def test_file_over_size_limit(cwd: Path) -> None:
    with (cwd / "huge.yaml").open("wb") as stream:
        stream.truncate(yamlload.MAX_FILE_BYTES + 1)
    assert check(cwd / "huge.yaml") == ["huge.yaml:1:1: file is larger than the 20 MB limit"]


def test_symlink_loops(cwd: Path) -> None:
    (cwd / "snapshots").mkdir()
    os.symlink("loop.yaml", cwd / "snapshots" / "loop.yaml")
    os.symlink("..", cwd / "snapshots" / "up")  # a directory loop
    (cwd / "snapshots" / "ok.yaml").write_text(f"application_id: {GOOD_APP}\nviews: {{}}\n")
    _, problems = desired.load_desired(["snapshots"])
    assert problems == [
        Problem("snapshots/loop.yaml", 1, 1, "cannot read file: Too many levels of symbolic links")
    ]


def test_directory_given_as_file_and_unreadable(cwd: Path) -> None:
    (cwd / "d.yaml").mkdir()
    _, problems = desired.load_desired(["d.yaml"])
    # A directory is searched, and holds nothing: that is an error, never "OK: 0 files".
    message = f"no snapshot files (*.yaml, *.yml) in this folder: {cwd / 'd.yaml'}"
    assert problems == [Problem("d.yaml", 1, 1, message)]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a: \xff\n", "f.yaml:1:4: not valid UTF-8 (byte 0xff)"),
        (b"views: {}\x00", "f.yaml:1:10: NUL byte (0x00) is not allowed in YAML"),
        (b"a: \x1b[31m", "f.yaml:1:4: character U+001B is not allowed in YAML"),
        (b"a: b\n\xc3(", "f.yaml:2:1: not valid UTF-8 (byte 0xc3)"),
    ],
)
def test_bytes_that_are_not_text(cwd: Path, data: bytes, expected: str) -> None:
    (cwd / "f.yaml").write_bytes(data)
    assert check(cwd / "f.yaml") == [expected]


def test_huge_integers_are_range_errors(cwd: Path) -> None:
    snap = "{snapshot_name: a, device_type: desktop, event_id: e, start: %s}"
    text = f"application_id: {GOOD_APP}\nviews:\n  /a: [{snap % ('9' * 20)}]\n"
    (cwd / "f.yaml").write_text(text)
    assert check(cwd / "f.yaml") == [
        "f.yaml:3:69: 'start' must be at most 9223372036854775807, got 99999999999999999999"
    ]
    (cwd / "f.yaml").write_text(text.replace("9" * 20, "9" * 5000))
    assert check(cwd / "f.yaml") == ["f.yaml:3:69: integer has more than 100 digits"]


def test_python_tags_are_never_constructed(cwd: Path, run: Run) -> None:
    marker = cwd / "pwned"
    (cwd / "f.yaml").write_text(
        f"application_id: !!python/object/apply:os.system ['touch {marker}']\nviews: {{}}\n"
    )
    code, out, _ = run("validate", "f.yaml")
    assert code == 1
    assert out == "f.yaml:1:17: unsupported YAML tag '!!python/object/apply:os.system'\n"
    assert not marker.exists()


def test_c_parser_is_in_use() -> None:
    """ruamel.yaml 0.19 no longer pulls in ruamel.yaml.clib; without it we would be 5x slower.

    Fails when the compiled parser is missing or replaced by the pure-Python one."""
    import _ruamel_yaml  # ruamel.yaml.clib

    assert c_parser_in_use()
    assert _ruamel_yaml.__file__.endswith((".so", ".pyd"))
    assert yamlload.EVENT_PARSER is _ruamel_yaml.CParser


def test_startup_does_not_import_jsonschema_for_valid_files() -> None:
    code = (
        "import sys; from reconciler.cli.main import main; rc = main(['validate', 'snapshots']);"
        " assert rc == 0; assert 'jsonschema' not in sys.modules, 'jsonschema imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr


#: What the offline commands must not import: the HTTP stack and the diff library.
ONLINE_ONLY = ("httpx", "httpcore", "anyio", "h11", "ssl")


@pytest.mark.parametrize("entry", ["reconciler.cli.main", "reconciler.__main__"])
@pytest.mark.parametrize(
    "argv", [["--version"], ["validate", "snapshots/storefront-shop.yaml"], ["validate"]]
)
def test_offline_commands_import_no_http_stack(entry: str, argv: list[str]) -> None:
    """A fresh interpreter, the command in-process (through click, and through the fast
    start of the `reconciler` command), then a look at what was imported."""
    assert imported_by(entry, argv, ONLINE_ONLY) == "0 []"
