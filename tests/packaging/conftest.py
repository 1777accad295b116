"""Tests of the ways to install and start using reconciler (README "Install", action.yml,
the Dockerfile, `reconciler init`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules here import dist_support; make it importable before they are collected.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dist_support import source_tree


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A copy of the repository as a clone has it (with uncommitted changes)."""
    return source_tree(tmp_path / "heatmap-reconciler")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here installs or builds the package (fresh virtualenvs, the action's
    install step, the image): they run under `make test-dist`, which .ci/run runs."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.package)
