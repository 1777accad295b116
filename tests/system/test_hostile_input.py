"""Hostile files through the real command line (a process, measured with os.wait4).

Every case: exit 1, a clear `path:line:col: message` (or a clear size / plan error), no
traceback, no code execution, in bounded memory (peak RSS of the child process). No timing
is asserted: a hang is killed by run_measured's timeout and fails on its exit code; the
times are printed (run with -s) and measured by bench/hostile.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import Plan
from support.hostile_files import (
    HEADER,
    MARKER,
    alias_bomb,
    deep_block,
    deep_flow,
    fifo,
    fifty_megabytes,
    huge_integer,
    link_to_filesystem_root,
    long_key,
    long_scalar,
    not_utf8,
    nul_byte,
    python_tag,
    symlink_loop,
    symlink_loop_in_folder,
)
from support.measured import MEMORY_BOUND_MB, Measured, run_measured
from support.processes import env_for

#: Real processes (the CLI, the emulator): run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow

LOCATED = re.compile(r"^[^\s:]+:\d+:\d+: \S", re.MULTILINE)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No keys are needed offline; keys and an unused loopback URL for `apply PLAN`."""
    return env_for("http://127.0.0.1:9")


def check_refused(result: Measured, name: str, expected: str) -> None:
    print(f"\n{name}: exit {result.code}, {result.wall:.2f} s, peak {result.peak_mb:.0f} MB")
    output = result.stdout + result.stderr
    assert result.code == 1, output[-2000:]
    assert "Traceback" not in output
    assert "internal error" not in output, output[-2000:]
    assert expected in output, output[-2000:]
    assert len(output) < 20_000, f"{len(output)} characters of output"
    assert result.peak_mb < MEMORY_BOUND_MB


# -- snapshot files: `reconciler validate FILE` ---------------------------------------------


CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    "alias bomb": (alias_bomb, "aliases expand to more than"),
    "deep flow nesting": (deep_flow, "nesting is deeper than 100 levels"),
    "deep block nesting": (deep_block, "nesting is deeper than 100 levels"),
    "50 MB file": (fifty_megabytes, "file is larger than the 20 MB limit"),
    "not UTF-8": (not_utf8, "not valid UTF-8"),
    "symlink loop": (symlink_loop, "Too many levels of symbolic links"),
    "symlink loops in a folder": (symlink_loop_in_folder, "symbolic links"),
    "link to /": (link_to_filesystem_root, "leads outside the repository (to /): not followed"),
    "FIFO": (fifo, "it is a FIFO, not a regular file"),
    "python/object/apply": (python_tag("!!python/object/apply:os.system"), "unsupported YAML tag"),
    "python/object/new": (python_tag("!!python/object/new:os.system"), "unsupported YAML tag"),
    "huge integer": (huge_integer, "integer has more than 100 digits"),
    "NUL byte": (nul_byte, "NUL byte"),
    "1 MB scalar": (long_scalar, "must be a UUID"),
    "1 MB key": (long_key, "YAML syntax error"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_snapshot_file(name: str, tmp_path: Path, env: dict[str, str]) -> None:
    build, expected = CASES[name]
    target = build(tmp_path)
    result = run_measured(["validate", target], tmp_path, env)
    check_refused(result, name, expected)
    assert LOCATED.search(result.stdout), result.stdout[-2000:]
    assert not (tmp_path / MARKER).exists(), "a YAML tag executed code"


def test_a_1_mb_snapshot_name_is_valid_and_cheap(tmp_path: Path, env: dict[str, str]) -> None:
    """No length limit on names is documented, so a 1 MB name is accepted: what matters is
    that it costs little (it is the API that would refuse it)."""
    snapshot = "    - {snapshot_name: %s, device_type: desktop, event_id: e, start: 1}\n"
    (tmp_path / "long.yaml").write_text(HEADER + "  /a:\n" + snapshot % ("n" * (1 << 20)))
    result = run_measured(["validate", "long.yaml"], tmp_path, env)
    print(f"\n1 MB snapshot_name: exit {result.code}, {result.wall:.2f} s, {result.peak_mb:.0f} MB")
    assert (result.code, result.stdout) == (0, "OK: 1 file, 1 snapshot, 1 view.\n")
    assert result.peak_mb < MEMORY_BOUND_MB


# -- saved plans: `reconciler show PLAN` and `reconciler apply PLAN` -------------------------


def valid_plan() -> dict[str, Any]:
    document = PlanDocument(
        plan=Plan(()),
        target_url="http://127.0.0.1:9",
        site=None,
        desired_fingerprint="sha256:" + "0" * 64,
        views=(),
    )
    return document.to_dict()


def write_json(root: Path, value: Any) -> str:
    (root / "plan.json").write_text(json.dumps(value))
    return "plan.json"


def huge_plan(root: Path) -> str:
    with (root / "plan.json").open("w") as stream:
        stream.write('{"format_version": 1, "pad": "')
        chunk = "x" * (1 << 20)
        for _ in range(60):
            stream.write(chunk)
        stream.write('"}')
    return "plan.json"


def wrong_types(changes: dict[str, Any]) -> Callable[[Path], str]:
    return lambda root: write_json(root, valid_plan() | changes)


def bad_operation(root: Path) -> str:
    operation = {"action": "create", "application_id": 5, "view_name": None, "request": "x"}
    return write_json(root, valid_plan() | {"operations": [operation]})


PLAN_CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    "60 MB plan": (huge_plan, "not a valid saved plan"),
    "plan not JSON": (lambda root: write_json(root, 0) and "plan.json", "not a valid saved plan"),
    "plan truncated": (
        lambda root: (root / "plan.json").write_text('{"format_version": 1,') and "plan.json",
        "not a saved plan: invalid JSON",
    ),
    "plan: version a string": (wrong_types({"format_version": "1"}), "not a valid saved plan"),
    "plan: future version": (wrong_types({"format_version": 99}), "saved plan"),
    "plan: views a dict": (wrong_types({"views": {"a": 1}}), "not a valid saved plan"),
    "plan: target url a number": (wrong_types({"target": {"url": 5}}), "not a valid saved plan"),
    "plan: operation of wrong types": (bad_operation, "not a valid saved plan"),
    "plan: not UTF-8": (
        lambda root: (root / "plan.json").write_bytes(b'{"\xff": 1}') and "plan.json",
        "cannot read saved plan",
    ),
}


@pytest.mark.parametrize("command", ["show", "apply"])
@pytest.mark.parametrize("name", list(PLAN_CASES))
def test_hostile_saved_plan(name: str, command: str, tmp_path: Path, env: dict[str, str]) -> None:
    build, expected = PLAN_CASES[name]
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "a.yaml").write_text(HEADER + "  /a: []\n")
    target = build(tmp_path)
    result = run_measured([command, target], tmp_path, env)
    check_refused(result, f"{command} {name}", expected)


def deep_plan(root: Path) -> str:
    (root / "plan.json").write_text("[" * 100_000 + "]" * 100_000)
    return "plan.json"


def long_list_plan(root: Path) -> str:
    (root / "plan.json").write_text("[" + ", ".join(["1"] * 2_000_000) + "]")
    return "plan.json"


def test_deeply_nested_saved_plan(tmp_path: Path, env: dict[str, str]) -> None:
    result = run_measured(["show", deep_plan(tmp_path)], tmp_path, env)
    check_refused(result, "show deeply nested plan", "not a saved plan")


def test_saved_plan_error_is_short(tmp_path: Path, env: dict[str, str]) -> None:
    result = run_measured(["show", long_list_plan(tmp_path)], tmp_path, env)
    check_refused(result, "show 2-million-item plan", "not a valid saved plan")
