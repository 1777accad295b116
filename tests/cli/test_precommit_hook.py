"""The pre-commit hook for real: `pre-commit try-repo <this repo> reconciler-validate`.

pre-commit pip-installs this project (from a clone of its HEAD plus working-tree changes)
into its own environment, so this needs PyPI or a warm pip cache; it takes ~20-60 s the first
time (PRE_COMMIT_HOME is per test run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli_runner import REPO

GOOD = """\
application_id: 6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21
views:
  /home:
    - snapshot_name: Home
      device_type: desktop
      event_id: ev-1
      start: 1500
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.package
def test_pre_commit_hook_fails_on_bad_file_and_passes_on_good(tmp_path: Path) -> None:
    pre_commit = Path(sys.executable).with_name("pre-commit")
    if not pre_commit.exists() or shutil.which("git") is None:
        pytest.fail("pre-commit (dev extra) and git are required")
    repo = tmp_path / "repo"
    (repo / "snapshots").mkdir(parents=True)
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    bad = GOOD.replace("start: 1500", "start: soon")
    (repo / "snapshots" / "app.yaml").write_text(bad)
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("VIRTUAL_ENV", None)
    command = [str(pre_commit), "try-repo", str(REPO), "reconciler-validate", "--all-files"]

    failed = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "snapshots/app.yaml:7:14: 'start' must be an integer, got 'soon'" in failed.stdout

    (repo / "snapshots" / "app.yaml").write_text(GOOD)
    _git(repo, "add", ".")
    passed = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
