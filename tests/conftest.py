"""Fixtures shared by the engine's integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import EmulatorSettings
from support.workspace import API_KEY, APP_KEY, Workspace

_ENV_TO_CLEAR = (
    "DD_SITE",
    "RECONCILER_API_URL",
    "RECONCILER_SNAPSHOTS",
    "RECONCILER_PRUNE",
    "RECONCILER_PAGE_LIMIT",
    "RECONCILER_SERVER_PAGE_CAP",
    "RECONCILER_PARALLELISM",
    "NO_COLOR",
)


@pytest.fixture
def ws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Workspace:
    """A repository folder (the cwd) with keys in the environment and an in-process emulator."""
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "snapshots").mkdir()
    return Workspace(tmp_path, capsys, EmulatorSettings())
