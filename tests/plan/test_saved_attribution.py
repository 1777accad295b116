"""A plan saved with `--base` carries its attribution and the commit the ref named; `apply
PLAN` recomputes the attribution against that commit and compares it like the operations."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan.planfile import PlanDocument
from support.workspace import APP, Workspace, snapshot

GIT = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
GIT += ["-c", "commit.gpgsign=false"]
ITEMS = "/api/v2/replay/heatmap/snapshots"


def git(root: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True, timeout=30)
    return done.stdout.decode().strip()


def edit(ws: Workspace, snapshot_id: str, start: int) -> None:
    """Another writer sets a snapshot's `start` in Datadog."""
    attributes = {"event_id": "e-hero", "start": start, "is_device_type_selected_by_user": False}
    body = {"data": {"id": snapshot_id, "type": "snapshots", "attributes": attributes}}
    assert ws.api("PATCH", f"{ITEMS}/{snapshot_id}", body).is_success


@pytest.fixture
def saved(ws: Workspace) -> tuple[Workspace, str, dict[str, Any]]:
    """Applied at `base`; `Hero` edited in Datadog; the files unchanged; a plan saved with
    `--base base` (one drift)."""
    git(ws.root, "init", "-q")
    ws.write_snapshots({"/checkout": [snapshot("Hero", event_id="e-hero", start=1700)]})
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "base")
    git(ws.root, "tag", "base")
    assert ws.apply().code == 0
    [hero] = ws.remote()
    edit(ws, hero["id"], 1650)
    planned = ws.plan(base="base", out="plan.json")
    assert planned.code == 0, planned.err
    data = json.loads(Path("plan.json").read_text(encoding="utf-8"))
    return ws, hero["id"], data


def stale(ws: Workspace, data: dict[str, Any]) -> str:
    Path("edited.json").write_text(json.dumps(data), encoding="utf-8")
    result = ws.apply("edited.json")
    assert result.code == 1
    assert ws.remote()[0]["attributes"]["start"] == 1650  # nothing applied
    return result.err


def test_the_saved_attribution_reads_back_as_it_was_computed(
    saved: tuple[Workspace, str, dict[str, Any]],
) -> None:
    ws, _, data = saved
    assert data["attribution"]["base"] == {
        "ref": "base",
        "commit": git(ws.root, "rev-parse", "base"),
    }
    assert data["attribution"]["drift_only"] is True
    document = PlanDocument.read("plan.json")
    assert document.attribution is not None
    [patch] = document.plan.operations
    labelled = document.attribution.of(patch)
    assert labelled is not None
    assert (labelled.label, labelled.fields[0].base, labelled.fields[0].remote) == (
        "drift",
        1700,
        1650,
    )
    assert PlanDocument.from_dict(document.to_dict()).to_json() == document.to_json()


def test_apply_recomputes_against_the_commit_not_the_ref(
    saved: tuple[Workspace, str, dict[str, Any]],
) -> None:
    ws, _, _ = saved
    # The ref moves on: a commit that changes `start` to 1650 would make it "no change".
    ws.write_snapshots({"/checkout": [snapshot("Hero", event_id="e-hero", start=1650)]})
    git(ws.root, "commit", "-q", "-am", "moved")
    git(ws.root, "tag", "-f", "base")
    ws.write_snapshots({"/checkout": [snapshot("Hero", event_id="e-hero", start=1700)]})
    applied = ws.apply("plan.json")
    assert applied.code == 0, applied.err
    assert ws.remote()[0]["attributes"]["start"] == 1700


def test_a_tampered_label_is_stale(saved: tuple[Workspace, str, dict[str, Any]]) -> None:
    ws, hero, data = saved
    data["operations"][0]["attribution"]["label"] = "change"
    assert stale(ws, data) == (
        f'error: saved plan is stale: view /checkout of application {APP}: patch desktop "Hero" '
        f"id={hero}: it was change in the plan, drift now. Nothing was applied; run "
        "`reconciler plan` again.\n"
    )


def test_a_tampered_base_value_is_stale(saved: tuple[Workspace, str, dict[str, Any]]) -> None:
    ws, hero, data = saved
    data["operations"][0]["attribution"]["fields"][0]["base"] = 1
    assert stale(ws, data) == (
        f'error: saved plan is stale: view /checkout of application {APP}: patch desktop "Hero" '
        f"id={hero}: its attribution changed (drift: Datadog changed). Nothing was applied; "
        "run `reconciler plan` again.\n"
    )


def test_an_edit_in_datadog_after_the_plan_makes_it_stale(
    saved: tuple[Workspace, str, dict[str, Any]],
) -> None:
    """The same value written again: the operations are the same, `modified_at` is not."""
    ws, hero, data = saved
    edit(ws, hero, 1650)
    assert "its attribution changed (drift: Datadog changed)" in stale(ws, data)


def test_a_plan_saved_without_base_applies_as_before(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("Hero")]})
    assert ws.plan(out="plan.json").code == 0
    assert "attribution" not in Path("plan.json").read_text(encoding="utf-8")
    assert ws.apply("plan.json").code == 0
