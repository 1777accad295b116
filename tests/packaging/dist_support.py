"""Installing the package as a new team would: into fresh virtualenvs, from this repository.

These tests create virtualenvs and let pip fetch the pinned dependencies (constraints/);
pip's cache makes the second run fast. Nothing else leaves the machine: the installed tool
only ever talks to an emulator on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_CONSTRAINTS = ROOT / "constraints" / "dev.txt"
RUNTIME_LOCK = ROOT / "constraints" / "runtime.txt"


def run(
    args: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def clean_env() -> dict[str, str]:
    """This environment without the test venv, DD_* / RECONCILER_* or PIP_CONSTRAINT."""
    drop = ("DD_", "RECONCILER_", "VIRTUAL_ENV", "PIP_CONSTRAINT", "PYTHONPATH")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    bin_dir = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir)
    return env


def fresh_venv(path: Path) -> Path:
    """A new virtualenv with pip, made from the interpreter running the tests; its bin/."""
    base = getattr(sys, "_base_executable", sys.executable)
    done = run([base, "-m", "venv", path], cwd=path.parent)
    if done.returncode != 0:  # fall back to the stdlib API (same interpreter)
        venv.create(path, with_pip=True)
    return path / "bin"


def source_tree(destination: Path) -> Path:
    """The repository's files as a clone has them (tracked and new, not ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination
