"""`reconciler export` and `export --merge` against the in-process emulator: exact files,
warnings, errors, and the guarantee that `plan` on an exported file shows no changes."""

from __future__ import annotations

import json

import pytest

from reconciler.api.listing import parse_snapshot
from reconciler.core.model import ViewScope
from reconciler.core.yamlload import load_bytes
from reconciler.desired.export import double_quoted, export_view, needs_quotes
from reconciler.desired.load import load_desired
from support.export_helpers import export
from support.workspace import APP, APP2, Workspace, remote_attributes

MODELINE = "# yaml-language-server: $schema=../schemas/snapshots.schema.json\n"


def test_exact_output_of_a_small_scenario(ws: Workspace) -> None:
    ws.seed(
        remote_attributes("hero", device="mobile", event_id="e-2", start=20),
        remote_attributes("hero", event_id="e-1", start=10, session_id="s-1", view_id="v-1"),
        remote_attributes("Checkout, desktop", selected=True, start=0),
        remote_attributes("about", view="/about"),
        remote_attributes("elsewhere", view="/unnamed"),
    )
    result = export(ws, "/checkout", "/home", "/about")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        MODELINE + f"application_id: {APP}\n"
        "views:\n"
        "  /about:\n"
        "    - snapshot_name: about\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 1500\n"
        "  /checkout:\n"
        "    - snapshot_name: Checkout, desktop\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 0\n"
        "      is_device_type_selected_by_user: true\n"
        "    - snapshot_name: hero\n"
        "      device_type: desktop\n"
        "      event_id: e-1\n"
        "      start: 10\n"
        "      session_id: s-1\n"
        "      view_id: v-1\n"
        "    - snapshot_name: hero\n"
        "      device_type: mobile\n"
        "      event_id: e-2\n"
        "      start: 20\n"
        "  /home: []\n"
    )


def test_output_file_then_plan_shows_no_changes(ws: Workspace) -> None:
    ws.seed(
        remote_attributes("a", session_id="s"),
        remote_attributes("b", device="tablet", selected=True),
        remote_attributes("c", view="/home", view_id="v"),
    )
    result = export(ws, "/checkout", "/home", "/empty", output="snapshots/x.yaml")
    assert (result.code, result.out, result.err) == (0, "", "")
    assert (ws.root / "snapshots/x.yaml").read_text().startswith(MODELINE)
    planned = ws.plan(detailed_exitcode=True)
    assert (planned.code, planned.out) == (0, "No changes.\n")


