# ruff: noqa: E501  (expected outputs are compared whole, one line each)
"""Drift attribution acceptance, in a real git repository: the files applied at the base
commit; another writer then edits one snapshot's `start` in Datadog, creates one snapshot in
a managed view and deletes another; the pull request changes a different snapshot's
`event_id`, and the first snapshot's `start` too (a conflict). Every operation and field is
labelled, in text, markdown, json and github, compared exactly; a saved plan carries the
labels, and `apply PLAN` recomputes and compares them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.commands import show as show_command
from reconciler.config.environments import Selection
from reconciler.emulator import EmulatorSettings, create_app
from support.workspace import APP, APP2, Workspace, remote_attributes, snapshot

GIT = [
    "git",
    "-c",
    "user.email=t@example.invalid",
    "-c",
    "user.name=t",
    "-c",
    "commit.gpgsign=false",
]
#: The emulator's wall clock (seconds since the epoch): 2025-12-01T09:00:00Z, then an hour on.
NOON = 1_764_579_600.0


def git(root: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True, timeout=30)
    return done.stdout.decode().strip()


def files(hero_start: int, promo_event: str) -> dict[str, list[dict[str, object]]]:
    return {
        "/checkout": [
            snapshot("Hero", event_id="e-hero", start=hero_start),
            snapshot("Promo", event_id=promo_event, start=100),
            snapshot("Gone", event_id="e-gone", start=5),
        ]
    }


@pytest.fixture
def world(ws: Workspace) -> tuple[Workspace, dict[str, str]]:
    """Applied at the base commit; another writer's edits in Datadog; the pull request's
    edits in the work tree. Returns the workspace and what varies: ids and the commit."""
    now = [NOON]
    ws.settings = EmulatorSettings(wall_clock=lambda: now[0])
    ws.app = create_app(ws.settings)
    git(ws.root, "init", "-q")
    ws.write_snapshots(files(1700, "e-promo"), name="shop.yaml")
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "base")
    git(ws.root, "tag", "base")
    applied = ws.apply()
    assert applied.code == 0, applied.err
    ids = {item["attributes"]["snapshot_name"]: item["id"] for item in ws.remote()}
    # Another writer, an hour later.
    now[0] = NOON + 3600
    edit = {
        "data": {
            "id": ids["Hero"],
            "type": "snapshots",
            "attributes": {
                "event_id": "e-hero",
                "start": 1650,
                "is_device_type_selected_by_user": False,
            },
        }
    }
    assert ws.api("PATCH", f"/api/v2/replay/heatmap/snapshots/{ids['Hero']}", edit).is_success
    made = ws.api(
        "POST",
        "/api/v2/replay/heatmap/snapshots",
        {"data": {"type": "snapshots", "attributes": remote_attributes("Manual", event_id="e-m")}},
    )
    assert made.is_success, made.text
    ids["Manual"] = made.json()["data"]["id"]
    gone = ws.api("DELETE", f"/api/v2/replay/heatmap/snapshots/{ids['Gone']}")
    assert gone.is_success
    # The pull request.
    ws.write_snapshots(files(1600, "e-promo-2"), name="shop.yaml")
    ids["commit"] = git(ws.root, "rev-parse", "base")
    return ws, ids


def named(text: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        # The full commit first: the files now are the base's commit with edits not committed.
        text = text.replace(value, f"<{name}>")
        text = text.replace(value[:12] if name == "commit" else value, f"<{name}>")
    return text


TEXT = (
    "Objects have changed in Datadog since the files at base base (<commit>):\n"
    f'  [drift] create /checkout desktop "Gone" (application {APP}): deleted in Datadog\n'
    f'  [conflict] patch /checkout desktop "Hero" (application {APP}): edited in Datadog: start 1700 -> 1650; modified_at 2025-12-01T10:00:00.000Z\n'
    f'  [drift] delete /checkout desktop "Manual" (application {APP}): created in Datadog by emulator@example.com; modified_at 2025-12-01T10:00:00.001Z\n'
    "Applying this plan undoes these changes (drift); where the files changed the same snapshot too (conflict), the files' values win.\n"
    "\n"
    f'+ create /checkout desktop "Gone" (application {APP})  [drift]\n'
    '    event_id                        = "e-gone"\n'
    "    start                           = 5\n"
    "    is_device_type_selected_by_user = false\n"
    f'~ patch /checkout desktop "Hero" (application {APP}) id=<Hero>  [conflict]\n'
    "    start : 1650 -> 1600  [conflict: 1700 at base]\n"
    f'~ patch /checkout desktop "Promo" (application {APP}) id=<Promo>  [change]\n'
    '    event_id : "e-promo" -> "e-promo-2"  [change]\n'
    f'- delete /checkout desktop "Manual" (application {APP}) id=<Manual>  [drift]\n'
    "    reason: not declared\n"
    "\n"
    "Since base base (<commit>): 1 change, 2 drift, 1 conflict.\n"
    "Plan: 1 to create, 2 to patch, 1 to delete.\n"
)

MARKDOWN = (
    "### reconciler plan\n"
    "\n"
    "**Plan: 1 to create, 2 to patch, 1 to delete.**\n"
    "\n"
    "Planned against API host `127.0.0.1:9` at commit <commit>.\n"
    "\n"
    "Since base `base` (`<commit>`): **1 change, 2 drift, 1 conflict**.\n"
    "_drift: merging undoes an edit made in Datadog; conflict: the files and Datadog both changed the snapshot (the files' values win)._\n"
    "\n"
    f"#### Application `{APP}`\n"
    "\n"
    "| view | create | replace | patch | delete | duplicate |\n"
    "|---|---:|---:|---:|---:|---:|\n"
    "| `/checkout` | 1 | 0 | 2 | 1 | 0 |\n"
    "\n"
    "| | action | view | device | snapshot | details |\n"
    "|---|---|---|---|---|---|\n"
    '| ➕ | create<br>↩️ **drift** | `/checkout` | `desktop` | `Gone` | `event_id` = `"e-gone"`<br>`start` = `5`<br>`is_device_type_selected_by_user` = `false`<br>`deleted in Datadog` |\n'
    "| ✏️ | patch<br>⚠️ **conflict** | `/checkout` | `desktop` | `Hero` | `start`: `1650` → `1600`<br>`edited in Datadog: start 1700 -> 1650; modified_at 2025-12-01T10:00:00.000Z`<br>`start 1700 at base, 1650 in Datadog, 1600 in the files` |\n"
    '| ✏️ | patch<br>**change** | `/checkout` | `desktop` | `Promo` | `event_id`: `"e-promo"` → `"e-promo-2"` |\n'
    "| ➖ | delete<br>↩️ **drift** | `/checkout` | `desktop` | `Manual` | not declared (id `<Manual>`)<br>`created in Datadog by emulator@example.com; modified_at 2025-12-01T10:00:00.001Z` |\n"
)

ANNOTATIONS = (
    f'::warning file=snapshots/shop.yaml,line=4,title=delete::delete /checkout desktop "Manual" (application {APP}) id=<Manual>: not declared\n'
    f'::warning file=snapshots/shop.yaml,line=17,title=drift::create /checkout desktop "Gone" (application {APP}): deleted in Datadog; applying this plan undoes it\n'
    f'::warning file=snapshots/shop.yaml,line=5,title=conflict::patch /checkout desktop "Hero" (application {APP}) id=<Hero>: edited in Datadog: start 1700 -> 1650; modified_at 2025-12-01T10:00:00.000Z; the files changed it too (start 1700 at base, 1650 in Datadog, 1600 in the files)\n'
    f'::warning file=snapshots/shop.yaml,line=4,title=drift::delete /checkout desktop "Manual" (application {APP}) id=<Manual>: created in Datadog by emulator@example.com; modified_at 2025-12-01T10:00:00.001Z; applying this plan undoes it\n'
    "::notice title=reconciler plan::Plan: 1 to create, 2 to patch, 1 to delete.\n"
)


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [("text", TEXT), ("markdown", MARKDOWN), ("github", ANNOTATIONS)],
    ids=["text", "markdown", "github"],
)
def test_every_operation_and_field_is_labelled(
    output_format: str, expected: str, world: tuple[Workspace, dict[str, str]]
) -> None:
    ws, ids = world
    result = ws.plan(base="base", output_format=output_format)
    assert result.code == 0, result.err
    assert named(result.out, ids) == expected


def _labels(operation: dict[str, object]) -> object:
    return operation["attribution"]


def test_json_labels_every_operation_and_field_change(
    world: tuple[Workspace, dict[str, str]],
) -> None:
    from jsonschema import Draft202012Validator

    from reconciler.core.schemas import load_schema

    ws, ids = world
    result = ws.plan(base="base", output_format="json", detailed_exitcode=True)
    assert result.code == 2, result.err
    schema = Draft202012Validator(load_schema("plan.schema.json"))
    assert list(schema.iter_errors(json.loads(result.out))) == []
    document = json.loads(named(result.out, ids))
    assert document["attribution"] == {
        "base": {"ref": "base", "commit": "<commit>"},
        "counts": {"change": 1, "drift": 2, "conflict": 1},
        "drift_only": False,
    }
    found = {
        (op["action"], op["snapshot_name"]): (op["attribution"], op["changes"])
        for op in document["operations"]
    }
    none = {"modified_at": None, "created_by_handle": None}
    assert found == {
        ("create", "Gone"): (
            {
                "label": "drift",
                **none,
                "deleted_remotely": True,
                "created_remotely": False,
                "fields": [],
            },
            [],
        ),
        ("patch", "Hero"): (
            {
                "label": "conflict",
                **none,
                "modified_at": "2025-12-01T10:00:00.000Z",
                "deleted_remotely": False,
                "created_remotely": False,
                "fields": [
                    {
                        "field": "start",
                        "label": "conflict",
                        "base": 1700,
                        "remote": 1650,
                        "desired": 1600,
                    }
                ],
            },
            [{"field": "start", "old": 1650, "new": 1600, "attribution": "conflict"}],
        ),
        ("patch", "Promo"): (
            {
                "label": "change",
                **none,
                "modified_at": "2025-12-01T09:00:00.002Z",
                "deleted_remotely": False,
                "created_remotely": False,
                "fields": [
                    {
                        "field": "event_id",
                        "label": "change",
                        "base": "e-promo",
                        "remote": "e-promo",
                        "desired": "e-promo-2",
                    }
                ],
            },
            [{"field": "event_id", "old": "e-promo", "new": "e-promo-2", "attribution": "change"}],
        ),
        ("delete", "Manual"): (
            {
                "label": "drift",
                "modified_at": "2025-12-01T10:00:00.001Z",
                "created_by_handle": "emulator@example.com",
                "deleted_remotely": False,
                "created_remotely": True,
                "fields": [],
            },
            [],
        ),
    }


def test_without_base_the_plan_carries_no_attribution(
    world: tuple[Workspace, dict[str, str]],
) -> None:
    ws, _ = world
    document = ws.plan(output_format="json").out
    assert "attribution" not in document
    text = ws.plan().out
    assert "[drift]" not in text
    assert "Objects have changed" not in text


def test_a_saved_plan_carries_the_labels_and_apply_recomputes_them(
    world: tuple[Workspace, dict[str, str]],
) -> None:
    ws, ids = world
    saved = ws.plan(base="base", out="plan.json")
    assert saved.code == 0, saved.err
    data = json.loads((ws.root / "plan.json").read_text(encoding="utf-8"))
    assert data["attribution"]["base"]["commit"] == ids["commit"]
    ws.capsys.readouterr()
    assert show_command.run(plan_path="plan.json", output_format="text", color=False) == 0
    assert named(ws.capsys.readouterr().out, ids) == TEXT
    # The label in the file is compared with the recomputed one: a tampered label is stale.
    data["operations"][1]["attribution"]["label"] = "change"
    (ws.root / "tampered.json").write_text(json.dumps(data), encoding="utf-8")
    tampered = ws.apply("tampered.json")
    assert tampered.code == 1
    assert named(tampered.err, ids) == (
        "error: saved plan is stale: view /checkout of application "
        f'{APP}: patch desktop "Hero" id=<Hero>: it was change in the plan, conflict now. '
        "Nothing was applied; run `reconciler plan` again.\n"
    )
    applied = ws.apply("plan.json")
    assert applied.code == 0, applied.err
    starts = {a["attributes"]["snapshot_name"]: a["attributes"]["start"] for a in ws.remote()}
    assert starts == {"Hero": 1600, "Promo": 100, "Gone": 5}


def test_each_environment_is_attributed_against_its_own_placement_of_the_base(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One file for two environments (an alias, an id each): production's snapshot was
    edited in its Datadog, staging's was not; the files did not change."""
    for name in ("STAGING", "PRODUCTION"):
        monkeypatch.setenv(f"DD_API_KEY_{name}", f"test-{name.lower()}-api-key".ljust(32, "0"))
        monkeypatch.setenv(f"DD_APP_KEY_{name}", f"test-{name.lower()}-app-key".ljust(40, "0"))
    ws.write(
        "reconciler.yaml",
        f"""
        environments:
          staging:
            api_url: http://127.0.0.1:9
            applications: {{shop: {APP}}}
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
            - snapshot_name: Hero
              device_type: desktop
              event_id: e-hero
              start: 1700
        """,
    )
    git(ws.root, "init", "-q")
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "base")
    ws.seed(
        remote_attributes("Hero", event_id="e-hero", start=1700),
        remote_attributes("Hero", app=APP2, event_id="e-hero", start=1650),
    )
    planned = {}
    for name in ("staging", "production"):  # one at a time: in-process, one emulator
        result = ws.plan(base="HEAD", selection=Selection((name,)), output_format="json")
        assert result.code == 0, result.err
        [planned[name]] = json.loads(result.out)["environments"]
    staging, production = planned["staging"], planned["production"]
    assert staging["operations"] == []
    assert staging["attribution"]["counts"] == {"change": 0, "drift": 0, "conflict": 0}
    [patch] = production["operations"]
    assert patch["attribution"]["label"] == "drift"
    assert patch["attribution"]["fields"] == [
        {"field": "start", "label": "drift", "base": 1700, "remote": 1650, "desired": 1700}
    ]
    assert production["attribution"]["drift_only"] is True


def test_a_base_that_is_not_a_commit_is_one_error_and_no_plan(
    world: tuple[Workspace, dict[str, str]],
) -> None:
    ws, _ = world
    result = ws.plan(base="no-such-ref")
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("error: --base 'no-such-ref': not a commit")
