"""`reconciler plan` against the real emulator, in-process: each case of SPEC section 5,
the exact outputs, saved plans and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.plan.planfile import PlanDocument
from support.workspace import APP, APP2, Workspace, remote_attributes, snapshot

PLAN_SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json").read_text()
)


def test_creates_are_planned_and_detailed_exitcode_says_changes(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero"), snapshot("hero", device="mobile")]})
    result = ws.plan(detailed_exitcode=True)
    assert result.code == 2
    assert result.out == (
        f'+ create /checkout desktop "hero" (application {APP})\n'
        '    event_id                        = "evt-1"\n'
        "    start                           = 1500\n"
        "    is_device_type_selected_by_user = false\n"
        f'+ create /checkout mobile "hero" (application {APP})\n'
        '    event_id                        = "evt-1"\n'
        "    start                           = 1500\n"
        "    is_device_type_selected_by_user = false\n"
        "\n"
        "Plan: 2 to create, 0 to patch, 0 to delete.\n"
    )
    assert ws.plan().code == 0  # changes without --detailed-exitcode: 0


def test_in_sync_is_no_changes_and_exit_0(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero", session_id="s-1")]})
    ws.seed(remote_attributes("hero", session_id="s-1"))
    result = ws.plan(detailed_exitcode=True)
    assert (result.code, result.out) == (0, "No changes.\n")


def test_patch_shows_each_field_old_to_new(ws: Workspace) -> None:
    ws.write_snapshots(
        {"/checkout": [snapshot("hero", event_id="evt-2", start=2000, view_id="v-9")]}
    )
    [seeded] = ws.seed(remote_attributes("hero"))
    result = ws.plan(detailed_exitcode=True)
    assert result.code == 2
    assert result.out == (
        f'~ patch /checkout desktop "hero" (application {APP}) id={seeded["id"]}\n'
        '    event_id : "evt-1" -> "evt-2"\n'
        "    start    : 1500 -> 2000\n"
        '    view_id  : (unset) -> "v-9"\n'
        "\n"
        "Plan: 0 to create, 1 to patch, 0 to delete.\n"
    )


def test_undeclared_remote_snapshot_in_a_managed_view_is_deleted(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [], "/home": [snapshot("hero")]})
    [old] = ws.seed(remote_attributes("old"))
    ws.seed(remote_attributes("hero", view="/home"))
    ws.seed(remote_attributes("untouched", view="/unmanaged"))
    result = ws.plan()
    assert result.out == (
        f'- delete /checkout desktop "old" (application {APP}) id={old["id"]}\n'
        "    reason: not declared\n"
        "\n"
        "Plan: 0 to create, 0 to patch, 1 to delete.\n"
    )


def test_prune_off_and_ignore_globs_protect(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": []})
    ws.seed(remote_attributes("manual: keep"), remote_attributes("old"))
    assert (
        ws.plan(prune=False).out == "Not deleted: 2 deletes left out (prune: false).\nNo changes.\n"
    )
    ws.write("reconciler.yaml", "ignore:\n  - 'manual:*'\n")
    assert ws.plan().out.endswith(
        "Not deleted: 1 snapshot kept by ignore.\nPlan: 0 to create, 0 to patch, 1 to delete.\n"
    )
    assert '"manual: keep"' not in ws.plan().out


def test_duplicates_are_shown_as_such(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.seed(
        remote_attributes("hero", created_at="2026-01-01T00:00:00.000Z"),
        remote_attributes("hero", start=1, created_at="2026-02-01T00:00:00.000Z"),
    )
    result = ws.plan(output_format="json")
    document = json.loads(result.out)
    assert [(op["action"], op["reason"]) for op in document["operations"]] == [
        ("delete", "duplicate")
    ]


def test_key_change_is_a_replace_create_first(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero", device="tablet")]})
    ws.seed(remote_attributes("hero", device="desktop"))
    document = json.loads(ws.plan(output_format="json").out)
    old_id = document["operations"][1]["snapshot_id"]
    assert [(op["action"], op["device_type"], op["reason"]) for op in document["operations"]] == [
        ("create", "tablet", f"replaces {old_id}"),
        ("delete", "desktop", "replaced"),
    ]
    assert document["operations"][0]["replaces"] == {
        "snapshot_id": old_id,
        "changes": [{"field": "device_type", "old": "desktop", "new": "tablet"}],
    }
    assert (
        document["summary"]["text"] == "Plan: 0 to create, 0 to patch, 0 to delete, 1 to replace."
    )


def test_optional_field_absent_is_not_managed(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.seed(remote_attributes("hero", session_id="s-remote", view_id="v-remote"))
    assert ws.plan().out == "No changes.\n"


def test_truncated_listing_is_an_error_and_never_planned(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("a")], "/home": [snapshot("b")]})
    ws.seed(*(remote_attributes(f"s{i}") for i in range(5)))
    result = ws.plan(page_limit=5, detailed_exitcode=True)
    assert result.code == 1
    assert "/checkout" not in result.out.split("Error:")[0]  # nothing planned for it
    assert f'+ create /home desktop "b" (application {APP})' in result.out
    assert (
        f"Error: view /checkout of application {APP}: listing returned 5 snapshots, the page "
        "size: it may be truncated (the API has no cursor); raise page_limit (now 5)"
    ) in result.out


def test_unsafe_plan_is_flagged(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot(f"s{i}") for i in range(6)]})
    ws.seed(*(remote_attributes(f"s{i}") for i in range(10)))
    result = ws.plan()
    assert result.code == 0
    assert (
        f"Warning: unsafe plan: view /checkout of application {APP}: would delete 4 of 10 "
        "existing snapshots (40% > 30% allowed)\n"
        "Warning: apply will refuse this plan without --force.\n"
        "Plan: 0 to create, 0 to patch, 4 to delete.\n"
    ) in result.out


def test_json_output_matches_the_schema_and_is_deterministic(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("a"), snapshot("b", start=5)]})
    ws.write_snapshots({"/home": [snapshot("c")]}, app=APP2, name="b.yaml")
    ws.seed(remote_attributes("b"), remote_attributes("z", start=99))
    first = ws.plan(output_format="json").out
    second = ws.plan(output_format="json").out
    assert first == second
    document = json.loads(first)
    assert list(Draft202012Validator(PLAN_SCHEMA).iter_errors(document)) == []
    assert document["summary"] == {
        "create": 2,
        "patch": 1,
        "delete": 1,
        "duplicate": 0,
        "replace": 0,
        "text": "Plan: 2 to create, 1 to patch, 1 to delete.",
    }
    assert (document["status"], document["format_version"]) == ("complete", 3)
    assert "test-api-key" not in first


def test_markdown_output(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("a|b")]})
    result = ws.plan(output_format="markdown")
    assert result.out == (
        "### reconciler plan\n"
        "\n"
        "**Plan: 1 to create, 0 to patch, 0 to delete.**\n"
        "\n"
        "Planned against API host `127.0.0.1:9`, commit unknown.\n"
        "\n"
        f"#### Application `{APP}`\n"
        "\n"
        "| view | create | replace | patch | delete | duplicate |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        "| `/checkout` | 1 | 0 | 0 | 0 | 0 |\n"
        "\n"
        "| | action | view | device | snapshot | details |\n"
        "|---|---|---|---|---|---|\n"
        '| ➕ | create | `/checkout` | `desktop` | `a\\|b` | `event_id` = `"evt-1"`<br>'
        "`start` = `1500`<br>`is_device_type_selected_by_user` = `false` |\n"
    )


def test_target_restricts_the_plan(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero"), snapshot("banner")], "/home": []})
    ws.seed(remote_attributes("old", view="/home"))
    names = [
        op["snapshot_name"]
        for op in json.loads(ws.plan(output_format="json", targets=("ban*",)).out)["operations"]
    ]
    assert names == ["banner"]
    names = [
        op["snapshot_name"]
        for op in json.loads(ws.plan(output_format="json", targets=("/home",)).out)["operations"]
    ]
    assert names == ["old"]


def test_saved_plan_round_trips_through_show(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.seed(remote_attributes("old"))
    result = ws.plan(out="plan.json")
    assert result.code == 0
    assert "Saved plan to plan.json" in result.err
    document = PlanDocument.read("plan.json")
    assert document.target_url == "http://127.0.0.1:9"
    assert [op.phase for op in document.plan.operations] == ["create", "delete"]
    from reconciler.cli.commands import show

    shown = ws._run(lambda: show.run(plan_path="plan.json", output_format="text", color=False))
    assert shown.out == result.out
    assert "test-api-key" not in Path("plan.json").read_text()


def test_fingerprints_change_with_remote_and_desired_state(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.seed(remote_attributes("hero"))
    base = json.loads(ws.plan(output_format="json").out)
    ws.seed(remote_attributes("other", view="/checkout"))
    remote_changed = json.loads(ws.plan(output_format="json").out)
    assert remote_changed["views"][0]["fingerprint"] != base["views"][0]["fingerprint"]
    assert remote_changed["desired_fingerprint"] == base["desired_fingerprint"]
    ws.write_snapshots({"/checkout": [snapshot("hero", start=1)]})
    desired_changed = json.loads(ws.plan(output_format="json").out)
    assert desired_changed["desired_fingerprint"] != base["desired_fingerprint"]


def test_invalid_files_stop_before_any_request(ws: Workspace) -> None:
    ws.write("snapshots/bad.yaml", "application_id: nope\nviews: {}\n")
    result = ws.plan()
    assert result.code == 1
    assert result.err.startswith("snapshots/bad.yaml:1:")
    assert ws.stats()["total_requests"] == 0


def test_bad_keys_are_one_clear_error(ws: Workspace, monkeypatch: object) -> None:
    ws.settings.accepted_keys = (("right", "keys"),)
    ws.write_snapshots({"/checkout": [], "/home": []})
    result = ws.plan()
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "403" in result.err
    assert "DD_API_KEY" in result.err
    assert "test-api-key" not in result.err


def test_missing_keys_name_the_variables(ws: Workspace, monkeypatch: object) -> None:
    import os

    ws.write_snapshots({"/checkout": []})
    del os.environ["DD_APP_KEY"]
    result = ws.plan()
    assert result.code == 1
    assert "DD_APP_KEY" in result.err


def test_bad_files_are_reported_before_missing_keys(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DD_API_KEY")
    ws.write("snapshots/bad.yaml", "application_id: nope\nviews: {}\n")
    result = ws.plan()
    assert result.code == 1
    assert result.err.startswith("snapshots/bad.yaml:1:")
    assert "DD_API_KEY" not in result.err


def test_failed_views_are_never_a_green_plan_in_any_format(ws: Workspace) -> None:
    """Issue 11, 10: every view failed -> no "No changes.", no bare `"safe": true`."""
    ws.write_snapshots({"/checkout": [], "/home": []})
    ws.seed(*(remote_attributes(f"s{i}") for i in range(3)))
    ws.seed(*(remote_attributes(f"h{i}", view="/home") for i in range(3)))
    text = ws.plan(page_limit=3)
    assert text.code == 1
    assert "No changes" not in text.out
    assert text.out.endswith(
        "Plan incomplete: 2 of 2 views could not be listed and were not planned.\n"
    )
    markdown = ws.plan(page_limit=3, output_format="markdown")
    assert "No changes" not in markdown.out
    assert "**Plan incomplete: 2 of 2 views could not be listed and were not planned.**" in (
        markdown.out
    )
    document = json.loads(ws.plan(page_limit=3, output_format="json").out)
    assert list(Draft202012Validator(PLAN_SCHEMA).iter_errors(document)) == []
    assert (document["status"], document["safe"]) == ("incomplete", False)
    assert document["summary"]["text"].startswith("Plan incomplete: 2 of 2 views")


def test_one_failed_view_of_two_says_so_beside_the_other_views_plan(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [], "/home": [snapshot("b")]})
    ws.seed(*(remote_attributes(f"s{i}") for i in range(3)))
    result = ws.plan(page_limit=3)
    assert result.code == 1
    assert result.out.endswith(
        "Plan incomplete: 1 of 2 views could not be listed and were not planned. "
        "In the listed views: 1 to create, 0 to patch, 0 to delete.\n"
    )
    ws.write_snapshots({"/checkout": [], "/home": []})
    assert ws.plan(page_limit=3).out.endswith(" In the listed views: no changes.\n")


def test_a_duplicate_is_shown_as_its_own_kind(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    [kept, extra] = ws.seed(
        remote_attributes("hero", created_at="2026-01-01T00:00:00Z"),
        remote_attributes("hero", created_at="2026-01-01T00:00:00.5Z"),
    )
    result = ws.plan()
    assert result.out == (
        f'- delete duplicate /checkout desktop "hero" (application {APP}) id={extra["id"]}\n'
        "    reason: duplicate (a copy with the same key is kept)\n"
        "\n"
        "Plan: 0 to create, 0 to patch, 0 to delete, 1 duplicate to remove.\n"
    )
    markdown = ws.plan(output_format="markdown").out
    assert "| ➖ | duplicate | `/checkout` |" in markdown
    assert f"duplicate, a copy is kept (id `{extra['id']}`)" in markdown
    summary = json.loads(ws.plan(output_format="json").out)["summary"]
    assert (summary["delete"], summary["duplicate"]) == (0, 1)
    assert kept["id"] not in result.out


def test_fingerprints_are_computed_only_for_saved_and_json_plans(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: text and markdown plans do not pay for fingerprints they never show."""
    import reconciler.api.listing
    import reconciler.plan.engine

    calls: list[str] = []

    def counting(name: str, real: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            calls.append(name)
            return real(*args)

        return wrapper

    monkeypatch.setattr(
        reconciler.api.listing,
        "view_fingerprint",
        counting("view", reconciler.api.listing.view_fingerprint),
    )
    monkeypatch.setattr(
        reconciler.plan.engine,
        "desired_fingerprint",
        counting("desired", reconciler.plan.engine.desired_fingerprint),
    )
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.plan()
    ws.plan(output_format="markdown")
    assert calls == []
    ws.plan(output_format="json")
    assert sorted(calls) == ["desired", "view"]
    ws.plan(out="plan.json")
    assert sorted(calls) == ["desired", "desired", "view", "view"]
