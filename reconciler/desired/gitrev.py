"""The git commit the working directory is at, read from `.git` without running git.

Recorded in saved plans so that applying a plan at another commit can say so. Anything
unexpected (no repository, a detached worktree we cannot follow, a huge or odd file) gives
None: the commit is information, never a reason to fail.
"""

from __future__ import annotations

import re
from pathlib import Path

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_MAX_READ = 64 * 1024  # HEAD, a ref or a gitdir pointer is tiny; packed-refs may not be
_MAX_PACKED = 16 * 1024 * 1024
_MAX_DEPTH = 5  # symbolic refs pointing at symbolic refs


def head_commit(start: Path | None = None) -> str | None:
    """The commit HEAD names in the repository holding `start` (default: the cwd)."""
    try:
        git_dir = _find_git_dir((start or Path.cwd()).resolve())
        if git_dir is None:
            return None
        common = _common_dir(git_dir)
        head = _read(git_dir / "HEAD", _MAX_READ)
        for _ in range(_MAX_DEPTH):
            if head is None:
                return None
            text = head.strip()
            if _SHA.fullmatch(text):
                return text
            if not text.startswith("ref: "):
                return None
            head = _resolve_ref(git_dir, common, text[5:].strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return None


def _find_git_dir(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = _read(dot_git, _MAX_READ) or ""
            if not text.startswith("gitdir: "):
                return None
            target = Path(text[8:].strip())
            return target if target.is_absolute() else (candidate / target).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    """Where refs live: a worktree's gitdir names it in `commondir`."""
    pointer = _read(git_dir / "commondir", _MAX_READ)
    if pointer is None:
        return git_dir
    path = Path(pointer.strip())
    return path if path.is_absolute() else (git_dir / path).resolve()


def _resolve_ref(git_dir: Path, common: Path, ref: str) -> str | None:
    if not ref.startswith("refs/") or ".." in ref.split("/"):
        return None
    for base in (git_dir, common):
        loose = _read(base / ref, _MAX_READ)
        if loose is not None:
            return loose
    packed = _read(common / "packed-refs", _MAX_PACKED) or ""
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name.strip() == ref and _SHA.fullmatch(sha):
            return sha
    return None


def _read(path: Path, limit: int) -> str | None:
    if not path.is_file():
        return None
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        return None
    return data.decode("utf-8")
