"""Whole-process cost of refusing hostile input: `reconciler validate` on each case.

Usage: python bench/hostile.py [--runs R]
Prints, per case, the exit code, median wall time, CPU time and peak memory of the process,
next to the floor: `reconciler validate` of one small valid file, in the same run. The tests
(tests/hardening/test_hostile_input.py) assert outcomes only; the figures live here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import measure

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
HEADER = f"application_id: {APP}\nviews:\n"


def small_valid(root: Path) -> str:
    (root / "ok.yaml").write_text(HEADER + "  /a: []\n")
    return "ok.yaml"


def alias_bomb(root: Path) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        previous, current = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{current}: &{current} [{', '.join([f'*{previous}'] * 9)}]")
    (root / "bomb.yaml").write_text("\n".join(lines) + "\n")
    return "bomb.yaml"


def deep_flow(root: Path) -> str:
    (root / "deep.yaml").write_text(HEADER + "  /a: " + "[" * 200_000 + "]" * 200_000 + "\n")
    return "deep.yaml"


def fifty_megabytes(root: Path) -> str:
    with (root / "big.yaml").open("w") as stream:
        stream.write(HEADER + "  /a: []\npad: '")
        chunk = "x" * (1 << 20)  # in chunks: a forked child's peak counts this process's
        for _ in range(50):
            stream.write(chunk)
        stream.write("'\n")
    return "big.yaml"


def link_to_filesystem_root(root: Path) -> str:
    (root / "snapshots").mkdir()
    os.symlink("/", root / "snapshots" / "root")
    return "snapshots"


def fifo(root: Path) -> str:
    os.mkfifo(root / "pipe.yaml")
    return "pipe.yaml"


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
