"""Whole-process timing of `reconciler validate` on generated snapshot files.

Usage: python bench/validate.py [N ...] [--runs R] [--per-file P] [--invalid]
Prints the median wall time per N (default N: 1000 and 10000). Acceptance: 1,000
snapshots under 1 s, 10,000 under 4 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

DEVICES = ("desktop", "mobile", "tablet")
LIMITS = {1000: 1.0, 10000: 4.0}


def write_files(folder: Path, total: int, per_file: int, invalid: bool = False) -> None:
    """`total` snapshots in files of `per_file`, 10 snapshots per view; with `invalid`, one
    mistake per file (the slow path: jsonschema runs on every file)."""
    for index in range(0, total, per_file):
        count = min(per_file, total - index)
        lines = [
            "# yaml-language-server: $schema=../schemas/snapshots.schema.json",
            f"application_id: {uuid.UUID(int=index // per_file + 1)}",
            "views:",
        ]
        for number in range(count):
            if number % 10 == 0:
                lines.append(f"  /view-{number // 10}:")
            lines += [
                f"    - snapshot_name: Snapshot {number}, a realistic name",
                f"      device_type: {DEVICES[number % 3]}",
                f"      event_id: {uuid.uuid4()}",
                f"      start: {number * 137}",
                "      is_device_type_selected_by_user: false",
                f"      session_id: {uuid.uuid4()}",
            ]
        if invalid:
            lines[-3] = "      start: -1"
        (folder / f"app-{index // per_file:04d}.yaml").write_text("\n".join(lines) + "\n")


def reconciler_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m reconciler`."""
    script = Path(sys.executable).with_name("reconciler")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


def measure(total: int, runs: int, per_file: int, invalid: bool) -> float:
    folder = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    try:
        write_files(folder, total, per_file, invalid)
        command = [*reconciler_command(), "validate", str(folder)]
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - started)
            if result.returncode != int(invalid):
                raise SystemExit(f"validate failed:\n{result.stdout}{result.stderr}")
        return statistics.median(times)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--invalid", action="store_true", help="one mistake in every file")
    args = parser.parse_args()
    failed = False
    for total in args.sizes:
        median = measure(total, args.runs, args.per_file, args.invalid)
        limit = LIMITS.get(total)
        verdict = "" if limit is None else (" ok" if median < limit else f" OVER {limit} s")
        failed |= limit is not None and median >= limit
        kind = "invalid " if args.invalid else ""
        print(
            f"validate {total:>7,} {kind}snapshots: median {median:.3f} s"
            f" of {args.runs} runs{verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
