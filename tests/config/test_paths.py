"""Paths: a config file's paths resolve against its folder (which they may not leave),
`--chdir DIR` runs as if started there, and a missing or empty folder says where it looked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.cli_runner import Run
from support.workspace import Workspace, snapshot

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
GOOD = (
    f"application_id: {APP}\nviews:\n  /a:\n"
    "    - {snapshot_name: A, device_type: desktop, event_id: e, start: 1}\n"
)


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """infra/datadog/reconciler.yaml naming `snapshots`, run from the repository's top."""
    infra = tmp_path / "infra" / "datadog"
    (infra / "snapshots").mkdir(parents=True)
    (infra / "snapshots" / "app.yaml").write_text(GOOD)
    (infra / "reconciler.yaml").write_text("snapshots: snapshots\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_snapshots_of_a_config_file_resolve_against_its_folder(run: Run, monorepo: Path) -> None:
    assert run("validate", "--config", "infra/datadog/reconciler.yaml") == (
        0,
        "OK: 1 file, 1 snapshot, 1 view, config infra/datadog/reconciler.yaml.\n",
        "",
    )
    (monorepo / "infra/datadog/snapshots/app.yaml").write_text(GOOD.replace("start: 1", "start: x"))
    code, out, _ = run("validate", "--config", "infra/datadog/reconciler.yaml")
    assert (code, out) == (
        1,
        "infra/datadog/snapshots/app.yaml:4:68: 'start' must be an integer, got 'x'\n",
    )


def test_the_default_folder_sits_next_to_the_config_file(run: Run, monorepo: Path) -> None:
    (monorepo / "infra/datadog/reconciler.yaml").write_text("prune: true\n")
    assert run("validate", "--config", "infra/datadog/reconciler.yaml")[:2] == (
        0,
        "OK: 1 file, 1 snapshot, 1 view, config infra/datadog/reconciler.yaml.\n",
    )


def test_plan_reads_the_folder_next_to_the_config_file(ws: Workspace) -> None:
    infra = ws.root / "infra"
    ws.write("infra/reconciler.yaml", "snapshots: desired\n")
    ws.write_snapshots({"/v": [snapshot("hero")]}, name="../infra/desired/a.yaml")
    assert (infra / "desired" / "a.yaml").is_file()
    result = ws.plan(config_path="infra/reconciler.yaml", detailed_exitcode=True)
    assert result.code == 2, result.err
    assert result.out.startswith('+ create /v desktop "hero"')


@pytest.mark.parametrize("written", ["../elsewhere", "/", "snapshots/../../.."])
def test_a_config_file_may_not_name_a_folder_outside_its_own(
    run: Run, monorepo: Path, written: str
) -> None:
    (monorepo / "infra/datadog/reconciler.yaml").write_text(f"snapshots: {written!r}\n")
    code, out, _ = run("validate", "--config", "infra/datadog/reconciler.yaml")
    assert code == 1
    assert out == (
        "infra/datadog/reconciler.yaml:1:12: 'snapshots' must be a folder inside the folder of"
        f" reconciler.yaml, got '{written}' (for a folder elsewhere use --snapshots or"
        " RECONCILER_SNAPSHOTS)\n"
    )


def test_a_nul_byte_in_the_snapshots_folder_is_a_problem_at_its_line(
    run: Run, monorepo: Path
) -> None:
    (monorepo / "infra/datadog/reconciler.yaml").write_text('snapshots: "a\\0b"\n')
    code, out, err = run("validate", "--config", "infra/datadog/reconciler.yaml")
    assert (code, err) == (1, "")
    assert out == (
        "infra/datadog/reconciler.yaml:1:12: 'snapshots' must be a folder's path,"
        " got 'a\\x00b' (a NUL byte)\n"
    )


def test_a_config_file_folder_that_is_a_link_out_is_refused(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    os.symlink("/", repo / "desired")
    (repo / "reconciler.yaml").write_text("snapshots: desired\n")
    monkeypatch.chdir(repo)
    code, out, _ = run("validate")
    assert code == 1
    assert out.startswith("reconciler.yaml:1:12: 'snapshots' must be a folder inside the folder")


def test_the_default_config_may_not_be_a_link_out(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("prune: false\n")
    repo = tmp_path / "repo"
    (repo / "snapshots").mkdir(parents=True)
    (repo / "snapshots" / "app.yaml").write_text(GOOD)
    os.symlink(outside, repo / "reconciler.yaml")
    monkeypatch.chdir(repo)
    code, out, _ = run("validate")
    assert code == 1
    assert out == (
        f"reconciler.yaml:1:1: symbolic link leads outside the repository (to {outside}):"
        " not followed\n"
    )


def test_chdir_runs_as_if_started_there(run: Run, monorepo: Path) -> None:
    before = os.getcwd()
    assert run("-C", "infra/datadog", "validate") == (
        0,
        "OK: 1 file, 1 snapshot, 1 view, config reconciler.yaml.\n",
        "",
    )
    assert run("--chdir", "infra", "validate", "datadog/snapshots/app.yaml")[:2] == (
        0,
        "OK: 1 file, 1 snapshot, 1 view.\n",
    )
    assert os.getcwd() == before  # in-process callers keep their directory


def test_chdir_to_a_missing_folder_is_a_usage_error(run: Run, monorepo: Path) -> None:
    code, _, err = run("-C", "nowhere", "validate")
    assert code == 1
    assert "'nowhere' does not exist" in err
