"""A saved plan with replaces: `show` renders it as `plan` did, and `apply PLAN` compares
the replaced snapshot too (a different old copy makes it stale)."""

from __future__ import annotations

import json

from reconciler.cli.commands import show as show_command
from support.workspace import APP, Workspace, remote_attributes, snapshot


def test_show_renders_a_saved_replace_like_plan(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero v2")]})
    ws.seed(remote_attributes("hero"))
    planned = ws.plan(out="plan.json")
    shown = ws._run(
        lambda: show_command.run(plan_path="plan.json", output_format="text", color=False)
    )
    assert shown.out == planned.out
    assert planned.out.startswith(
        f'-/+ replace /checkout desktop "hero v2" (application {APP}) id='
    )
    annotations = ws._run(
        lambda: show_command.run(plan_path="plan.json", output_format="github", color=False)
    )
    old_id = planned.out.splitlines()[0].rsplit("id=", 1)[1]
    assert annotations.out == (
        "::notice file=snapshots/a.yaml,line=5,title=replace::replace /checkout desktop "
        f'"hero v2" (application {APP}) id={old_id}: snapshot_name "hero" -> "hero v2" '
        "(created first, then the old one is deleted)\n"
        "::notice title=reconciler plan::Plan: 0 to create, 0 to patch, 0 to delete, 1 to "
        "replace.\n"
    )


def test_a_saved_replace_of_another_copy_is_stale(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero v2")]})
    (old,) = ws.seed(remote_attributes("hero"))
    ws.plan(out="plan.json")
    assert ws.api("DELETE", f"/api/v2/replay/heatmap/snapshots/{old['id']}").status_code == 204
    (new,) = ws.seed(remote_attributes("hero"))
    result = ws.apply("plan.json")
    assert result.code == 1
    assert (
        f'it replaces id={old["id"]} (`"snapshot_name"` "hero" -> "hero v2") in the plan, '
        f'id={new["id"]} (`"snapshot_name"` "hero" -> "hero v2") now'
    ) in result.err
    names = sorted(item["attributes"]["snapshot_name"] for item in ws.remote())
    assert names == ["hero"]  # nothing applied


def test_the_saved_replace_round_trips_through_json(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero", device="tablet")]})
    ws.seed(remote_attributes("hero"))
    ws.plan(out="plan.json")
    document = json.loads((ws.root / "plan.json").read_text())
    assert document["summary"]["replace"] == 1
    result = ws.apply("plan.json")
    assert result.code == 0, result.err
    assert ws.remote_keys() == [(APP, "/checkout", "tablet", "hero")]


def test_renaming_5_of_14_applies_without_force(ws: Workspace) -> None:
    names = [f"shot {i}" for i in range(14)]
    ws.seed(*(remote_attributes(name, start=i) for i, name in enumerate(names)))
    renamed = [name + (" v2" if i < 5 else "") for i, name in enumerate(names)]
    ws.write_snapshots({"/checkout": [snapshot(name, start=i) for i, name in enumerate(renamed)]})
    planned = ws.plan()
    assert planned.out.endswith("Plan: 0 to create, 0 to patch, 0 to delete, 5 to replace.\n")
    assert "Warning" not in planned.out
    applied = ws.apply(parallelism=1)
    assert applied.code == 0, applied.err
    done = [line.split()[:2] for line in applied.out.splitlines()]
    done = [words for words in done if words in (["+", "created"], ["-", "deleted"])]
    assert done == [["+", "created"]] * 5 + [["-", "deleted"]] * 5
    assert sorted(key[3] for key in ws.remote_keys()) == sorted(renamed)
