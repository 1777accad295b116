"""Shared helpers of the desired-state tests (a uniquely named module, importable from tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REPO = HERE.parent.parent


class Run:
    """`reconciler ...` in-process: exit code, stdout, stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err
