"""Whole-process timing of `reconciler validate` on generated snapshot files.

Usage: python bench/validate.py [N ...] [--runs R] [--per-file P] [--invalid] [--ratios]
                                [--shortcut]
Prints the median wall time per N (default N: 1000 and 10000). Acceptance: 1,000
snapshots under 1 s, 10,000 under 4 s.

With --shortcut, instead, what the schema shortcut (`reconciler.core.schemas.shortcut`, which
vouches for valid files so that jsonschema need not judge them) saves of the wall time a user
waits for: validate of one small file (the pre-commit case) and of 10,000 snapshots in 100
files, each with the shortcut and with jsonschema judging every file, in interleaved runs.

With --ratios, instead, each ratio against a floor measured in the same interleaved run (CPU
time of whole processes, medians): validate of 10,000 snapshots against a script that only
runs libyaml's event parser over the same files; `reconciler --version` and validate of one
small file against `python -c pass`, next to the import of the parser alone (a part of every
validate); and the peak memory of validate for 100,000 snapshots in one file. The load
average is printed before and after. Run it with the interpreter of the install to measure
(`VENV/bin/python bench/validate.py --ratios`): its `reconciler` command is the one timed.
The measured processes may cache bytecode (PYTHONDONTWRITEBYTECODE is dropped for them), as
an installed command does; the first, untimed run of each writes the caches.
"""

from __future__ import annotations

import argparse
import os
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


def entry_lines(number: int, name: str) -> list[str]:
    """Snapshot `number`'s four required fields, after its view's key every 10 snapshots."""
    view = [f"  /view-{number // 10}:"] if number % 10 == 0 else []
    return [
        *view,
        f"    - snapshot_name: {name}",
        f"      device_type: {DEVICES[number % 3]}",
        f"      event_id: {uuid.uuid4()}",
        f"      start: {number * 137}",
    ]


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
            lines += entry_lines(number, f"Snapshot {number}, a realistic name")
            lines += [
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
            result = subprocess.run(
                command, capture_output=True, text=True, check=False, env=child_environment()
            )
            times.append(time.perf_counter() - started)
            if result.returncode != int(invalid):
                raise SystemExit(f"validate failed:\n{result.stdout}{result.stderr}")
        return statistics.median(times)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


#: The floor of validate: libyaml's event parser over every file, nothing else.
EVENT_FLOOR = """
import sys, pathlib, _ruamel_yaml
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.yaml")):
    parser = _ruamel_yaml.CParser(path.read_bytes())
    while parser.get_event() is not None:
        pass
"""


#: The parser's own import (the C extension pulls in most of ruamel.yaml): a part of every
#: validate that no change of ours can remove, printed next to the start-up ratios.
PARSER_IMPORT = "import _ruamel_yaml"


def child_environment() -> dict[str, str]:
    """The environment of the measured processes: bytecode may be cached, as it is for an
    installed command (pip compiles it); without that, every run would compile our sources."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def cpu_of(command: list[str]) -> tuple[float, float]:
    """(CPU seconds, peak MB) of one whole process, read with os.wait4."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_environment()
    )
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {command}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median CPU seconds of each command, the commands taking turns run after run (after
    one untimed run of each, which also writes the bytecode caches)."""
    for command in commands.values():
        cpu_of(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(cpu_of(command)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def one_file(folder: Path, total: int) -> Path:
    """`total` snapshots in one file (four fields each, to stay under the 20 MB limit)."""
    lines = [f"application_id: {uuid.UUID(int=1)}", "views:"]
    for number in range(total):
        lines += entry_lines(number, f"Snapshot {number}")
    path = folder / "one.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


#: `python -m reconciler`, with the schema shortcut as is or, given "off" first, vouching for
#: nothing (jsonschema then judges every file).
WITH_SHORTCUT = """
import runpy, sys
if sys.argv.pop(1) == "off":
    from reconciler.core import schemas
    schemas.shortcut = lambda name, part=(): lambda value: False
