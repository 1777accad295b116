"""Running `reconciler` as a real process, as users and CI do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.workspace import API_KEY, APP_KEY

RECONCILER = [sys.executable, "-m", "reconciler"]


def env_for(url: str) -> dict[str, str]:
    """This process's environment without DD_* / RECONCILER_*, plus test keys and the URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "RECONCILER_"))}
    return {**env, "DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY, "RECONCILER_API_URL": url}


def reconciler(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RECONCILER, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
