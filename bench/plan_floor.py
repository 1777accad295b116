"""Bench: `plan` CPU against its floor (issue 14, goal 2), measured in one interleaved run.

10,000 snapshots over 500 views, 1% differing (the scenario of bench/plan.py), against a
real emulator server. Each round runs, as whole processes: `reconciler validate` of the
files, bench/http_floor.py doing the same 500 GETs with raw asyncio and `json`, and
`reconciler plan`. Prints medians of each process's own CPU time and

    ratio = plan CPU / (validate CPU + floor CPU)        (goal: <= 1.3)

It also runs the floor with `--httpx-models` (the same wire work plus `import httpx` and
httpx's Request / Response objects: the least a transport under httpx's seam can cost) and
prints (validate + that floor) / (validate + floor): the ratio a plan would reach if nothing
but reading the files and that HTTP work cost anything.

With `--compare DIR`, the same `plan` and `validate` also run from the sources in DIR (a
checkout of another commit) in the same rounds, for before/after figures.

    .venv/bin/python bench/plan_floor.py [--rounds 5] [--compare /tmp/base]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import emulator, measure, seed, write_desired
from plan import scenario

FLOOR = Path(__file__).with_name("http_floor.py")


def floor_cpu(url: str, root: Path, concurrency: int, *flags: str) -> float:
    command = [sys.executable, str(FLOOR), url, str(root / "scopes.json"), str(concurrency)]
    command += flags
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, "floor failed"
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=10_000)
    parser.add_argument("--views", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parallelism", default="8", help="for plan and the floor ('' : default)")
    parser.add_argument("--compare", help="a source tree to measure too (PYTHONPATH)")
    args = parser.parse_args()
    views, remote, _ = scenario(args.snapshots, args.views)
    concurrency = int(args.parallelism or 8)
    plan_args = ["plan"] + (["--parallelism", args.parallelism] if args.parallelism else [])
    trees = {"this": {}} | ({"compare": {"PYTHONPATH": args.compare}} if args.compare else {})
    cpu: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder, emulator() as url:
        root = Path(folder)
        write_desired(root, views)
        (root / "scopes.json").write_text(json.dumps(sorted(views)))
        seed(url, remote)
        for _ in range(args.rounds):
            cpu.setdefault("floor", []).append(floor_cpu(url, root, concurrency))
            models = floor_cpu(url, root, concurrency, "--httpx-models")
            cpu.setdefault("httpx floor", []).append(models)
            for tree, env in trees.items():
                validate = measure(["validate"], root, url, **env)
                assert validate.code == 0, validate.stderr
                plan = measure(plan_args, root, url, **env)
                assert plan.code in (0, 2), plan.stderr
                cpu.setdefault(f"validate {tree}", []).append(validate.cpu)
                cpu.setdefault(f"plan {tree}", []).append(plan.cpu)
    medians = {name: statistics.median(values) for name, values in cpu.items()}
    print(
        f"{args.snapshots} snapshots over {len(views)} views, {args.rounds} rounds, "
        f"plan {' '.join(plan_args[1:]) or '(defaults)'}, floor {concurrency} in flight; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    for name, value in medians.items():
        print(f"  {name:16} cpu {value:5.2f} s")
    for tree in trees:
        floor = medians[f"validate {tree}"] + medians["floor"]
        ratio = medians[f"plan {tree}"] / floor
        print(f"  {tree}: plan / (validate + http floor) = {ratio:.2f} x  (goal <= 1.3 x)")
        least = (medians[f"validate {tree}"] + medians["httpx floor"]) / floor
        print(f"  {tree}: (validate + httpx floor) / (validate + http floor) = {least:.2f} x")


if __name__ == "__main__":
    main()
