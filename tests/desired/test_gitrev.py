"""The commit the working directory is at, read from `.git` without running git: loose and
packed refs, worktrees, detached heads; anything odd or hostile gives None, never an error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reconciler.desired.gitrev import head_commit

SHA = "a" * 40
LOOSE = "b" * 40


def git_folder(root: Path, head: str = "ref: refs/heads/main\n") -> Path:
    """A `.git` folder at `root` whose HEAD says `head`."""
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head)
    return git


def test_a_branch_is_read_from_its_loose_ref_before_packed_refs(tmp_path: Path) -> None:
    git = git_folder(tmp_path)
    (git / "packed-refs").write_text(
        f"# pack-refs with: peeled fully-peeled sorted\n{SHA} refs/heads/main\n^{'c' * 40}\n"
    )
    assert head_commit(tmp_path) == SHA
    (git / "refs" / "heads" / "main").write_text(LOOSE + "\n")
    assert head_commit(tmp_path) == LOOSE


def test_a_detached_head_names_its_commit_in_sha1_or_sha256(tmp_path: Path) -> None:
    git = git_folder(tmp_path, SHA + "\n")
    assert head_commit(tmp_path) == SHA
    (git / "HEAD").write_text("c" * 64)
    assert head_commit(tmp_path) == "c" * 64


def test_the_repository_is_found_from_any_folder_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_folder(tmp_path, SHA)
    deep = tmp_path / "snapshots" / "team"
    deep.mkdir(parents=True)
    assert head_commit(deep) == SHA
    monkeypatch.chdir(deep)
    assert head_commit() == SHA  # the cwd by default


@pytest.mark.parametrize("relative", [True, False])
def test_a_worktree_reads_its_head_and_the_shared_refs(tmp_path: Path, relative: bool) -> None:
    common = tmp_path / "main.git"
    (common / "refs" / "heads").mkdir(parents=True)
    (common / "refs" / "heads" / "feature").write_text(LOOSE)
    gitdir = common / "worktrees" / "wt"
    gitdir.mkdir(parents=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/feature\n")
    (gitdir / "commondir").write_text("../..\n" if relative else f"{common}\n")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    pointer = os.path.relpath(gitdir, checkout) if relative else str(gitdir)
    (checkout / ".git").write_text(f"gitdir: {pointer}\n")
    assert head_commit(checkout) == LOOSE


def test_a_worktree_s_own_refs_come_before_the_shared_ones(tmp_path: Path) -> None:
    common = tmp_path / "main.git"
    gitdir = common / "worktrees" / "wt"
    (gitdir / "refs" / "bisect").mkdir(parents=True)
    (common / "refs" / "bisect").mkdir(parents=True)
    (gitdir / "refs" / "bisect" / "bad").write_text(SHA)  # this worktree's bisection
    (common / "refs" / "bisect" / "bad").write_text(LOOSE)
    (gitdir / "HEAD").write_text("ref: refs/bisect/bad\n")
    (gitdir / "commondir").write_text("../..\n")
    (tmp_path / ".git").write_text(f"gitdir: {gitdir}\n")
    assert head_commit(tmp_path) == SHA


def test_a_symbolic_ref_to_a_symbolic_ref_is_followed(tmp_path: Path) -> None:
    git = git_folder(tmp_path)
    (git / "refs" / "heads" / "main").write_text("ref: refs/heads/real\n")
    (git / "refs" / "heads" / "real").write_text(SHA)
    assert head_commit(tmp_path) == SHA


def test_the_commit_of_a_real_repository_is_what_git_says(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
        done = subprocess.run(
            ["git", *identity, *args], cwd=tmp_path, env=env, capture_output=True, check=True
        )
        return done.stdout.decode().strip()

    git("init", "-q", "-b", "main")
    (tmp_path / "a.yaml").write_text("x")
    git("add", "a.yaml")
    git("commit", "-q", "-m", "one")
    assert head_commit(tmp_path) == git("rev-parse", "HEAD")
    git("pack-refs", "--all")  # the branch now lives in packed-refs only
    assert not (tmp_path / ".git" / "refs" / "heads" / "main").exists()
    assert head_commit(tmp_path) == git("rev-parse", "HEAD")
    git("checkout", "-q", "--detach")
    assert head_commit(tmp_path) == git("rev-parse", "HEAD")


@pytest.mark.parametrize(
    "head",
    [
        "ref: refs/heads/missing\n",  # an unborn branch
        "ref: refs/../../outside\n",  # a ref that climbs out of the repository
        "ref: heads/main\n",  # not under refs/
        "ref: /etc/hostname\n",
        "A" * 40,  # not lower-case hex
        "a" * 39,
        "nonsense\n",
        "",
    ],
)
def test_an_unusable_head_is_no_commit(tmp_path: Path, head: str) -> None:
    git = git_folder(tmp_path, head)
    (tmp_path / "outside").write_text(SHA)
    (git / "heads").mkdir()
    (git / "heads" / "main").write_text(SHA)
    assert head_commit(tmp_path) is None


def test_a_loop_of_symbolic_refs_ends_with_no_commit(tmp_path: Path) -> None:
    git = git_folder(tmp_path)
    (git / "refs" / "heads" / "main").write_text("ref: refs/heads/other\n")
    (git / "refs" / "heads" / "other").write_text("ref: refs/heads/main\n")
    assert head_commit(tmp_path) is None


def test_huge_undecodable_or_special_files_are_no_commit(tmp_path: Path) -> None:
    git = git_folder(tmp_path)
    ref = git / "refs" / "heads" / "main"
    ref.write_text(SHA + "\n" + " " * 70_000)  # a ref is tiny: this is not one
    assert head_commit(tmp_path) is None
    ref.write_bytes(b"\xff\xfe" + SHA.encode())
    assert head_commit(tmp_path) is None
    ref.unlink()
    os.mkfifo(ref)  # never opened: it is not a regular file
    assert head_commit(tmp_path) is None


def test_a_git_file_that_is_not_a_worktree_pointer_is_no_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("something else\n")
    assert head_commit(tmp_path) is None


def test_git_itself_is_never_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git_folder(tmp_path, SHA)
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-folder"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    assert head_commit(tmp_path) == SHA
