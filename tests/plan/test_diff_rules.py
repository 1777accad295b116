"""Rules of the diff that its report and its operations show: deletes that were not planned
are reported apart (kept by `ignore`, left by `prune: false`); a desired snapshot of a view
that was not listed is skipped alone, never the ones after it; a patch lists its changes in
the fields' documented order and points at the snapshot's line; the survivor among copies is
the oldest to the microsecond, in any year; a create matching two old snapshots stays a
create, an old snapshot matching two creates stays a delete, and in both cases the pairs
after them in the same group are still made."""

from __future__ import annotations

import pytest

from reconciler.core.model import SourcePosition, ViewScope
from reconciler.plan.diff import DiffOptions, diff, diff_report
from reconciler.plan.operations import Create, Delete, FieldChange, Patch
from support.factories import APP, have, key, want

SCOPE = ViewScope(APP, "/checkout")


def test_deletes_not_planned_are_reported_as_ignored_or_unpruned() -> None:
    listed = [have(key("tmp-1"), "id-tmp"), have(key("old"), "id-old"), have(key("tmp-2"), "i2")]
    report = diff_report([], {SCOPE: listed}, DiffOptions(prune=False, ignore=("tmp-*",)))
    assert report.operations == []
    assert report.ignored == (key("tmp-1"), key("tmp-2"))
    assert report.unpruned == (key("old"),)


def test_a_snapshot_of_a_view_not_listed_is_skipped_alone() -> None:
    unlisted = want(key("elsewhere", view="/unlisted"))
    operations = diff([unlisted, want(key("a")), want(key("b"))], {SCOPE: []})
    assert [op.key.snapshot_name for op in operations] == ["a", "b"]


def test_a_patch_lists_its_changes_in_field_order_at_the_snapshots_line() -> None:
    desired = want(key("p"), line=12, start=9, selected=True, view_id="v2")
    listed = have(key("p"), "id-p", start=1, selected=False, view_id="v1")
    [patch] = diff([desired], {SCOPE: [listed]})
    assert isinstance(patch, Patch)
    assert patch.changes == (
        FieldChange("start", 1, 9),
        FieldChange("is_device_type_selected_by_user", False, True),
        FieldChange("view_id", "v1", "v2"),
    )
    assert patch.position == SourcePosition("snapshots/a.yaml", 12, 7)


@pytest.mark.parametrize("year", ["2026", "9999"])
def test_the_oldest_copy_survives_by_one_microsecond(year: str) -> None:
    older = have(key("dup"), "id-b", created_at=f"{year}-01-01T00:00:00.000002Z", start=7)
    newer = have(key("dup"), "id-a", created_at=f"{year}-01-01T00:00:00.000003Z", start=8)
    operations = diff([want(key("dup"), start=9)], {SCOPE: [newer, older]})
    # The diff's operations are unordered (the planner orders them).
    assert sorted((type(op).__name__, getattr(op, "snapshot_id", None)) for op in operations) == [
        ("Delete", "id-a"),
        ("Patch", "id-b"),
    ]


def test_a_create_matching_two_old_snapshots_stays_a_create_and_later_pairs_are_made() -> None:
    # One (event_id, start) group: "x" desktop could rename "y" desktop or move "x" mobile
    # (ambiguous: no replace); "z" tablet replaces "z" mobile alone.
    desired = [want(key("x")), want(key("z", device="tablet"))]
    listed = [
        have(key("x", device="mobile"), "id-x-mobile"),
        have(key("y"), "id-y"),
        have(key("z", device="mobile"), "id-z-mobile"),
    ]
    operations = diff(desired, {SCOPE: listed})
    creates = {op.key.snapshot_name: op for op in operations if isinstance(op, Create)}
    deletes = {op.snapshot_id: op.delete_reason for op in operations if isinstance(op, Delete)}
    assert creates["x"].replaces is None
    replaced = creates["z"].replaces
    assert replaced is not None
    assert replaced.snapshot_id == "id-z-mobile"
    assert replaced.changes == (FieldChange("device_type", "mobile", "tablet"),)
    assert deletes == {
        "id-x-mobile": "not declared",
        "id-y": "not declared",
        "id-z-mobile": "replaced",
    }


def test_an_old_snapshot_matching_two_creates_stays_a_delete_and_later_pairs_are_made() -> None:
    # One group: "x" mobile could become "x" desktop or "x" tablet (ambiguous: no replace);
    # "q" mobile becomes "q" tablet alone.
    desired = [want(key("x")), want(key("x", device="tablet")), want(key("q", device="tablet"))]
    listed = [have(key("x", device="mobile"), "id-x"), have(key("q", device="mobile"), "id-q")]
    operations = diff(desired, {SCOPE: listed})
    replaced = {
        (op.key.snapshot_name, op.key.device_type): op.replaces and op.replaces.snapshot_id
        for op in operations
        if isinstance(op, Create)
    }
    assert replaced == {("x", "desktop"): None, ("x", "tablet"): None, ("q", "tablet"): "id-q"}
    deletes = {op.snapshot_id: op.delete_reason for op in operations if isinstance(op, Delete)}
    assert deletes == {"id-x": "not declared", "id-q": "replaced"}