AWKWARD = [
    "yes",
    "No",
    "ON",
    "y",
    "~",
    "null",
    "true",
    "1500",
    "-1",
    "0x1F",
    "0o17",
    "017",
    "1e3",
    "1_000",
    "1:20",
    ".inf",
    ".NaN",
    "2026-01-01",
    "/home: x",
    "a #b",
    "ends:",
    " leading",
    "trailing ",
    "- dash",
    "?q",
    "[x]",
    "{x}",
    "*star",
    "&anchor",
    "!tag",
    "%pct",
    "@at",
    "`tick",
    "'single'",
    '"double"',
    "back\\slash",
    "tab\there",
    "line\nbreak",
    "crlf\r\n",
    "nel\x85",
    "ls\u2028ps\u2029",
    "bom\ufeff",
    "nbsp\u00a0",
    "zero\u200bwidth",
    "bell\x07",
    "del\x7f",
    "café ☕ 日本 🎉",
    "...",
    "---",
    "=",
    "<<",
    "#hash",
    "a: b",
    "|pipe",
    ">fold",
    "/search?q=[1]&x={y}",
    "Checkout, desktop hero",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_strings_round_trip_through_the_loader(text: str) -> None:
    written = double_quoted(text) if needs_quotes(text) else text
    document = load_bytes(f"{written}: {written}\n".encode())
    assert document.problems == ()
    assert document.value == {text: text}


def test_plain_strings_are_plain() -> None:
    for text in ("hero", "/checkout", "Checkout, desktop hero", "0f8f2c1a-2f0b-4a55-9c1d-0d3f5"):
        assert not needs_quotes(text)
    for text in ("yes", "1500", "null", "/home: x", " x"):
        assert needs_quotes(text)


def test_awkward_strings_export_and_plan_clean(ws: Workspace) -> None:
    names = [text for text in AWKWARD if text.strip()]
    ws.seed(
        *(
            remote_attributes(name, view=f"/v {name}", event_id=name, session_id=name)
            for name in names
        )
    )
    views = [f"/v {name}" for name in names]
    result = export(ws, *views, output="snapshots/x.yaml")
    assert result.code == 0, result.err
    state, problems = load_desired(["snapshots/x.yaml"])
    assert problems == []
    assert sorted((s.key.view_name, s.key.snapshot_name) for s in state.snapshots) == sorted(
        (f"/v {name}", name) for name in names
    )
    assert {s.fields["event_id"] for s in state.snapshots} == set(names)
    assert {s.fields["session_id"] for s in state.snapshots} == set(names)
    assert ws.plan(detailed_exitcode=True).out == "No changes.\n"


def test_duplicates_exported_once_with_a_warning(ws: Workspace) -> None:
    old, new = ws.seed(
        remote_attributes("hero", start=1, created_at="2026-01-01T00:00:00.000Z"),
        remote_attributes("hero", start=2, created_at="2026-02-01T00:00:00.000Z"),
    )
    result = export(ws, "/checkout", output="snapshots/x.yaml")
    assert result.code == 0
    assert result.err == (
        f'warning: duplicate remote snapshots /checkout desktop "hero": ids {old["id"]}, '
        f"{new['id']}; exported {old['id']} (the oldest); plan will delete the others as "
        "duplicates\n"
    )
    text = (ws.root / "snapshots/x.yaml").read_text()
    assert text.count("snapshot_name: hero") == 1
    assert "start: 1\n" in text
    planned = ws.plan(detailed_exitcode=True)
    assert planned.code == 2
    assert planned.out.endswith(
        "Plan: 0 to create, 0 to patch, 0 to delete, 1 duplicate to remove.\n"
    )
    assert f"id={new['id']}\n    reason: duplicate" in planned.out


def test_snapshot_missing_a_required_field_is_skipped_with_a_warning() -> None:
    # The emulator refuses such a snapshot; another client or an API change could list one.
    broken = remote_attributes("broken", start=-1)
    del broken["event_id"]
    items = [
        {"id": "id-ok", "type": "snapshots", "attributes": remote_attributes("ok")},
        {"id": "id-broken", "type": "snapshots", "attributes": broken},
        {"id": "id-neg", "type": "snapshots", "attributes": remote_attributes("neg", start=-1)},
    ]
    parsed = [parse_snapshot(item, ViewScope(APP, "/checkout")) for item in items]
    view = export_view("/checkout", [p for p in parsed if p is not None])
    assert [entry["snapshot_name"] for entry in view.entries] == ["ok"]
    assert view.warnings == (
        'warning: skipped /checkout desktop "broken" (id id-broken): it has no event_id, '
        "which a snapshots file cannot express; its view is managed, so plan would delete it",
        'warning: skipped /checkout desktop "neg" (id id-neg): it has no start that is an '
        "integer >= 0, which a snapshots file cannot express; its view is managed, so plan "
        "would delete it",
    )


def test_truncated_view_is_an_error_and_nothing_is_written(ws: Workspace) -> None:
    ws.seed(*(remote_attributes(f"s{i}") for i in range(5)))
    ws.seed(remote_attributes("h", view="/home"))
    result = export(ws, "/checkout", "/home", output="snapshots/x.yaml", page_limit=5)
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        f"error: nothing was written: view /checkout of application {APP}: listing returned 5 "
        "snapshots, the page size: it may be truncated (the API has no cursor); raise "
        "page_limit (now 5)\n"
    )
    assert not (ws.root / "snapshots/x.yaml").exists()


