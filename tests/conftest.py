"""Fixtures shared by every test: a clean environment, the in-process CLI runner, a fake
clock and a repository with an in-process emulator."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorSettings
from support.cli_runner import Run
from support.clock import FakeClock
from support.workspace import Workspace, enter_repository

_ENV_TO_CLEAR = (
    "DD_SITE",
    "RECONCILER_API_URL",
    "RECONCILER_SNAPSHOTS",
    "RECONCILER_PRUNE",
    "RECONCILER_PAGE_LIMIT",
    "RECONCILER_SERVER_PAGE_CAP",
    "RECONCILER_PARALLELISM",
    "NO_COLOR",
    "RECONCILER_ALLOWED_HOSTS",
    "GITHUB_SHA",  # the markdown comment names it when the plan records no commit
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the target or settings of the shell that started pytest."""
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """A command run in-process with -v configures the `reconciler` logger; undo it, so that
    the next test's output does not depend on the order tests run in."""
    logger = logging.getLogger("reconciler")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture
def ws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Workspace:
    """A repository folder (the cwd) with keys in the environment and an in-process emulator."""
    enter_repository(tmp_path, monkeypatch, _ENV_TO_CLEAR)
    return Workspace(tmp_path, capsys, EmulatorSettings())
