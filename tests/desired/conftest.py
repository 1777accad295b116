"""Fixtures for the desired-state tests: a clean environment and an in-process CLI runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules here import desired_support; make it importable before they are collected.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from desired_support import Run

_ENV = (
    "DD_SITE",
    "RECONCILER_API_URL",
    "RECONCILER_SNAPSHOTS",
    "RECONCILER_PRUNE",
    "RECONCILER_PAGE_LIMIT",
    "RECONCILER_PARALLELISM",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys)
