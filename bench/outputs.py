"""Every output of this checkout against another checkout's, byte for byte, on the bench
scenario: a refactoring must not change what users see.

Runs validate, plan (every format, --detailed-exitcode), plan --out, show of the saved plan
(every format) and apply (text and JSON) of both checkouts against a real emulator server
seeded with the scenario of bench/plan.py, and prints `same` or `DIFF` per output. Apply's
per-operation lines come in completion order and its ids and timestamps are the server's,
so those are compared sorted, with ids and timestamps masked.

    .venv/bin/python bench/outputs.py /path/to/other/checkout [--snapshots 2000 --views 100]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from common import KEYS, emulator, seed, write_desired
from plan import scenario

HERE = str(Path(__file__).resolve().parents[1])
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z")
PLANS = (["plan"], *(["plan", "--format", f] for f in ("json", "markdown", "github")))
CASES = (
    ["validate"],
    ["validate", "--format", "json"],
    ["validate", "--format", "github"],
    *PLANS,
    ["plan", "--detailed-exitcode"],
)

Result = tuple[int, str, str]


def run(tree: str, args: list[str], cwd: Path, url: str) -> Result:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(KEYS, PYTHONPATH=tree, RECONCILER_API_URL=url, NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    return done.returncode, done.stdout, done.stderr


def masked_lines(result: Result) -> tuple[int, list[str], list[str]]:
    def lines(text: str) -> list[str]:
        return sorted(TIMESTAMP.sub("T", UUID.sub("U", text)).splitlines())

    return result[0], lines(result[1]), lines(result[2])


def report(name: str, same: bool) -> bool:
    print(f"{'same' if same else 'DIFF'}  {name}")
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", help="the other checkout (its folder holding reconciler/)")
    parser.add_argument("--snapshots", type=int, default=2000)
    parser.add_argument("--views", type=int, default=100)
    options = parser.parse_args()
    trees = (options.other, HERE)
    views, remote, _ = scenario(options.snapshots, options.views)
    all_same = True
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        write_desired(repo, views)
        with emulator() as url:
            seed(url, remote)
            for args in CASES:
                a, b = (run(tree, args, repo, url) for tree in trees)
                all_same &= report(" ".join(args), a == b)
            saved = [Path(tmp) / f"plan-{index}.json" for index in (0, 1)]
            for tree, path in zip(trees, saved, strict=True):
                run(tree, ["plan", "--out", str(path)], repo, url)
            all_same &= report("plan --out (bytes)", saved[0].read_bytes() == saved[1].read_bytes())
            all_same &= report(
                "plan --out (values)",
                json.loads(saved[0].read_text()) == json.loads(saved[1].read_text()),
            )
            for fmt in ("text", "json", "markdown", "github"):
                a, b = (
                    run(tree, ["show", str(path), "--format", fmt], repo, url)
                    for tree, path in zip(trees, saved, strict=True)
                )
                all_same &= report(f"show --format {fmt}", a == b)
        for fmt in ("text", "json"):
            results = []
            for tree in trees:
                with emulator() as url:  # each apply starts from the same seeded state
                    seed(url, remote)
                    args = [
                        "apply",
                        "--auto-approve",
                        *(["--format", fmt] if fmt == "json" else []),
                    ]
                    results.append(masked_lines(run(tree, args, repo, url)))
            all_same &= report(
                f"apply --format {fmt} (lines sorted, ids masked)", results[0] == results[1]
            )
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
