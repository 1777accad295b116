"""Bench: reconciler against its peers, on the same generated files, in one run.

Every measure runs its commands as whole processes in interleaved rounds (A B A B ...,
after one untimed run of each, which also writes the bytecode caches) and takes medians:

- validate of a repository with one small snapshots file (the pre-commit case), wall,
  against `check-jsonschema --schemafile schemas/snapshots.schema.json FILE`;
- validate of 10,000 snapshots in 100 files, wall, against check-jsonschema on those files
  (as pip installs it: ruamel.yaml 0.19 without ruamel.yaml.clib, so its YAML parser is pure
  Python; with the C parser added it took about a third of the time, 2026-12-06);
- plan of 10,000 snapshots over 500 views against a seeded emulator (1% to create, patch and
  delete), CPU of the child, against octoDNS planning a YAML zone of 10,000 records (1% to
  create, update and delete) from one YamlProvider to another (`octodns-sync`, no `--doit`);
- plan of 500 views at 150 ms latency with the default settings, wall, against the best of
  `--parallelism` 16, 32 and 64 (a ratio against reconciler itself);
- the CPU of plan per snapshot at 1k, 10k and 100k snapshots (1 view per 20 snapshots), and
  the ratio 100k / 10k (flat: about 1.0).

It prints a final table of each ratio against the bar it must stay within (OK or OVER; it
never fails). The peers live in .venv-bench (pinned by constraints/bench.txt): `make
bench-peers`. PYTHONDONTWRITEBYTECODE is dropped for every measured process.

    .venv/bin/python bench/peers.py [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from common import RECONCILER, Run, emulator, measure, measure_command, seed, write_desired
from latency import LATENCY, SWEEP, rate_limited
from plan import scenario
from validate import load, write_files

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / ".venv-bench" / "bin"
SCHEMA = ROOT / "schemas" / "snapshots.schema.json"
INSTALL = (
    "make bench-peers, or: python3 -m venv .venv-bench &&"
    " .venv-bench/bin/python -m pip install -r constraints/bench.txt"
)
OCTODNS_CONFIG = """providers:
  config: {{class: octodns.provider.yaml.YamlProvider, directory: {root}/config}}
  target: {{class: octodns.provider.yaml.YamlProvider, directory: {root}/target}}
zones:
  example.com.: {{sources: [config], targets: [target]}}
"""


def interleave(commands: Mapping[str, Callable[[], Run]], rounds: int) -> dict[str, list[Run]]:
    """Each command once untimed, then `rounds` rounds of all of them in turn."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for index in range(rounds + 1):
        for name, command in commands.items():
            run = command()
            if run.code != 0:
                raise SystemExit(
                    f"{name} failed ({run.code}):\n{run.stdout[-2000:]}{run.stderr[-2000:]}"
                )
            if index:
                runs[name].append(run)
    return runs


def wall(runs: list[Run]) -> float:
    return statistics.median(run.wall for run in runs)


def cpu(runs: list[Run]) -> float:
    return statistics.median(run.cpu for run in runs)


def peer(name: str, *args: str | Path, cwd: Path) -> Callable[[], Run]:
    return partial(measure_command, [str(PEERS / name), *map(str, args)], cwd, os.environ)


def validate_rounds(rounds: int, folder: Path) -> dict[str, list[Run]]:
    commands: dict[str, Callable[[], Run]] = {}
    for label, total in (("small", 10), ("10k", 10_000)):
        repo = folder / label
        (repo / "snapshots").mkdir(parents=True)
        write_files(repo / "snapshots", total, 100)
        files = sorted((repo / "snapshots").glob("*.yaml"))
        commands[label] = partial(measure_command, [*RECONCILER, "validate"], repo, os.environ)
        commands[f"{label} peer"] = peer(
            "check-jsonschema", "--schemafile", SCHEMA, *files, cwd=repo
        )
    return interleave(commands, rounds)


def record(i: int, value: int) -> tuple[str, str]:
    """Record `i`'s type and its value number `value`."""
    kind = ("A", "AAAA", "CNAME", "TXT")[i % 4]
    return kind, {
        "A": f"10.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}",
        "AAAA": f"2001:db8::{value:x}",
        "CNAME": f"target-{value}.example.net.",
        "TXT": f"v=spf1 include:_spf{value}.example.net ~all",
    }[kind]


def octodns_zone(root: Path, records: int) -> None:
    """A zone of `records` A/AAAA/CNAME/TXT records in `root`/config; `root`/target holds it
    with 1% missing, 1% with another value and 1% extra records (plan.py's proportions)."""
    rng = random.Random(1)
    config: dict[str, tuple[str, str]] = {}
    target: dict[str, tuple[str, str]] = {}
    for i in range(records):
        name = f"host-{i:06d}"
        config[name] = record(i, i)
        roll = rng.random()
        if roll >= 0.01:
            target[name] = record(i, i + 1 if roll < 0.02 else i)
        if rng.random() < 0.01:
            target[f"extra-{i:06d}"] = config[name]
    for side, zone in (("config", config), ("target", target)):
        lines = ["---"]
        for name, (kind, value) in sorted(zone.items()):
            lines += [f"{name}:", "  ttl: 300", f"  type: {kind}", f'  value: "{value}"']
        (root / side).mkdir()
        (root / side / "example.com.yaml").write_text("\n".join(lines) + "\n")
    (root / "octodns.yaml").write_text(OCTODNS_CONFIG.format(root=root))


