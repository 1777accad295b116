"""A plan saved with `--base` carries its attribution and the commit the ref named; `apply
PLAN` recomputes the attribution against that commit and compares it like the operations."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler.config.environments import Selection
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.saved import differences
from support.workspace import APP, APP2, Workspace, remote_attributes, snapshot

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
def saved(ws: Workspace) -> tuple[Workspace, dict[str, str], dict[str, Any]]:
    """Applied at `base`; in Datadog `Hero` edited, `Manual` created, `Gone` deleted; the
    files unchanged; a plan saved with `--base base`: create Gone, patch Hero, delete
    Manual, all drift."""
    git(ws.root, "init", "-q")
    hero, gone = snapshot("Hero", event_id="e-hero", start=1700), snapshot("Gone", event_id="e-g")
    ws.write_snapshots({"/checkout": [hero, gone]})
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "base")
    git(ws.root, "tag", "base")
    assert ws.apply().code == 0
    ids = {item["attributes"]["snapshot_name"]: item["id"] for item in ws.remote()}
    edit(ws, ids["Hero"], 1650)
    assert ws.api("DELETE", f"{ITEMS}/{ids['Gone']}").is_success
    manual = {"data": {"type": "snapshots", "attributes": remote_attributes("Manual")}}
    ids["Manual"] = ws.api("POST", ITEMS, manual).json()["data"]["id"]
    planned = ws.plan(base="base", out="plan.json")
    assert planned.code == 0, planned.err
    data = json.loads(Path("plan.json").read_text(encoding="utf-8"))
    return ws, ids, data


def stale(ws: Workspace, data: dict[str, Any]) -> str:
    Path("edited.json").write_text(json.dumps(data), encoding="utf-8")
    result = ws.apply("edited.json")
    assert result.code == 1
    assert {a["attributes"]["snapshot_name"] for a in ws.remote()} == {"Hero", "Manual"}
    return result.err


def hero_start(ws: Workspace) -> int:
    [start] = [
        a["attributes"]["start"] for a in ws.remote() if a["attributes"]["snapshot_name"] == "Hero"
    ]
    return int(start)


def test_the_saved_attribution_reads_back_as_it_was_computed(
    saved: tuple[Workspace, dict[str, str], dict[str, Any]],
) -> None:
    ws, _, data = saved
    commit = git(ws.root, "rev-parse", "base")
    assert data["attribution"]["base"] == {"ref": "base", "commit": commit}
    assert data["attribution"]["drift_only"] is True
    labels = [(op["attribution"]["label"], op["snapshot_name"]) for op in data["operations"]]
    assert labels == [("drift", "Gone"), ("drift", "Hero"), ("drift", "Manual")]
    gone, hero, manual = (op["attribution"] for op in data["operations"])
    assert (gone["deleted_remotely"], gone["created_remotely"]) == (True, False)
    assert (manual["deleted_remotely"], manual["created_remotely"]) == (False, True)
    assert manual["created_by_handle"] == "emulator@example.com"
    assert hero["fields"] == [
        {"field": "start", "label": "drift", "base": 1700, "remote": 1650, "desired": 1700}
    ]
    assert data["operations"][1]["changes"] == [
        {"field": "start", "old": 1650, "new": 1700, "attribution": "drift"}
    ]
    text = Path("plan.json").read_text(encoding="utf-8")
    assert PlanDocument.read("plan.json").to_json() == text


def test_an_operation_without_a_label_in_the_file_is_read_as_unlabelled(
    saved: tuple[Workspace, dict[str, str], dict[str, Any]],
) -> None:
    ws, _, data = saved
    del data["operations"][0]["attribution"]
    Path("edited.json").write_text(json.dumps(data), encoding="utf-8")
    found = PlanDocument.read("edited.json").attribution
    assert found is not None
    assert sorted(k[1].snapshot_name for k in found.operations) == ["Hero", "Manual"]
    assert stale(ws, data) == (
        f'error: saved plan is stale: view /checkout of application {APP}: create desktop "Gone": '
        "it was unlabelled in the plan, drift now. Nothing was applied; run `reconciler plan` "
        "again.\n"
    )


def test_a_recomputed_plan_without_labels_differs_from_a_labelled_one(
    saved: tuple[Workspace, dict[str, str], dict[str, Any]],
) -> None:
    document = PlanDocument.read("plan.json")
    unlabelled = dataclasses.replace(document, attribution=None)
    assert [reason.split(": ", 2)[2] for reason in differences(document, unlabelled)] == [
        "it was drift in the plan, unlabelled now"
    ] * 3
    assert differences(unlabelled, document) == []  # a plan saved without --base


def test_apply_recomputes_against_the_commit_not_the_ref(
    saved: tuple[Workspace, dict[str, str], dict[str, Any]],
) -> None:
    ws, _, _ = saved
    # The ref moves on: a commit that changes `start` to 1650 would make Hero "change".
    moved = snapshot("Hero", event_id="e-hero", start=1650)
    ws.write_snapshots({"/checkout": [moved, snapshot("Gone", event_id="e-g")]})
    git(ws.root, "commit", "-q", "-am", "moved")
    git(ws.root, "tag", "-f", "base")
    hero = snapshot("Hero", event_id="e-hero", start=1700)
    ws.write_snapshots({"/checkout": [hero, snapshot("Gone", event_id="e-g")]})
    applied = ws.apply("plan.json")
    assert applied.code == 0, applied.err
    assert hero_start(ws) == 1700
    assert "Since base base (" in applied.out  # the ref as the plan named it


def test_a_tampered_label_is_stale(
    saved: tuple[Workspace, dict[str, str], dict[str, Any]],
) -> None:
    ws, ids, data = saved
    data["operations"][2]["attribution"]["label"] = "change"
    assert stale(ws, data) == (
        f'error: saved plan is stale: view /checkout of application {APP}: delete desktop "Manual" '
        f"id={ids['Manual']}: it was change in the plan, drift now. Nothing was applied; run "
        "`reconciler plan` again.\n"
    )


def test_a_tampered_base_value_is_stale(
    saved: tuple[Workspace, dict[str, str], dict[str, Any]],
) -> None:
    ws, ids, data = saved
    data["operations"][1]["attribution"]["fields"][0]["base"] = 1
    assert stale(ws, data) == (
        f'error: saved plan is stale: view /checkout of application {APP}: patch desktop "Hero" '
        f"id={ids['Hero']}: its attribution changed (drift: Datadog changed). Nothing was "
        "applied; run `reconciler plan` again.\n"
    )


def test_an_edit_in_datadog_after_the_plan_makes_it_stale(
    saved: tuple[Workspace, dict[str, str], dict[str, Any]],
) -> None:
    """The same value written again: the operations are the same, `modified_at` is not."""
    ws, ids, data = saved
    edit(ws, ids["Hero"], 1650)
    assert "its attribution changed (drift: Datadog changed)" in stale(ws, data)


def test_a_plan_saved_without_base_applies_as_before(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("Hero")]})
    assert ws.plan(out="plan.json").code == 0
    assert "attribution" not in Path("plan.json").read_text(encoding="utf-8")
    assert ws.apply("plan.json").code == 0


def test_a_plan_saved_in_an_environment_is_recomputed_in_its_placement(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files name an alias: the base is placed in the plan's environment again."""
    monkeypatch.setenv("DD_API_KEY_PRODUCTION", "test-production-api-key".ljust(32, "0"))
    monkeypatch.setenv("DD_APP_KEY_PRODUCTION", "test-production-app-key".ljust(40, "0"))
    ws.write(
        "reconciler.yaml",
        f"""
        environments:
          production:
            api_url: http://127.0.0.1:9
            applications: {{shop: {APP2}}}
        """,
    )
    ws.write(
        "snapshots/shop.yaml",
        """
        application: shop
        views:
          /checkout:
            - {snapshot_name: Hero, device_type: desktop, event_id: e-hero, start: 1700}
        """,
    )
    git(ws.root, "init", "-q")
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "base")
    ws.seed(remote_attributes("Hero", app=APP2, event_id="e-hero", start=1650))
    production = Selection(("production",))
    planned = ws.plan(base="HEAD", selection=production, out="plan-{env}.json")
    assert planned.code == 0, planned.err
    assert "[drift]" in planned.out
    applied = ws.apply("plan-production.json", selection=production)
    assert applied.code == 0, applied.err
    assert [a["attributes"]["start"] for a in ws.remote()] == [1700]
