"""Running `reconciler` as a real process, as users and CI do."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.workspace import API_KEY, APP_KEY

RECONCILER = [sys.executable, "-m", "reconciler"]
#: How every child here runs: text output, and no input, so that a prompt fails at once
#: instead of waiting.
CHILD: dict[str, Any] = {"stdin": subprocess.DEVNULL, "text": True}


def clean_env() -> dict[str, str]:
    """This process's environment without DD_* / RECONCILER_*."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "RECONCILER_"))}


def env_for(url: str) -> dict[str, str]:
    """`clean_env()` plus test keys and the URL."""
    return {**clean_env(), "DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY, "RECONCILER_API_URL": url}


def reconciler(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RECONCILER, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
        **CHILD,
    )


def spawn(
    args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`reconciler ARGS` started in the background, its output piped, no input (in this
    process's folder and environment unless told)."""
    return subprocess.Popen(
        [*RECONCILER, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **CHILD,
    )


def start_emulator(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`reconciler emulator --port 0 ARGS` as a process, and the URL its first line names."""
    process = spawn(["emulator", "--port", "0", *args])
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.fullmatch(r"Emulator listening on (http://127\.0\.0\.1:(\d+))\n", line)
    if match is None:
        process.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {process.communicate()[1]}")
    assert int(match.group(2)) > 0
    return process, match.group(1)


@contextmanager
def running_emulator(*args: str) -> Iterator[str]:
    """The URL of an emulator process, stopped by SIGTERM afterwards."""
    process, url = start_emulator(*args)
    try:
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """`reconciler ARGS` with a pseudo-terminal as stdout and stderr: its exit code and
    everything the terminal received, decoded strictly."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*RECONCILER, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return process.wait(timeout=60), b"".join(chunks).decode()