def seeded(stack: ExitStack, snapshots: int, *emulator_args: str) -> tuple[Path, str]:
    """Snapshot files of plan.py's scenario (1 view per 20 snapshots) and an emulator seeded
    with the matching remote snapshots, both closed with `stack`."""
    desired, remote, _ = scenario(snapshots, max(1, snapshots // 20))
    root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    url = stack.enter_context(emulator(*emulator_args))
    write_desired(root, desired)
    seed(url, remote)
    return root, url


def plan_rounds(rounds: int, sizes: list[int], folder: Path) -> dict[str, list[Run]]:
    octodns_zone(folder, 10_000)
    commands = {
        "octodns": peer("octodns-sync", "--config-file", folder / "octodns.yaml", cwd=folder)
    }
    with ExitStack() as stack:
        for size in sizes:
            root, url = seeded(stack, size)
            commands[str(size)] = partial(measure, ["plan"], root, url)
        runs = interleave(commands, rounds)
    print(f"  octoDNS: {runs['octodns'][0].stderr.strip().splitlines()[-2].strip('* ')}")
    print(f"  reconciler 10k: {runs['10000'][0].stdout.strip().splitlines()[-1]}")
    return runs


def latency_rounds(rounds: int) -> tuple[dict[str, list[Run]], int]:
    with ExitStack() as stack:
        root, url = seeded(stack, 10_000, *LATENCY)
        commands = {"default": partial(measure, ["plan"], root, url)}
        for n in SWEEP:
            commands[f"parallelism {n}"] = partial(
                measure, ["plan", f"--parallelism={n}"], root, url
            )
        return interleave(commands, rounds), rate_limited(url)


def per_snapshot(plans: dict[str, list[Run]], sizes: list[int]) -> None:
    print("\nplan CPU per snapshot (1 view per 20 snapshots)")
    per = {size: cpu(plans[str(size)]) / size * 1e6 for size in sizes}
    for size in sizes:
        print(f"  {size:>7,}: {cpu(plans[str(size)]):6.2f} s CPU  {per[size]:5.1f} us/snapshot")
    if 100_000 in per:
        print(f"  100k / 10k per snapshot: {per[100_000] / per[10_000]:.2f} (flat: about 1.0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, help="timed rounds (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, no 100k plan")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    missing = [n for n in ("check-jsonschema", "octodns-sync") if not (PEERS / n).exists()]
    if missing:
        raise SystemExit(f"missing in {PEERS}: {', '.join(missing)}; install them with {INSTALL}")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # measured processes cache bytecode
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    print(f"{rounds} interleaved rounds, medians; {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as name:
        folder = Path(name)
        (folder / "validate").mkdir()
        (folder / "plan").mkdir()
        print("validate (wall) ...")
        check = validate_rounds(rounds, folder / "validate")
        print("plan against the emulator (CPU of the child) ...")
        plans = plan_rounds(rounds, sizes, folder / "plan")
    print(f"plan at {LATENCY[1]} ms latency (wall) ...")
    slow, limited = latency_rounds(rounds)
    best = min((f"parallelism {n}" for n in SWEEP), key=lambda name: wall(slow[name]))
    for name, runs in slow.items():
        print(f"  {name:15} {wall(runs):6.2f} s")
    print(f"  429s seen by the emulator: {limited}")

    per_snapshot(plans, sizes)
    print(f"\n{'measure':32} {'reconciler':>10} {'peer':>30}  ratio  bar")
    cjs = "check-jsonschema"
    table = [
        ("validate one small file, wall", check["small"], wall, cjs, check["small peer"], 0.5),
        ("validate 10k in 100 files, wall", check["10k"], wall, cjs, check["10k peer"], 0.1),
        ("plan 10k / 500 views, CPU", plans["10000"], cpu, "octoDNS 10k", plans["octodns"], 0.3),
        ("plan 500 views at 150 ms, wall", slow["default"], wall, best, slow[best], 1.2),
    ]
    for label, ours, of, name, theirs, bar in table:
        ratio = of(ours) / of(theirs)
        verdict = "OK" if ratio <= bar else "OVER"
        print(f"{label:32} {of(ours):8.3f} s {name:>20} {of(theirs):7.3f} s  {ratio:4.2f}x", end="")
        print(f"  {bar}x {verdict}")
    print(f"at the end: {load()}")


if __name__ == "__main__":
    main()