def test_bad_application_id_and_missing_keys(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = export(ws, "/checkout", application_id="not-a-uuid")
    assert (result.code, result.err) == (1, "error: --application-id 'not-a-uuid' is not a UUID\n")
    monkeypatch.delenv("DD_API_KEY")
    result = export(ws, "/checkout", output="snapshots/x.yaml")
    assert result.code == 1
    assert result.err.startswith("error: ")
    assert not (ws.root / "snapshots/x.yaml").exists()


COMMENTED = f"""\
# yaml-language-server: $schema=../schemas/snapshots.schema.json
# Heatmaps of the shop. Owned by the web team.
application_id: {APP}  # production app
views:
  # The checkout funnel.
  /checkout:  # reviewed 2026-01
    # Hero, as designed.
    - snapshot_name: hero  # the big one
      device_type: desktop
      event_id: evt-1  # from the golden session
      start: 1500
    # Retired in the redesign.
    - snapshot_name: old
      device_type: desktop
      event_id: evt-1
      start: 1500  # stale?
    # Mobile hero: keep in sync with desktop.
    - snapshot_name: hero
      device_type: mobile
      event_id: "evt-1"
      start: 100  # ms
      session_id: s-1  # pinned
  # Not exported this time: left as it is.
  /home:
    - snapshot_name: home  # untouched
      device_type: tablet
      event_id: evt-9
      start: 9
  /about: []  # nothing yet
# end of file
"""


def test_merge_keeps_comments_and_updates_in_place(ws: Workspace) -> None:
    path = ws.write("snapshots/shop.yaml", COMMENTED)
    ws.seed(
        remote_attributes("hero", event_id="evt-2"),  # changed
        remote_attributes("hero", device="mobile", start=100, session_id="s-1"),
        remote_attributes("new", device="tablet", start=7),  # new
        remote_attributes("n1", view="/new"),  # a new view
        remote_attributes(
            "home", view="/home", device="tablet", start=999
        ),  # /home is not named: untouched
    )
    result = export(ws, "/checkout", "/about", "/new", merge="snapshots/shop.yaml")
    assert result.code == 0, result.err
    assert result.out == ""
    assert result.err == 'removed: /checkout desktop "old" (no longer exists remotely)\n'
    assert path.read_text() == (
        f"""\
# yaml-language-server: $schema=../schemas/snapshots.schema.json
# Heatmaps of the shop. Owned by the web team.
application_id: {APP}  # production app
views:
  # The checkout funnel.
  /checkout:  # reviewed 2026-01
    # Hero, as designed.
    - snapshot_name: hero  # the big one
      device_type: desktop
      event_id: evt-2  # from the golden session
      start: 1500
    # Mobile hero: keep in sync with desktop.
    - snapshot_name: hero
      device_type: mobile
      event_id: "evt-1"
      start: 100  # ms
      session_id: s-1  # pinned
    - snapshot_name: new
      device_type: tablet
      event_id: evt-1
      start: 7
  # Not exported this time: left as it is.
  /home:
    - snapshot_name: home  # untouched
      device_type: tablet
      event_id: evt-9
      start: 9
  /about: []  # nothing yet
  /new:
    - snapshot_name: n1
      device_type: desktop
      event_id: evt-1
      start: 1500
# end of file
"""
    )
    # Every comment line of an entry that was not removed is still there, as it was.
    kept = path.read_text().splitlines()
    for line in COMMENTED.splitlines():
        if "#" in line and "old" not in line and "Retired" not in line and "stale" not in line:
            assert line.replace("evt-1  # from", "evt-2  # from") in kept, line
    # The merged views are now in sync; /home still differs (it was not named).
    planned = ws.plan(output_format="json")
    assert planned.code == 0
    operations = json.loads(planned.out)["operations"]
    assert [(op["action"], op["view_name"]) for op in operations] == [("patch", "/home")]


def test_merge_with_nothing_changed_leaves_the_file_byte_for_byte(ws: Workspace) -> None:
    path = ws.write("snapshots/shop.yaml", COMMENTED)
    ws.seed(
        remote_attributes("hero"),
        remote_attributes("old"),
        remote_attributes("hero", device="mobile", start=100, session_id="s-1"),
    )
    result = export(ws, "/checkout", "/about", merge="snapshots/shop.yaml")
    assert (result.code, result.err) == (0, "")
    assert path.read_text() == COMMENTED


def test_merge_into_another_application_is_an_error(ws: Workspace) -> None:
    path = ws.write("snapshots/shop.yaml", COMMENTED)
    result = export(ws, "/checkout", application_id=APP2, merge="snapshots/shop.yaml")
    assert result.code == 1
    assert result.err == (
        f"error: snapshots/shop.yaml is for application {APP}, not {APP2}; "
        "export into another file instead\n"
    )
    assert path.read_text() == COMMENTED


def test_merge_into_an_invalid_file_reports_its_problems(ws: Workspace) -> None:
    ws.write("snapshots/bad.yaml", f"application_id: {APP}\nviews:\n  /x: [{{start: 1}}]\n")
    result = export(ws, "/x", merge="snapshots/bad.yaml")
    assert result.code == 1
    assert result.err.startswith("snapshots/bad.yaml:3:")


def test_output_and_merge_together_is_a_usage_error(ws: Workspace) -> None:
    result = export(ws, "/x", output="a.yaml", merge="b.yaml")
    assert result.code == 1
    assert result.err == "error: --output and --merge cannot be combined: --merge updates FILE\n"