runpy.run_module("reconciler", run_name="__main__", alter_sys=True)
"""


def wall_of(command: list[str], cwd: Path) -> float:
    """Wall seconds of one whole process, which must succeed."""
    started = time.perf_counter()
    result = subprocess.run(
        command, capture_output=True, check=False, cwd=cwd, env=child_environment()
    )
    if result.returncode != 0:
        raise SystemExit(f"failed: {command}\n{result.stdout!r}{result.stderr!r}")
    return time.perf_counter() - started


def shortcut(runs: int) -> None:
    print(f"{sys.executable}; {runs} interleaved runs, median wall times; {load()}")
    folder = Path(tempfile.mkdtemp(prefix="bench-validate-shortcut-"))
    try:
        (folder / "small").mkdir()
        write_files(folder / "small", 10, 10)
        (folder / "many").mkdir()
        write_files(folder / "many", 10_000, 100)
        cases = {
            (files, state): [sys.executable, "-c", WITH_SHORTCUT, state, "validate", files]
            for files in ("small", "many")
            for state in ("on", "off")
        }
        for command in cases.values():  # untimed: writes the bytecode caches
            wall_of(command, folder)
        times: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
        for _ in range(runs):
            for case, command in cases.items():
                times[case].append(wall_of(command, folder))
        for files, label in (
            ("small", "one small file"),
            ("many", "10,000 snapshots in 100 files"),
        ):
            on, off = (statistics.median(times[files, state]) for state in ("on", "off"))
            print(
                f"validate of {label}: {on:.3f} s with the shortcut, {off:.3f} s with"
                f" jsonschema judging every file; the shortcut saves {1 - on / off:.0%}"
            )
        print(f"at the end: {load()}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def ratios(runs: int) -> None:
    reconciler = reconciler_command()
    print(f"{' '.join(reconciler)}; {runs} interleaved runs, medians; {load()}")
    folder = Path(tempfile.mkdtemp(prefix="bench-validate-ratios-"))
    try:
        many = folder / "many"
        many.mkdir()
        write_files(many, 10_000, 100)
        parse = interleaved(
            {
                "floor": [sys.executable, "-c", EVENT_FLOOR, str(many)],
                "validate": [*reconciler, "validate", str(many)],
            },
            runs,
        )
        print(
            f"validate 10,000 snapshots in 100 files: {parse['validate']:.3f} s CPU;"
            f" event-parser floor {parse['floor']:.3f} s;"
            f" ratio {parse['validate'] / parse['floor']:.2f} (goal 1.3)"
        )
        small = folder / "small"
        small.mkdir()
        write_files(small, 10, 10)
        start = interleaved(
            {
                "pass": [sys.executable, "-c", "pass"],
                "version": [*reconciler, "--version"],
                "validate": [*reconciler, "validate", str(small)],
                "parser": [sys.executable, "-c", PARSER_IMPORT],
            },
            runs,
        )
        for name in ("version", "validate", "parser"):
            label = {
                "version": "--version",
                "validate": "validate of one small file",
                "parser": f"(reference) python -c {PARSER_IMPORT!r}",
            }[name]
            goal = " (goal 3)" if name != "parser" else ""
            print(
                f"{label}: {start[name]:.3f} s CPU; python -c pass {start['pass']:.3f} s;"
                f" ratio {start[name] / start['pass']:.2f}{goal}"
            )
        huge = one_file(folder, 100_000)
        _, peak = cpu_of([*reconciler, "validate", str(huge)])
        print(f"validate 100,000 snapshots in one file: peak {peak:.0f} MB (goal 150)")
        print(f"at the end: {load()}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--invalid", action="store_true", help="one mistake in every file")
    parser.add_argument("--ratios", action="store_true", help="ratios against their floors")
    parser.add_argument(
        "--shortcut", action="store_true", help="the wall time the schema shortcut saves"
    )
    args = parser.parse_args()
    if args.ratios:
        ratios(args.runs)
        return 0
    if args.shortcut:
        shortcut(args.runs)
        return 0
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
