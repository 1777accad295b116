"""Shared by the benches: a real emulator server process, desired-state generation, and
measuring a `reconciler` run as a whole process (wall time, CPU time, peak memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

RECONCILER = [sys.executable, "-m", "reconciler"]
KEYS = {
    "DD_API_KEY": "bench-api-key-0123456789abcdef01",
    "DD_APP_KEY": "bench-app-key-0123456789abcdef0123456789",
}


def app_id(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


@contextmanager
def emulator(*args: str) -> Iterator[str]:
    """`reconciler emulator --port 0 ARGS...` as its own process; yields its URL."""
    process = subprocess.Popen(
        [*RECONCILER, "emulator", "--port", "0", *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, url + path, json=body, timeout=120)
    response.raise_for_status()
    return response.json()


def seed(url: str, attributes: Sequence[dict[str, Any]], chunk: int = 5000) -> None:
    for start in range(0, len(attributes), chunk):
        admin(
            url,
            "POST",
            "/_emulator/snapshots?quiet=1",
            {"data": list(attributes[start : start + chunk])},
        )


def total_requests(url: str) -> int:
    return int(admin(url, "GET", "/_emulator/stats")["total_requests"])


@dataclass
class Run:
    code: int
    wall: float
    cpu: float
    peak_mb: float
    stdout: str
    stderr: str


def measure(args: Sequence[str], cwd: Path, url: str, **extra_env: str) -> Run:
    """Run `reconciler ARGS` and read its own resource usage (os.wait4: that child only)."""
    env = {**os.environ, **KEYS, "RECONCILER_API_URL": url, "NO_COLOR": "1", **extra_env}
    return measure_command([*RECONCILER, *args], cwd, env)


def measure_command(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Run:
    """Run any COMMAND (a peer tool, too) in CWD and read its own resource usage."""
    out_path, err_path = cwd / ".bench-stdout", cwd / ".bench-stderr"
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        code=process.returncode,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        stdout=out_path.read_text(),
        stderr=err_path.read_text(),
    )


def write_desired(
    root: Path, views: dict[tuple[str, str], list[dict[str, Any]]], per_file: int = 100
) -> int:
    """Write snapshot files (JSON is YAML), about `per_file` snapshots each, views never split."""
    folder = root / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, dict[str, list[dict[str, Any]]]]] = []
    current_app, current, count = "", {}, 0
    for (application, view), entries in sorted(views.items()):
        if current and (application != current_app or count >= per_file):
            files.append((current_app, current))
            current, count = {}, 0
        current_app = application
        current[view] = entries
        count += len(entries)
    if current:
        files.append((current_app, current))
    for index, (application, file_views) in enumerate(files):
        document = {"application_id": application, "views": file_views}
        (folder / f"f{index:05d}.yaml").write_text(json.dumps(document, indent=1))
    return len(files)
