"""docs/ci/github/reconciler-drift.yml, run for real against an emulator process: its plan
command (as the action runs it) with `--base` set to the commit last applied, then its step
that tells drift from changes not applied yet. In sync, changes on main not applied yet, and
drift only are told apart by the exit code and the step's outputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from docs.test_ci_recipes import CI, action_commands, load

from support.processes import env_for, reconciler, running_emulator
from support.workspace import API_KEY, APP, APP_KEY, snapshot

pytestmark = pytest.mark.slow

RECIPE = CI / "github" / "reconciler-drift.yml"
GIT = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
GIT += ["-c", "commit.gpgsign=false"]


def git(root: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True, timeout=30)
    return done.stdout.decode().strip()


def commit(root: Path, promo_event: str) -> str:
    views = {
        "/checkout": [
            snapshot("Hero", event_id="e-hero", start=1700),
            snapshot("Promo", event_id=promo_event, start=100),
        ]
    }
    folder = root / "snapshots"
    folder.mkdir(exist_ok=True)
    document = {"application_id": APP, "views": views}
    (folder / "shop.yaml").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", promo_event)
    return git(root, "rev-parse", "HEAD")


def plan_command(applied: str) -> list[str]:
    """The recipe's plan command, as the action runs it, with the commit the recipe's first
    step finds (the apply workflow's last successful run: GitHub's, not run here)."""
    [command] = list(action_commands(RECIPE))
    return [arg.replace("${{steps.applied.outputs.commit}}", applied) for arg in command.args]


def kind_step(root: Path, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The recipe's step that tells drift from changes: its output and its step outputs."""
    [step] = [
        step
        for step in load(RECIPE)["jobs"]["drift"]["steps"]
        if step.get("name") == "Tell drift from changes not applied yet"
    ]
    outputs = root / "github-output"
    outputs.write_text("", encoding="utf-8")
    executable = Path(sys.executable).parent / "reconciler"
    done = subprocess.run(
        ["bash", "-c", step["run"]],
        cwd=root,
        env={**env, "RECONCILER": str(executable), "GITHUB_OUTPUT": str(outputs)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = outputs.read_text(encoding="utf-8").splitlines()
    return done.stdout, dict(line.split("=", 1) for line in lines)


def edit_start(url: str, name: str, start: int) -> None:
    """Another writer edits a snapshot in Datadog (the emulator)."""
    headers = {"DD-API-KEY": API_KEY, "DD-APPLICATION-KEY": APP_KEY}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        items: list[dict[str, Any]] = client.get(
            "/api/v2/replay/heatmap/snapshots",
            params={"filter[application_id]": APP, "filter[view_name]": "/checkout"},
        ).json()["data"]
        [item] = [i for i in items if i["attributes"]["snapshot_name"] == name]
        attributes = {
            k: item["attributes"][k] for k in ("event_id", "is_device_type_selected_by_user")
        }
        body = {
            "data": {
                "id": item["id"],
                "type": "snapshots",
                "attributes": {**attributes, "start": start},
            }
        }
        assert client.patch(f"/api/v2/replay/heatmap/snapshots/{item['id']}", json=body).is_success


def test_the_drift_recipe_tells_drift_only_from_changes_not_applied(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    first = commit(tmp_path, "e-promo")
    with running_emulator() as url:
        env = env_for(url)
        applied = reconciler(["apply", "--auto-approve"], tmp_path, env)
        assert applied.returncode == 0, applied.stderr

        in_sync = reconciler(plan_command(first), tmp_path, env)
        assert in_sync.returncode == 0, in_sync.stderr

        # main moves on; the apply workflow has not applied it yet.
        second = commit(tmp_path, "e-promo-2")
        pending = reconciler(plan_command(first), tmp_path, env)
        assert pending.returncode == 2, pending.stderr
        shown, outputs = kind_step(tmp_path, env)
        assert outputs == {"drift-only": "false", "drift": "0", "pending": "1"}
        assert shown == ""

        # Applied; then someone edits a snapshot in Datadog.
        applied = reconciler(["apply", "--auto-approve"], tmp_path, env)
        assert applied.returncode == 0, applied.stderr
        edit_start(url, "Hero", 1650)
        drifted = reconciler(plan_command(second), tmp_path, env)
        assert drifted.returncode == 2, drifted.stderr
        shown, outputs = kind_step(tmp_path, env)
    assert outputs == {"drift-only": "true", "drift": "1", "pending": "0"}
    [annotation] = shown.splitlines()
    assert re.fullmatch(
        r"::warning file=snapshots/shop\.yaml,line=5,title=drift::patch /checkout desktop "
        rf'"Hero" \(application {APP}\) id=[0-9a-f-]+: edited in Datadog: start 1700 -> 1650; '
        r"modified_at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z; applying this plan undoes it",
        annotation,
    ), annotation
