"""Running `reconciler` as a process and measuring it: wall time and peak memory (os.wait4
reads the child's own resource usage, as bench/common.py does)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from support.processes import RECONCILER

#: Hang guard: each hostile input is answered in well under a second; 5 s only catches hangs.
TIME_BOUND = 5.0
#: Memory guard: the real figures are 20-200 MB.
MEMORY_BOUND_MB = 500.0


@dataclass
class Measured:
    code: int
    stdout: str
    stderr: str
    wall: float
    peak_mb: float


def run_measured(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60) -> Measured:
    """Run `reconciler ARGS`; kill it after `timeout` s (a hang fails the time bound)."""
    out_path, err_path = cwd / ".measured-stdout", cwd / ".measured-stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*RECONCILER, *args], cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        code=process.returncode,
        stdout=out_path.read_bytes().decode("utf-8", "replace"),
        stderr=err_path.read_bytes().decode("utf-8", "replace"),
        wall=wall,
        peak_mb=usage.ru_maxrss / 1024,  # KiB on Linux
    )
