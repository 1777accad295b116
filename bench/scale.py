"""Bench: scale. `reconciler plan` of 100,000 snapshots over 1,000 views, then `reconciler
apply` of 10,000 creates, each as a whole process against a real emulator server process.

Prints wall time, the reconciler process's own CPU time and peak memory (os.wait4) and the
requests the emulator saw. Acceptance: the 100,000-snapshot plan stays under 1 GB peak.

    .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --snapshots 100000 --views 1000 --creates 10000
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import admin, app_id, emulator, measure, seed, total_requests, write_desired
from plan import scenario

PLAN_PEAK_LIMIT_MB = 1024


def plan_bench(snapshots: int, views: int) -> None:
    desired, remote, expected = scenario(snapshots, views)
    with tempfile.TemporaryDirectory() as folder, emulator() as url:
        root = Path(folder)
        files = write_desired(root, desired)
        seed(url, remote)
        before = total_requests(url)
        run = measure(["plan", "--format", "json", "--parallelism", "8"], root, url)
        assert run.code == 0, run.stderr[-2000:]
        summary = json.loads(run.stdout)["summary"]
        print(
            f"plan  N={snapshots} over {len(desired)} views in {files} files (remote "
            f"{len(remote)}): wall {run.wall:.2f} s, cpu {run.cpu:.2f} s, peak "
            f"{run.peak_mb:.0f} MB, requests {total_requests(url) - before}, "
            f"summary create {summary['create']} patch {summary['patch']} "
            f"delete {summary['delete']} (expected {expected})"
        )
        verdict = "OK" if run.peak_mb < PLAN_PEAK_LIMIT_MB else "OVER"
        print(f"      acceptance: peak {run.peak_mb:.0f} MB < {PLAN_PEAK_LIMIT_MB} MB: {verdict}")


def apply_bench(creates: int, views: int) -> None:
    desired: dict[tuple[str, str], list[dict[str, object]]] = {}
    for i in range(creates):
        scope = (app_id(0), f"/apply-{i % views:04d}")
        desired.setdefault(scope, []).append(
            {"snapshot_name": f"s{i:06d}", "device_type": "desktop", "event_id": "e", "start": i}
        )
    with tempfile.TemporaryDirectory() as folder, emulator() as url:
        root = Path(folder)
        write_desired(root, desired)
        run = measure(
            ["apply", "--auto-approve", "--format", "json", "--parallelism", "8"], root, url
        )
        assert run.code == 0, run.stderr[-2000:]
        result = json.loads(run.stdout)
        stats = admin(url, "GET", "/_emulator/stats")
        print(
            f"apply {creates} creates over {len(desired)} views: wall {run.wall:.2f} s, "
            f"cpu {run.cpu:.2f} s, peak {run.peak_mb:.0f} MB, requests "
            f"{stats['total_requests']}, committed creates {stats['committed']['create']}, "
            f"converged {result['converged']}"
        )
        assert stats["committed"]["create"] == creates
        assert stats["snapshots"] == creates


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--views", type=int, default=1_000)
    parser.add_argument("--creates", type=int, default=10_000)
    parser.add_argument("--apply-views", type=int, default=100)
    args = parser.parse_args()
    plan_bench(args.snapshots, args.views)
    apply_bench(args.creates, args.apply_views)


if __name__ == "__main__":
    main()
