"""A stale saved plan's message names each operation as a reviewer reads it: names in their
own letters (never escaped), a duplicate's delete as such, values quoted and cut at 80
characters so that one huge value cannot flood the message; a field set on one side only
reads "(unset)" on the other; a patch whose changes moved says what each was and is; a
replace says each change of the snapshot it replaces."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.core.resource import item_path, update_body
from support.workspace import Workspace, remote_attributes, snapshot

STALE = "error: saved plan is stale: "

#: 80 characters quoted are shown whole; 81 are cut.
LONG_THEN, LONG_NOW = "é" * 79, "ü" * 78


def test_the_message_names_operations_and_cuts_long_values(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("café", event_id=LONG_THEN), snapshot("dup")]})
    ws.seed(
        remote_attributes("dup", created_at="2026-01-01T00:00:00Z"),
        remote_attributes("dup", created_at="2026-01-02T00:00:00Z"),
    )
    assert ws.plan(out="plan.json").code == 0
    ws.write_snapshots({"/checkout": [snapshot("café", event_id=LONG_NOW)]})
    ws.admin("POST", "/_emulator/reset")

    outcome = ws.apply("plan.json")

    assert outcome.code == 1
    assert outcome.err.startswith(STALE)
    assert ': create desktop "café": ' in outcome.err
    assert ': delete duplicate desktop "dup" id=' in outcome.err
    assert f'is "{LONG_THEN[:78]}… in the plan' in outcome.err
    assert LONG_THEN not in outcome.err
    assert f', "{LONG_NOW}" now' in outcome.err
    assert ws.remote_keys() == []


def test_a_field_set_on_one_side_only_reads_unset_on_the_other(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("a")]})
    assert ws.plan(out="plan.json").code == 0
    ws.write_snapshots({"/checkout": [snapshot("a", view_id="v2")]})

    outcome = ws.apply("plan.json")

    assert outcome.code == 1
    assert outcome.err.startswith(STALE)
    assert ': create desktop "a": field `"view_id"` is (unset) in the plan, "v2" now. ' in (
        outcome.err
    )


def test_a_patch_whose_changes_moved_says_what_each_was_and_is(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("p", start=9, view_id="new")]})
    [remote] = ws.seed(remote_attributes("p", start=1, view_id="new"))
    assert ws.plan(out="plan.json").code == 0
    # Since the plan: `start` was set as the plan wanted it, `view_id` was changed.
    moved = {"event_id": "evt-1", "start": 9, "is_device_type_selected_by_user": False}
    changed = ws.api(
        "PATCH", item_path(remote["id"]), update_body(remote["id"], moved | {"view_id": "old"})
    )
    assert changed.status_code == 200, changed.text

    outcome = ws.apply("plan.json")

    assert outcome.code == 1
    assert outcome.err.startswith(STALE)
    patch = f'patch desktop "p" id={remote["id"]}: '
    assert f'{patch}field `"start"` was 1 -> 9 in the plan, unchanged now; ' in outcome.err
    assert (
        f'{patch}field `"view_id"` was unchanged in the plan, "old" -> "new" now; ' in outcome.err
    )


def test_a_replace_edited_in_the_file_names_each_of_its_changes(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero v2", event_id="e-hero")]})
    [old] = ws.seed(remote_attributes("hero", event_id="e-hero"))
    assert ws.plan(out="plan.json").code == 0
    document = json.loads(Path("plan.json").read_text(encoding="utf-8"))
    [create, _] = document["operations"]
    create["replaces"]["changes"].append(
        {"field": "device_type", "old": "mobile", "new": "desktop"}
    )
    Path("plan.json").write_text(json.dumps(document), encoding="utf-8")

    outcome = ws.apply("plan.json")

    assert outcome.code == 1
    rename = '`"snapshot_name"` "hero" -> "hero v2"'
    assert (
        f': it replaces id={old["id"]} ({rename}, `"device_type"` "mobile" -> "desktop") in the '
        f"plan, id={old['id']} ({rename}) now" in outcome.err
    )
    assert [k[3] for k in ws.remote_keys()] == ["hero"]
