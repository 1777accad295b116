"""`plan --base REF`: the views the snapshot files managed at a git ref, loaded by the same
loader as today's files, shown at today's paths; anything that is not a commit is one clear
error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reconciler.core.model import ManagedView, SourcePosition, ViewScope
from reconciler.desired import baseref
from reconciler.desired.baseref import BaseRefError, managed_at
from support.factories import APP, APP2

GIT = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
GIT += ["-c", "commit.gpgsign=false"]


def git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True, timeout=30)


def snapshots_file(views: dict[str, list[object]], app: str = APP) -> str:
    return json.dumps({"application_id": app, "views": views}, indent=2) + "\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository (the cwd) whose commit tagged `base` holds two snapshot files."""
    git(tmp_path, "init", "-q")
    (tmp_path / "snapshots" / "team").mkdir(parents=True)
    (tmp_path / "snapshots" / "a.yaml").write_text(snapshots_file({"/checkout": [], "/home": []}))
    (tmp_path / "snapshots" / "team" / "b.yml").write_text(snapshots_file({"/blog": []}, APP2))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "tag", "base")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def view(app: str, name: str, path: str, line: int) -> ManagedView:
    return ManagedView(ViewScope(app, name), SourcePosition(path, line, 5))


def test_the_views_managed_at_the_ref_are_named_at_todays_paths(repo: Path) -> None:
    (repo / "snapshots" / "a.yaml").write_text(snapshots_file({"/now": []}))  # not committed
    (repo / "snapshots" / "team" / "b.yml").unlink()
    assert sorted(managed_at("base", "snapshots"), key=lambda v: v.scope) == [
        view(APP2, "/blog", "snapshots/team/b.yml", 4),
        view(APP, "/checkout", "snapshots/a.yaml", 4),
        view(APP, "/home", "snapshots/a.yaml", 5),
    ]


def test_the_paths_are_shown_relative_to_the_cwd(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "snapshots" / "team")
    paths = {v.position.path for v in managed_at("base", str(repo / "snapshots"))}
    assert paths == {"../a.yaml", "b.yml"}


def test_only_the_snapshots_folder_counts_and_only_its_snapshot_files(repo: Path) -> None:
    (repo / "other").mkdir()
    (repo / "other" / "c.yaml").write_text(snapshots_file({"/elsewhere": []}))
    (repo / "snapshots" / "reconciler.yaml").write_text(snapshots_file({"/config": []}))
    (repo / "snapshots" / "notes.txt").write_text(snapshots_file({"/text": []}))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    scopes = {v.scope.view_name for v in managed_at("HEAD", "snapshots/team")}
    assert scopes == {"/blog"}
    assert {v.scope.view_name for v in managed_at("HEAD", "snapshots")} == {
        "/checkout",
        "/home",
        "/blog",
    }


def test_a_file_invalid_at_the_ref_manages_nothing(repo: Path) -> None:
    (repo / "snapshots" / "team" / "b.yml").write_text("application_id: [\n")
    (repo / "snapshots" / "c.yaml").write_text(snapshots_file({"/bad": []}, "not-a-uuid"))
    git(repo, "commit", "-qam", "broken")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more broken")
    assert {v.scope.view_name for v in managed_at("HEAD", "snapshots")} == {"/checkout", "/home"}


def test_a_blob_over_the_limit_is_skipped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blog = len(snapshots_file({"/blog": []}, APP2))  # the smaller of the two files
    monkeypatch.setattr(baseref, "MAX_BLOB_BYTES", blog)
    assert [v.scope.view_name for v in managed_at("base", "snapshots")] == ["/blog"]
    monkeypatch.setattr(baseref, "MAX_BLOB_BYTES", blog - 1)
    assert managed_at("base", "snapshots") == ()


def test_a_ref_without_snapshot_files_manages_nothing(repo: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "empty")
    git(repo, "rm", "-rq", "--cached", ".")
    (repo / "readme").write_text("x")
    git(repo, "add", "readme")
    git(repo, "commit", "-q", "-m", "nothing")
    assert managed_at("empty", "snapshots") == ()


def test_aliased_files_manage_views_only_in_an_environment_that_resolves_them(
    repo: Path,
) -> None:
    aliased = {"application": "shop", "views": {"/shop": []}}
    limited = {"application_id": APP2, "environments": ["prod"], "views": {"/prod-only": []}}
    (repo / "snapshots" / "shop.yaml").write_text(json.dumps(aliased))
    (repo / "snapshots" / "prod.yaml").write_text(json.dumps(limited))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "environments")
    plain = {v.scope.view_name for v in managed_at("HEAD", "snapshots")}
    assert plain == {"/checkout", "/home", "/blog"}
    staging = managed_at("HEAD", "snapshots", "staging", {"shop": APP2})
    assert {(v.scope.application_id, v.scope.view_name) for v in staging} == {
        (APP, "/checkout"),
        (APP, "/home"),
        (APP2, "/blog"),
        (APP2, "/shop"),  # the alias resolved; the file limited to prod left out
    }
    prod = managed_at("HEAD", "snapshots", "prod", {})  # no id for the alias there
    assert {v.scope.view_name for v in prod} == {"/checkout", "/home", "/blog", "/prod-only"}


@pytest.mark.parametrize("ref", ["", "-p", "--output=/tmp/x", "main\nHEAD", "a\rb", "a\0b"])
def test_what_cannot_be_a_revision_is_refused_before_git_runs(repo: Path, ref: str) -> None:
    with pytest.raises(BaseRefError) as raised:
        managed_at(ref, "snapshots")
    assert str(raised.value) == f"--base {ref!r}: not a git revision"


@pytest.mark.parametrize("ref", ["no-such-ref", "base^{tree}", "base:snapshots/a.yaml", "HEAD~5"])
def test_a_ref_that_is_not_a_commit_is_one_clear_error(repo: Path, ref: str) -> None:
    with pytest.raises(BaseRefError) as raised:
        managed_at(ref, "snapshots")
    assert str(raised.value) == (
        f"--base {ref!r}: not a commit in the git repository at {repo.resolve()} (fetch it "
        "first, e.g. `git fetch origin main`)"
    )


def test_the_snapshots_folder_must_exist_in_a_work_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BaseRefError) as raised:
        managed_at("HEAD", "snapshots")
    assert str(raised.value) == "--base: the snapshots folder snapshots does not exist"
    (tmp_path / "snapshots").mkdir()
    with pytest.raises(BaseRefError) as raised:
        managed_at("HEAD", "snapshots")
    assert str(raised.value) == "--base: snapshots is not inside a git work tree"


def test_without_git_the_error_says_so(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-such-folder"))
    with pytest.raises(BaseRefError) as raised:
        managed_at("base", "snapshots")
    assert str(raised.value) == "--base needs git, and git was not found"
