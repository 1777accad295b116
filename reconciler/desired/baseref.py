"""`plan --base REF`: what the snapshot files declared at a git ref (the views they managed,
for "no longer managed"; their snapshots, for drift attribution).

The repository is the work tree holding the snapshots folder. git runs without a shell,
with a timeout, never prompting, and only read commands (`rev-parse`, `ls-tree`,
`cat-file`). The files at REF are loaded by the same loader as today's files (in a
temporary folder laid out as at REF); files that are invalid at REF are skipped: only the
views they validly declared count. A ref that is not a commit is one clear error.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import DesiredSnapshot, DesiredState, ManagedView, SourcePosition
from reconciler.desired.load import CONFIG_NAMES, SNAPSHOT_SUFFIXES, load_report
from reconciler.desired.placement import for_environment, is_placed

#: Seconds one git command may take.
GIT_TIMEOUT = 30.0
#: A blob larger than this is skipped (the loader refuses files over 20 MiB anyway).
MAX_BLOB_BYTES = 20 * 1024 * 1024


class BaseRefError(ReconcilerError):
    """`--base` cannot be read."""


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise BaseRefError("--base needs git, and git was not found") from None
    except subprocess.TimeoutExpired:
        raise BaseRefError(f"--base: git {args[0]} took more than {GIT_TIMEOUT:.0f} s") from None


@dataclass(frozen=True, slots=True)
class BaseState:
    """The snapshot files at `ref` (resolved to `commit`), placed in one environment."""

    ref: str
    commit: str
    state: DesiredState


def managed_at(
    ref: str,
    snapshots: str,
    environment: str | None = None,
    applications: Mapping[str, str] | None = None,
) -> tuple[ManagedView, ...]:
    """The managed views of the snapshot files under `snapshots` as they were at `ref`
    (see `desired_at`)."""
    return desired_at(ref, snapshots, environment, applications).state.views


def desired_at(
    ref: str,
    snapshots: str,
    environment: str | None = None,
    applications: Mapping[str, str] | None = None,
) -> BaseState:
    """The views and snapshots of the snapshot files under `snapshots` as they were at
    `ref`; positions name each file as it would be displayed today (relative to the cwd).
    In an `environment`, aliases resolve by its `applications` (a view whose alias does
    not, or whose file is limited to other environments, is not managed there), as today's
    files are placed."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
        raise BaseRefError(f"--base {ref!r}: not a git revision")
    folder = Path(snapshots).resolve()
    if not folder.is_dir():
        raise BaseRefError(f"--base: the snapshots folder {snapshots} does not exist")
    top_run = _git(folder, "rev-parse", "--show-toplevel")
    if top_run.returncode != 0:
        raise BaseRefError(f"--base: {snapshots} is not inside a git work tree")
    top = Path(top_run.stdout.decode("utf-8", "replace").strip()).resolve()
    commit_run = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit_run.returncode != 0:
        raise BaseRefError(
            f"--base {ref!r}: not a commit in the git repository at {top} "
            "(fetch it first, e.g. `git fetch origin main`)"
        )
    commit = commit_run.stdout.decode("ascii", "replace").strip()
    prefix = folder.relative_to(top).as_posix()
    listed = _git(top, "ls-tree", "-r", "-z", "--name-only", commit, "--", prefix or ".")
    if listed.returncode != 0:
        raise BaseRefError(f"--base {ref!r}: cannot list its files")
    names = [
        name
        for name in listed.stdout.decode("utf-8", "replace").split("\0")
        if name.endswith(SNAPSHOT_SUFFIXES) and PurePosixPath(name).name not in CONFIG_NAMES
    ]
    with tempfile.TemporaryDirectory(prefix="reconciler-base-") as temp:
        root = Path(temp)
        shown: dict[str, str] = {}
        for name in names:
            blob = _git(top, "cat-file", "blob", f"{commit}:{name}")
            if blob.returncode != 0 or len(blob.stdout) > MAX_BLOB_BYTES:
                continue
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
            shown[str(target)] = os.path.relpath(top / name)
        if not shown:
            return BaseState(ref, commit, DesiredState((), ()))
        report = load_report([root])
        state = report.state
        if environment is not None:
            state, _ = for_environment(state, report.placed, environment, applications or {})
        else:  # files that need an environment manage nothing without one
            state = DesiredState(
                tuple(v for v in state.views if not is_placed(v.scope.application_id)),
                tuple(s for s in state.snapshots if not is_placed(s.key.application_id)),
            )
        views = tuple(
            ManagedView(view.scope, _moved(view.position, root, shown)) for view in state.views
        )
        declared = tuple(
            DesiredSnapshot(s.key, s.fields, _moved(s.position, root, shown))
            for s in state.snapshots
        )
        return BaseState(ref, commit, DesiredState(views, declared))


def _moved(position: SourcePosition, root: Path, shown: dict[str, str]) -> SourcePosition:
    return SourcePosition(_shown(position.path, root, shown), position.line, position.col)


def _shown(path: str, root: Path, shown: dict[str, str]) -> str:
    """The file's path as today's plans show it (the loader saw it under `root`)."""
    for candidate in (path, str(Path(path).resolve()), str(root / path)):
        if candidate in shown:
            return shown[candidate]
    resolved = str(Path(path).resolve())
    for temp_path, display in shown.items():
        if str(Path(temp_path).resolve()) == resolved:
            return display
    return path
