"""Bench: the default settings under a real API's latency (issue 14, goal 4).

The emulator answers every request after 150 ms (`--latency-ms`), with its default rate
limits. Interleaved rounds, whole processes, median wall times:

- `plan` of 10,000 snapshots over 500 views (the scenario of bench/plan.py);
- `apply` of 500 creates over 10 views (a fresh emulator each run).

Each runs with the default settings and with `--parallelism` 16, 32 and 64; the best of
those is the floor, and also printed: raw asyncio doing the same 500 GETs, 64 in flight
(bench/http_floor.py), plus `validate`. Goal: default / best floor <= 1.2, and no 429.
With `--compare DIR`, the default settings also run from the sources in DIR (before/after).

    .venv/bin/python bench/latency.py [--rounds 3] [--compare /tmp/base]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import apply as apply_bench
from common import admin, emulator, measure, seed, write_desired
from plan import scenario

LATENCY = ["--latency-ms", "150"]
SWEEP = (16, 32, 64)
FLOOR = Path(__file__).with_name("http_floor.py")


def rate_limited(url: str) -> int:
    stats = admin(url, "GET", "/_emulator/stats")
    return sum(counts.get("429", 0) for counts in stats["requests"].values())


def variants(compare: str | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    out: dict[str, tuple[list[str], dict[str, str]]] = {"default": ([], {})}
    if compare:
        out["before (default)"] = ([], {"PYTHONPATH": compare})
    for n in SWEEP:
        out[f"parallelism {n}"] = (["--parallelism", str(n)], {})
    return out


def plan_rounds(rounds: int, compare: str | None) -> dict[str, list[float]]:
    views, remote, _ = scenario(10_000, 500)
    walls: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder, emulator(*LATENCY) as url:
        root = Path(folder)
        write_desired(root, views)
        (root / "scopes.json").write_text(json.dumps(sorted(views)))
        seed(url, remote)
        for _ in range(rounds):
            validate = measure(["validate"], root, url)
            started = time.perf_counter()
            command = [sys.executable, str(FLOOR), url, str(root / "scopes.json"), "64"]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            floor = validate.wall + time.perf_counter() - started
            walls.setdefault("raw floor (validate + asyncio GETs)", []).append(floor)
            for name, (extra, env) in variants(compare).items():
                run = measure(["plan", *extra], root, url, **env)
                assert run.code in (0, 2), run.stderr
                walls.setdefault(name, []).append(run.wall)
        walls["429s"] = [float(rate_limited(url))]
    return walls


def apply_rounds(rounds: int, compare: str | None) -> dict[str, list[float]]:
    views, remote = apply_bench.scenario(500, 0, 0)
    walls: dict[str, list[float]] = {"429s": [0.0]}
    for _ in range(rounds):
        for name, (extra, env) in variants(compare).items():
            with tempfile.TemporaryDirectory() as folder, emulator(*LATENCY) as url:
                root = Path(folder)
                write_desired(root, views)
                seed(url, remote)
                run = measure(["apply", "--auto-approve", "--force", *extra], root, url, **env)
                assert run.code == 0, run.stdout + run.stderr
                assert "Converged." in run.stdout, run.stdout
                walls.setdefault(name, []).append(run.wall)
                walls["429s"][0] += rate_limited(url)
    return walls


def report(title: str, walls: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(values) for name, values in walls.items()}
    best = min(medians[f"parallelism {n}"] for n in SWEEP)
    print(title)
    for name, value in medians.items():
        if name != "429s":
            print(f"  {name:38} {value:6.2f} s   {value / best:5.2f} x best floor")
    print(f"  429s seen by the emulator: {int(medians['429s'])}")
    print(f"  default / best floor = {medians['default'] / best:.2f} x  (goal <= 1.2 x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", help="a source tree to measure too (PYTHONPATH)")
    parser.add_argument("--only", choices=("plan", "apply"))
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f}, {args.rounds} rounds, latency 150 ms")
    if args.only != "apply":
        report("plan, 10,000 snapshots over 500 views", plan_rounds(args.rounds, args.compare))
    if args.only != "plan":
        report("apply, 500 creates over 10 views", apply_rounds(args.rounds, args.compare))


if __name__ == "__main__":
    main()
