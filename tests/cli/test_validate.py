"""`reconciler validate` through the real CLI: exact text, github and json outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support.cli_runner import CORPUS, Run

FIVE = CORPUS / "cli" / "five_mistakes.yaml"
FIVE_LINES = [
    "five_mistakes.yaml:2:17: 'application_id' must be a UUID"
    " (like 6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21), got '6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b2'",
    "five_mistakes.yaml:6:20: 'device_type' must be one of desktop, mobile, tablet, got 'laptop'",
    "five_mistakes.yaml:8:14: 'start' must be at least 0, got -5",
    "five_mistakes.yaml:9:7: missing required field 'event_id'",
    "five_mistakes.yaml:17:7: duplicate key 'start' (first defined at line 16)",
]
GOOD_APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
#: One snapshot entry of view /x, /y or /z, its `start` to fill in.
SNAP = "    - {snapshot_name: A, device_type: desktop, event_id: e, start: %s}\n"


@pytest.fixture
def five(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    shutil.copy(FIVE, tmp_path)
    monkeypatch.chdir(tmp_path)
    return FIVE.name


def test_five_mistakes_give_five_lines(run: Run, five: str) -> None:
    code, out, err = run("validate", five)
    assert code == 1
    assert out.splitlines() == FIVE_LINES
    assert err == ""


def test_github_format(run: Run, five: str) -> None:
    code, out, _ = run("validate", "--format", "github", five)
    assert code == 1
    assert out.splitlines() == [
        "::error file=five_mistakes.yaml,line=2,col=17::'application_id' must be a UUID"
        " (like 6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21), got '6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b2'",
        "::error file=five_mistakes.yaml,line=6,col=20::'device_type' must be one of desktop,"
        " mobile, tablet, got 'laptop'",
        "::error file=five_mistakes.yaml,line=8,col=14::'start' must be at least 0, got -5",
        "::error file=five_mistakes.yaml,line=9,col=7::missing required field 'event_id'",
        "::error file=five_mistakes.yaml,line=17,col=7::duplicate key 'start'"
        " (first defined at line 16)",
    ]


def test_github_format_escapes_properties_and_data() -> None:
    from reconciler.core.model import Problem
    from reconciler.render.problems import github_annotation

    problem = Problem("a,b:c.yaml", 1, 2, "100% bad\nreally")
    expected = "::error file=a%2Cb%3Ac.yaml,line=1,col=2::100%25 bad\\nreally"
    assert github_annotation(problem) == expected


def test_json_format(run: Run, five: str) -> None:
    code, out, _ = run("validate", "--format", "json", five)
    assert code == 1
    document = json.loads(out)
    assert document["valid"] is False
    lines = [f"{p['path']}:{p['line']}:{p['col']}: {p['message']}" for p in document["problems"]]
    assert lines == FIVE_LINES
    assert document["problems"][2] == {
        "path": "five_mistakes.yaml",
        "line": 8,
        "col": 14,
        "message": "'start' must be at least 0, got -5",
    }


def _write_files(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def _write_good(folder: Path) -> None:
    good = f"application_id: {GOOD_APP}\nviews:\n  /a:\n{SNAP % 1}  /b: []\n"
    _write_files(folder, {"app.yaml": good})


def test_valid_outputs(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_good(tmp_path / "snapshots")
    assert run("validate") == (0, "OK: 1 file, 1 snapshot, 2 views.\n", "")
    assert run("validate", "--format", "github") == (0, "OK: 1 file, 1 snapshot, 2 views.\n", "")
    code, out, _ = run("validate", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "valid": True,
        "problems": [],
        "files": 1,
        "snapshots": 1,
        "views": 2,
        "config": None,
    }


def test_default_reads_configured_folder_and_config(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write_good(tmp_path / "desired")
    (tmp_path / "reconciler.yaml").write_text("snapshots: desired\nprune: true\n")
    assert run("validate") == (0, "OK: 1 file, 1 snapshot, 2 views, config reconciler.yaml.\n", "")
    (tmp_path / "reconciler.yaml").write_text("snapshots: desired\nprune: maybe\n")
    code, out, _ = run("validate")
    assert code == 1
    assert out == "reconciler.yaml:2:8: 'prune' must be true or false, got 'maybe'\n"


def test_env_chooses_folder(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_good(tmp_path / "elsewhere")
    monkeypatch.setenv("RECONCILER_SNAPSHOTS", "elsewhere")
    assert run("validate")[0] == 0


def test_missing_paths_are_problems(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("validate") == (
        1,
        f"snapshots:1:1: no such file or directory: {tmp_path / 'snapshots'}\n",
        "",
    )
    assert run("validate", "nope.yaml", "dir/") == (
        1,
        f"dir:1:1: no such file or directory: {tmp_path / 'dir'}\n"
        f"nope.yaml:1:1: no such file or directory: {tmp_path / 'nope.yaml'}\n",
        "",
    )


def test_an_empty_snapshots_folder_is_an_error_not_ok(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "notes.txt").write_text("not a snapshots file")
    assert run("validate") == (
        1,
        "snapshots:1:1: no snapshot files (*.yaml, *.yml) in this folder:"
        f" {tmp_path / 'snapshots'}\n",
        "",
    )


def test_missing_explicit_config(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_good(tmp_path / "snapshots")
    code, out, _ = run("validate", "--config", "missing.yaml")
    assert code == 1
    assert out == "missing.yaml:1:1: config file not found: missing.yaml\n"


def test_paths_outside_cwd_are_shown_as_given(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    bad = tmp_path / "bad.yaml"
    bad.write_text("views: {}\n")
    code, out, _ = run("validate", str(bad))
    assert code == 1
    assert out == f"{bad}:1:1: missing required field 'application_id'\n"
    code, out, _ = run("validate", "../bad.yaml")
    assert out == "../bad.yaml:1:1: missing required field 'application_id'\n"


def test_cross_file_clashes_name_both_places(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    x = f"application_id: {GOOD_APP}\nviews:\n  /x:\n{SNAP % 1}"
    _write_files(tmp_path / "snapshots", {"a.yaml": x, "b.yaml": x + "  /y: []\n"})
    code, out, _ = run("validate")
    assert code == 1
    assert out.splitlines() == [
        f"snapshots/b.yaml:3:3: view '/x' of application {GOOD_APP} is managed in two files"
        " (first declared at snapshots/a.yaml:3:3)",
        "snapshots/b.yaml:4:7: duplicate snapshot /x [desktop] 'A'"
        " (first declared at snapshots/a.yaml:4:7)",
    ]


def test_directories_skip_hidden_folders_and_config(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write_good(tmp_path / "snapshots" / "nested")
    (tmp_path / "snapshots" / ".hidden").mkdir()
    (tmp_path / "snapshots" / ".hidden" / "junk.yaml").write_text("junk: [")
    (tmp_path / "snapshots" / "reconciler.yaml").write_text("prune: false\n")
    (tmp_path / "snapshots" / "notes.txt").write_text("not yaml")
    assert run("validate")[0] == 0


def test_every_problem_of_every_file_in_one_run(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files = {
        "a.yaml": "application_id: [\n",
        "b.yaml": f"application_id: {GOOD_APP}\nview:\n  /x:\n{SNAP % -1}",
        "c.yaml": f"application_id: nope\nviews:\n  /y:\n{SNAP % 1}{SNAP % 2}",
        "d.yaml": f"application_id: {GOOD_APP}\nviews:\n  /z:\n{SNAP % 'x'}",
        "e.yaml": f"application_id: {GOOD_APP}\nviews:\n  /z: []\n",
    }
    _write_files(tmp_path / "snapshots", files)
    code, out, _ = run("validate")
    assert code == 1
    assert out.splitlines() == [
        "snapshots/a.yaml:2:1: YAML syntax error: did not find expected node content",
        "snapshots/b.yaml:2:1: unknown field 'view' (did you mean 'views'?)",
        "snapshots/b.yaml:4:68: 'start' must be at least 0, got -1",
        "snapshots/c.yaml:1:17: 'application_id' must be a UUID"
        " (like 6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21), got 'nope'",
        "snapshots/c.yaml:5:7: duplicate snapshot /y [desktop] 'A'"
        " (first declared at snapshots/c.yaml:4:7)",
        "snapshots/d.yaml:4:68: 'start' must be an integer, got 'x'",
        f"snapshots/e.yaml:3:3: view '/z' of application {GOOD_APP} is managed in two files"
        " (first declared at snapshots/d.yaml:3:3)",
    ]
