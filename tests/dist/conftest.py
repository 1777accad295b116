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
