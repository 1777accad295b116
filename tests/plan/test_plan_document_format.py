"""The plan document (plan/planfile.py): every field a saved plan holds reads back as it was
written; the fields written for people (status, summary, counts, messages) say what the plan
is; the JSON is the documented shape (indent 2, UTF-8 as is); a file that is not a saved plan
is refused with one clear message saying where and why."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from reconciler import __version__
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import ListedView, RemovedView, ViewError, ViewScope
from reconciler.plan import planfile
from reconciler.plan.diff import diff
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import Plan, SafetyThresholds, build_plan
from support.factories import APP, APP2, have, key, want

SCOPE = ViewScope(APP, "/checkout")
FAILED = ViewScope(APP2, "/home")
REMOVED = ViewScope(APP, "/old")
DESIRED_FINGERPRINT = "sha256:" + "d" * 64
VIEW_FINGERPRINT = "sha256:" + "e" * 64


def document(**changes: Any) -> PlanDocument:
    """A plan with one operation of each kind, unsafe, incomplete, with every optional field
    set: nothing that reads back as a default can hide."""
    operations = diff(
        [
            want(key("hero v2"), event_id="e-hero"),
            want(key("kept"), start=9),
            want(key("dup")),
            want(key("new"), line=4),
        ],
        {
            SCOPE: [
                have(key("hero"), "id-hero", event_id="e-hero"),
                have(key("kept"), "id-kept"),
                have(key("dup"), "id-dup1", created_at="2026-01-01T00:00:00Z"),
                have(key("dup"), "id-dup2", created_at="2026-01-02T00:00:00Z"),
                have(key("gone"), "id-gone", event_id="e-gone"),
            ]
        },
    )
    thresholds = SafetyThresholds(max_delete_fraction=0.1, min_existing=1)
    values: dict[str, Any] = {
        "plan": build_plan(operations, {SCOPE: 5}, thresholds),
        "target_url": "http://127.0.0.1:8126",
        "site": "datadoghq.eu",
        "desired_fingerprint": DESIRED_FINGERPRINT,
        "views": (ListedView(SCOPE, 5, VIEW_FINGERPRINT),),
        "errors": (ViewError(FAILED, "GET /api/v2/...: 500 Internal Server Error"),),
        "targets": ("*",),
        "warnings": ("the listing left out `start` of 2 snapshots: café",),
        "git_commit": "c" * 40,
        "ignored": 2,
        "unpruned": 3,
        "removed_views": (RemovedView(REMOVED, 4),),
        "environment": "production",
        "applications": {APP: "storefront"},
    }
    return PlanDocument(**(values | changes))


def read_back(doc: PlanDocument) -> PlanDocument:
    return PlanDocument.from_dict(json.loads(doc.to_json()))


def test_every_saved_field_reads_back_as_written() -> None:
    doc = document()
    # Not saved: the view of each unsafe reason (a saved plan's verdict is recomputed).
    plan = Plan(doc.plan.operations, doc.plan.unsafe_reasons)
    assert doc.plan.unsafe_reasons  # the round trip carries reasons
    assert [op.kind for op in plan.operations] == [
        "replace",
        "create",
        "patch",
        "duplicate",
        "delete",
        "replaced",
    ]
    assert read_back(doc) == dataclasses.replace(doc, plan=plan)


def test_the_fields_written_for_people() -> None:
    data = document().to_dict()
    assert data["format_version"] == 3
    assert data["generator"] == f"reconciler {__version__}"
    assert (data["status"], data["safe"]) == ("incomplete", False)
    assert data["summary"] == {
        "create": 1,
        "patch": 1,
        "delete": 1,
        "duplicate": 1,
        "replace": 1,
        "text": (
            "Plan incomplete: 1 of 2 views could not be listed and were not planned. In the "
            "listed views: 1 to create, 1 to patch, 1 to delete, 1 to replace, 1 duplicate to "
            "remove."
        ),
    }
    assert data["errors"] == [
        {
            "application_id": APP2,
            "view_name": "/home",
            "message": "GET /api/v2/...: 500 Internal Server Error",
        }
    ]
    assert data["removed_views"] == [
        {
            "application_id": APP,
            "view_name": "/old",
            "snapshot_count": 4,
            "message": (
                f"view /old of application {APP} is no longer managed: 4 snapshots stay in "
                "Datadog; declare `/old: []` to delete them"
            ),
        }
    ]
    assert data["kept"] == {"ignored": 2, "unpruned": 3}
    complete = document(errors=()).to_dict()
    assert (complete["status"], complete["safe"]) == ("complete", False)


def test_the_json_is_indented_by_2_and_keeps_non_ascii_text() -> None:
    doc = document()
    text = doc.to_json()
    assert text == json.dumps(doc.to_dict(), indent=2, ensure_ascii=False) + "\n"
    assert text.startswith('{\n  "format_version": 3,\n  "generator": ')
    assert "café" in text


@pytest.mark.parametrize(
    "changes",
    [
        {"desired_fingerprint": None},
        {"views": (ListedView(SCOPE, 5, VIEW_FINGERPRINT), ListedView(FAILED, 1, None))},
    ],
)
def test_a_document_without_fingerprints_is_not_serialised(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^a plan document without fingerprints cannot be "):
        document(**changes).to_dict()


@pytest.mark.parametrize(
    ("changes", "summary"),
    [
        (
            {"errors": ()},
            "Plan: 1 to create, 1 to patch, 1 to delete, 1 to replace, 1 duplicate to remove.",
        ),
        (
            {"plan": Plan(())},
            "Plan incomplete: 1 of 2 views could not be listed and were not planned. "
            "In the listed views: no changes.",
        ),
        (
            {"plan": Plan(()), "views": ()},
            "Plan incomplete: 1 of 1 views could not be listed and were not planned.",
        ),
    ],
)
def test_the_summary_line(changes: dict[str, Any], summary: str) -> None:
    assert document(**changes).summary() == summary


def test_duplicates_are_counted_in_the_plural() -> None:
    operations = diff(
        [want(key("dup"))],
        {
            SCOPE: [
                have(key("dup"), f"id-{n}", created_at=f"2026-01-0{n}T00:00:00Z") for n in (1, 2, 3)
            ]
        },
    )
    assert build_plan(operations, {}).summary() == (
        "Plan: 0 to create, 0 to patch, 0 to delete, 2 duplicates to remove."
    )


def test_an_application_with_an_alias_is_named_by_it() -> None:
    doc = document()
    assert doc.application_name(APP) == f"storefront ({APP})"
    assert doc.application_name(APP2) == APP2


def test_a_format_2_plan_reads_with_the_defaults_of_its_time() -> None:
    data = document(environment=None, applications={}, removed_views=()).to_dict()
    for name in ("environment", "applications", "kept", "removed_views"):
        del data[name]
    data["format_version"] = 2
    doc = PlanDocument.from_dict(data)
    assert (doc.environment, doc.applications, doc.removed_views) == (None, {}, ())
    assert (doc.ignored, doc.unpruned) == (0, 0)


def refused(data: Any, source: str = "plan.json") -> str:
    with pytest.raises(ReconcilerError) as info:
        PlanDocument.from_dict(data, source=source)
    return str(info.value)


def test_an_unsupported_format_says_which_are_read() -> None:
    data = document().to_dict() | {"format_version": 4}
    assert refused(data) == (
        "plan.json: not a valid saved plan: format 4 is not supported (this reconciler reads "
        "formats 2, 3); make it again with `reconciler plan --out`"
    )


def test_the_plans_of_several_environments_are_not_a_saved_plan() -> None:
    assert refused({"environments": []}) == (
        "plan.json: not a saved plan: it holds the plans of several environments (the output "
        "of `plan --format json`); save one per environment with `plan --out PATH` (with "
        "{env} in PATH for several)"
    )
    both = document().to_dict() | {"environments": []}
    assert refused(both) == (
        "plan.json: not a valid saved plan: at (top level): Additional properties are not "
        "allowed ('environments' was unexpected)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "at (top level): [] is not of type 'object'"),
        ({}, "at (top level): 'format_version' is a required property"),
    ],
)
def test_a_document_that_is_no_object_is_refused_at_the_top_level(data: Any, message: str) -> None:
    assert refused(data) == f"plan.json: not a valid saved plan: {message}"


def test_a_schema_error_names_its_place_and_the_source_defaults_to_plan() -> None:
    data = document().to_dict()
    data["operations"][1]["action"] = "explode"
    assert refused(data).startswith("plan.json: not a valid saved plan: at operations/1/action: ")
    with pytest.raises(ReconcilerError, match=r"^plan: not a valid saved plan: at operations/1/"):
        PlanDocument.from_dict(data)


@pytest.mark.parametrize(("length", "shown"), [(273, 300), (274, 300)])
def test_a_long_schema_message_is_cut_at_300_characters(length: int, shown: int) -> None:
    data = document().to_dict()
    data["views"][0]["snapshot_count"] = "x" * length  # quoted whole by the message
    message = refused(data).removeprefix("plan.json: not a valid saved plan: at views/0/")
    message = message.removeprefix("snapshot_count: ")
    assert len(message) == shown
    assert message.endswith("…" if length == 274 else "is not of type 'integer'")


def test_read_refuses_what_is_not_a_readable_saved_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def message(path: Path) -> str:
        with pytest.raises(ReconcilerError) as info:
            PlanDocument.read(str(path))
        return str(info.value)

    missing = tmp_path / "missing.json"
    assert message(missing) == f"{missing}: cannot read saved plan: No such file or directory"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"x": "caf\xe9"}')
    assert message(latin) == f"{latin}: cannot read saved plan: not UTF-8 text"
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "x": }')
    assert message(broken) == (f"{broken}:2:8: not a saved plan: invalid JSON: Expecting value")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000)
    assert message(deep) == f"{deep}: not a saved plan: JSON nested too deeply"
    saved = tmp_path / "plan.json"
    document().write(str(saved))
    size = saved.stat().st_size
    monkeypatch.setattr(planfile, "MAX_PLAN_BYTES", size)
    assert PlanDocument.read(str(saved)) == read_back(document())
    monkeypatch.setattr(planfile, "MAX_PLAN_BYTES", size - 1)
    assert message(saved) == (
        f"{saved}: not a saved plan: {size} bytes, more than the {size - 1} a plan may have"
    )


def test_read_refuses_what_is_no_regular_file(tmp_path: Path) -> None:
    """A device or a FIFO is never read (/dev/zero would be read until memory runs out)."""
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    for path, kind in [("/dev/zero", "a character device"), (str(fifo), "a FIFO")]:
        with pytest.raises(ReconcilerError) as info:
            PlanDocument.read(path)
        assert str(info.value) == (
            f"{path}: cannot read saved plan: it is {kind}, not a regular file"
        )


def test_a_plan_is_never_written_through_a_symbolic_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    link = tmp_path / "plan.json"
    os.symlink(target, link)
    with pytest.raises(ReconcilerError) as info:
        document().write(str(link))
    assert str(info.value).startswith(f"{link}: cannot write saved plan: ")
    assert not target.exists()
