"""Bench: `reconciler apply` as a whole process against a real emulator server.

(a) 1,000 creates + 100 patches + 100 deletes under an emulator rate limit of 100
    requests/s per operation: wall time against the floor of 1,200 / 100 = 12 s.
(b) the same work with no rate limit and 20 ms emulator latency, at parallelism 1 and 8.

    .venv/bin/python bench/apply.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from common import admin, app_id, emulator, measure, seed, write_desired

VIEWS = 10


def scenario(
    creates: int, patches: int, deletes: int
) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], list[dict[str, Any]]]:
    views: dict[tuple[str, str], list[dict[str, Any]]] = {}
    remote: list[dict[str, Any]] = []

    def entry(i: int, start: int) -> tuple[tuple[str, str], dict[str, Any]]:
        scope = (app_id(0), f"/view-{i % VIEWS:02d}")
        return scope, {
            "snapshot_name": f"snapshot {i:05d}",
            "device_type": "desktop",
            "event_id": f"evt-{i:05d}",
            "start": start,
        }

    for i in range(creates + patches):
        scope, wanted = entry(i, i)
        views.setdefault(scope, []).append(wanted)
        if i >= creates:  # exists remotely with another start: a patch
            remote.append(
                {
                    "application_id": scope[0],
                    "view_name": scope[1],
                    **wanted,
                    "start": i + 1,
                    "is_device_type_selected_by_user": False,
                }
            )
    for i in range(creates + patches, creates + patches + deletes):
        scope, extra = entry(i, i)
        views.setdefault(scope, [])
        remote.append(
            {
                "application_id": scope[0],
                "view_name": scope[1],
                **extra,
                "is_device_type_selected_by_user": False,
            }
        )
    return views, remote


def one_run(
    label: str, emulator_args: list[str], parallelism: int, work: tuple[int, int, int]
) -> float:
    views, remote = scenario(*work)
    with tempfile.TemporaryDirectory() as folder, emulator(*emulator_args) as url:
        root = Path(folder)
        write_desired(root, views)
        seed(url, remote)
        run = measure(
            ["apply", "--auto-approve", "--force", "--parallelism", str(parallelism)], root, url
        )
        stats = admin(url, "GET", "/_emulator/stats")
    summary = next((line for line in run.stdout.splitlines() if line.startswith("Apply:")), "?")
    converged = "Converged." in run.stdout
    rate_limited = sum(counts.get("429", 0) for counts in stats["requests"].values())
    print(
        f"{label}: wall {run.wall:6.2f} s  cpu {run.cpu:5.2f} s  peak {run.peak_mb:5.1f} MB  "
        f"exit {run.code}  429s {rate_limited}  {summary} converged={converged}"
    )
    if run.code != 0:
        print(run.stderr[-2000:])
    return run.wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--patches", type=int, default=100)
    parser.add_argument("--deletes", type=int, default=100)
    args = parser.parse_args()
    work = (args.creates, args.patches, args.deletes)
    writes = sum(work)
    floor = writes / 100
    wall = one_run("(a) rate limit 100/s, parallelism 8", ["--rate-limit", "100"], 8, work)
    print(f"    floor {floor:.1f} s; ratio {wall / floor:.2f} x (target <= 1.2 x)")
    serial = one_run("(b) latency 20 ms, parallelism 1", ["--latency-ms", "20"], 1, work)
    parallel = one_run("(b) latency 20 ms, parallelism 8", ["--latency-ms", "20"], 8, work)
    print(f"    speed-up {serial / parallel:.1f} x (target >= 5 x)")


if __name__ == "__main__":
    main()
