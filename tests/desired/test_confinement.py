"""Files stay in the repository: no walk out through a link, only regular files, bounded reads.

The repository is the folder of the reconciler.yaml in use, else the working directory.
The hostile cases run `reconciler validate` as a real process: a hang would be killed by
the subprocess timeout (a guard, not a timing assertion) and fail the test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reconciler.core import files
from reconciler.core.model import Problem
from reconciler.desired import load as desired
from support.processes import clean_env, reconciler

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
GOOD = f"application_id: {APP}\nviews:\n  /a: []\n"
#: Far above what these cases take (well under 1 s each); only a hang reaches it.
HANG_GUARD_S = 30


def validate_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return reconciler(["validate", *args], cwd, clean_env(), timeout=HANG_GUARD_S)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "app.yaml").write_text(GOOD)
    return tmp_path


def test_a_link_to_the_root_of_the_filesystem_is_one_error_not_a_walk(repo: Path) -> None:
    os.symlink("/", repo / "snapshots" / "root")
    result = validate_process(repo)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout == (
        "snapshots/root:1:1: symbolic link leads outside the repository (to /): not followed\n"
    )


def test_a_fifo_is_one_error_not_a_hang(repo: Path) -> None:
    os.mkfifo(repo / "snapshots" / "pipe.yaml")
    result = validate_process(repo)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout == (
        "snapshots/pipe.yaml:1:1: cannot read file: it is a FIFO, not a regular file\n"
    )


def test_a_link_to_dev_stdin_is_one_error_not_a_hang(repo: Path) -> None:
    os.symlink("/dev/stdin", repo / "snapshots" / "stdin.yaml")
    result = validate_process(repo)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.startswith(
        "snapshots/stdin.yaml:1:1: symbolic link leads outside the repository (to /"
    )
    assert len(result.stdout.splitlines()) == 1


def test_a_fifo_given_by_name_is_refused(repo: Path) -> None:
    """Explicit paths are read the same careful way (pre-commit passes file names)."""
    os.mkfifo(repo / "pipe.yaml")
    result = validate_process(repo, "pipe.yaml")
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout == "pipe.yaml:1:1: cannot read file: it is a FIFO, not a regular file\n"


def test_the_snapshots_folder_itself_may_not_be_a_link_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("password: hunter2\n")
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(outside, work / "snapshots")
    result = validate_process(work)
    assert result.returncode == 1
    assert result.stdout == (
        f"snapshots:1:1: symbolic link leads outside the repository (to {outside}): not followed\n"
    )
    assert "hunter2" not in result.stdout + result.stderr


def test_a_file_link_out_of_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path.parent / f"{tmp_path.name}-secret.yaml"
    secret.write_text("password: hunter2\n")
    os.symlink(secret, repo / "snapshots" / "leak.yaml")
    result = validate_process(repo)
    assert result.stdout == (
        f"snapshots/leak.yaml:1:1: symbolic link leads outside the repository (to {secret}):"
        " not followed\n"
    )


def test_links_inside_the_repository_are_followed_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = repo / "shared"
    shared.mkdir()
    (shared / "other.yaml").write_text(GOOD.replace("/a", "/b"))
    os.symlink("../shared", repo / "snapshots" / "shared")
    os.symlink("..", repo / "snapshots" / "up")  # a loop: entered once
    os.symlink("app.yaml", repo / "snapshots" / "same.yaml")  # the same file: read once
    monkeypatch.chdir(repo)
    report = desired.load_report(["snapshots"])
    assert report.problems == []
    assert report.files == 2
    assert [view.scope.view_name for view in report.state.views] == ["/a", "/b"]


def test_a_folder_given_outside_the_repository_is_confined_to_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "app.yaml").write_text(GOOD)
    os.symlink("/", elsewhere / "root")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    report = desired.load_report([str(elsewhere)])
    assert report.files == 1
    assert report.problems == [
        Problem(
            str(elsewhere / "root"),
            1,
            1,
            "symbolic link leads outside the repository (to /): not followed",
        )
    ]


def test_total_bytes_read_are_bounded(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("b.yaml", "c.yaml"):
        (repo / "snapshots" / name).write_text(GOOD.replace("/a", f"/{name}"))
    limit = len(GOOD) + 10
    monkeypatch.setattr(files, "MAX_TOTAL_BYTES", limit)
    monkeypatch.chdir(repo)
    report = desired.load_report(["snapshots"])
    assert report.problems == [
        Problem(
            "snapshots/b.yaml",
            1,
            1,
            f"not read, nor any file after it: the snapshot files exceed {limit} bytes in total",
        )
    ]
    assert [view.scope.view_name for view in report.state.views] == ["/a"]


def test_the_default_bound_is_stated() -> None:
    assert files.MAX_TOTAL_BYTES == 200 * 1024 * 1024
