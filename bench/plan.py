"""Bench: `reconciler plan` as a whole process against a real emulator server.

Generates N desired snapshots over V views; seeds the emulator so that 1% of them differ,
1% are missing and 1% extra remote snapshots exist; runs `reconciler plan` and prints wall
time, the reconciler process's own CPU time and peak memory, and the HTTP requests the
emulator saw.

    .venv/bin/python bench/plan.py --snapshots 10000 --views 500
    .venv/bin/python bench/plan.py --snapshots 100000 --views 1000
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path
from typing import Any

from common import app_id, emulator, measure, seed, total_requests, write_desired

DEVICES = ("desktop", "mobile", "tablet")


def scenario(
    n: int, v: int, seed_value: int = 1
) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], list[dict[str, Any]], dict[str, int]]:
    rng = random.Random(seed_value)
    views: dict[tuple[str, str], list[dict[str, Any]]] = {}
    remote: list[dict[str, Any]] = []
    counts = {"create": 0, "patch": 0, "delete": 0}
    apps = max(1, v // 100)
    for i in range(n):
        scope = (app_id(i % v % apps), f"/view-{i % v:05d}")
        entry = {
            "snapshot_name": f"snapshot {i:06d}",
            "device_type": DEVICES[i % 3],
            "event_id": f"evt-{i:06d}",
            "start": i,
        }
        views.setdefault(scope, []).append(entry)
        attributes = {
            "application_id": scope[0],
            "view_name": scope[1],
            **entry,
            "is_device_type_selected_by_user": False,
        }
        roll = rng.random()
        if roll < 0.01:
            counts["create"] += 1  # missing remotely
            continue
        if roll < 0.02:
            attributes = {**attributes, "start": i + 1}
            counts["patch"] += 1
        remote.append(attributes)
        if rng.random() < 0.01:
            extra = {**attributes, "snapshot_name": f"extra {i:06d}"}
            remote.append(extra)
            counts["delete"] += 1
    return views, remote, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=10_000)
    parser.add_argument("--views", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    views, remote, expected = scenario(args.snapshots, args.views)
    with tempfile.TemporaryDirectory() as folder, emulator() as url:
        root = Path(folder)
        files = write_desired(root, views)
        seed(url, remote)
        print(
            f"N={args.snapshots} snapshots over V={len(views)} views in {files} files; "
            f"remote {len(remote)}; expected {expected}"
        )
        runs = []
        for _ in range(args.runs):
            before = total_requests(url)
            run = measure(
                ["plan", "--format", "json", "--out", "plan.json", "--parallelism", "8"], root, url
            )
            requests = total_requests(url) - before
            assert run.code == 0, run.stderr
            summary = run.stdout.split('"summary": ')[1].split("}")[0]
            runs.append(run)
            print(
                f"  wall {run.wall:6.2f} s   cpu {run.cpu:6.2f} s   peak {run.peak_mb:6.1f} MB   "
                f"requests {requests}   summary {' '.join(summary.split())}}}"
            )
        runs.sort(key=lambda r: r.wall)
        median = runs[len(runs) // 2]
        print(
            f"median: wall {median.wall:.2f} s, cpu {median.cpu:.2f} s, "
            f"peak {median.peak_mb:.1f} MB"
        )


if __name__ == "__main__":
    main()
