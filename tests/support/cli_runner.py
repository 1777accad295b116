"""`reconciler ...` run in-process (exit code, stdout, stderr), and the paths of the test corpus."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.cli.main import main

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "desired" / "corpus"


class Run:
    """`reconciler ...` in-process: exit code, stdout, stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err


def imported_by(entry: str, argv: Sequence[str], watched: Sequence[str]) -> str:
    """`rc [loaded...]`: the exit code of `entry.main(argv)` run in a fresh interpreter in
    the repository, and which of the `watched` modules it imported."""
    code = (
        f"import sys; from {entry} import main; rc = main(sys.argv[1:]);"
        f" loaded = sorted(m for m in {tuple(watched)!r} if m in sys.modules);"
        " print(rc, loaded)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    lines = result.stdout.splitlines()
    return lines[-1] if lines else result.stdout + result.stderr
