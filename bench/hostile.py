"""Whole-process cost of refusing hostile input: `reconciler validate` on each case.

Usage: python bench/hostile.py [--runs R]
Prints, per case, the exit code, median wall time, CPU time and peak memory of the process,
next to the floor: `reconciler validate` of one small valid file, in the same run. The tests
(tests/hardening/test_hostile_input.py) assert outcomes only; the figures live here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The hostile files are the tests' own (tests/support/hostile_files.py): one corpus.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import measure

from support.hostile_files import (
    HEADER,
    alias_bomb,
    deep_flow,
    fifo,
    fifty_megabytes,
    link_to_filesystem_root,
)


def small_valid(root: Path) -> str:
    (root / "ok.yaml").write_text(HEADER + "  /a: []\n")
    return "ok.yaml"


CASES: dict[str, Callable[[Path], str]] = {
    "floor: one small valid file": small_valid,
    "alias bomb (9**9 nodes)": alias_bomb,
    "200,000-deep flow nesting": deep_flow,
    "50 MB file": fifty_megabytes,
    "snapshots/root -> /": link_to_filesystem_root,
    "FIFO": fifo,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    floor = 0.0
    print(f"{'case':<30} {'exit':>4} {'wall s':>7} {'cpu s':>6} {'peak MB':>8} {'x floor':>7}")
    for name, build in CASES.items():
        with tempfile.TemporaryDirectory(prefix="bench-hostile-") as folder:
            root = Path(folder)
            target = build(root)
            runs = [
                measure(["validate", target], root, "http://127.0.0.1:9") for _ in range(args.runs)
            ]
        wall = statistics.median(run.wall for run in runs)
        cpu = statistics.median(run.cpu for run in runs)
        peak = max(run.peak_mb for run in runs)
        floor = floor or wall
        print(
            f"{name:<30} {runs[0].code:>4} {wall:>7.3f} {cpu:>6.3f} {peak:>8.0f}"
            f" {wall / floor:>7.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
