"""plan.attribution: each operation and field labelled change, drift or conflict from the
files at the base, the files now and the listing; the edge cases docs/drift.md names."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from reconciler.core.model import DesiredState, RemoteSnapshot
from reconciler.plan.attribution import (
    Attribution,
    FieldAttribution,
    OperationAttribution,
    attribute,
)
from reconciler.plan.diff import diff
from reconciler.plan.planner import build_plan
from support.factories import have, key, state, want

HERO, PROMO = key("Hero"), key("Promo")


def attributed(
    base: DesiredState, desired: DesiredState, remote: Sequence[RemoteSnapshot]
) -> tuple[list[tuple[str, str, str | None]], Attribution]:
    """(kind, name, label) of each operation of the plan, and the attribution."""
    listed = {
        scope.scope: [r for r in remote if r.key.scope == scope.scope] for scope in desired.views
    }
    plan = build_plan(diff(desired.snapshots, listed), {})
    found = attribute(plan.operations, "main", "c" * 40, base, listed)
    labels = []
    for op in plan.operations:
        labelled = found.of(op)
        labels.append((op.kind, op.key.snapshot_name, None if labelled is None else labelled.label))
    return labels, found


def only(found: Attribution) -> OperationAttribution:
    [labelled] = found.operations.values()
    return labelled


def test_a_field_changed_in_the_files_only_is_a_change() -> None:
    labels, found = attributed(
        state(want(HERO, start=1700)), state(want(HERO, start=1600)), [have(HERO, "h", start=1700)]
    )
    assert labels == [("patch", "Hero", "change")]
    assert only(found).fields == (FieldAttribution("start", "change", 1700, 1700, 1600),)


def test_a_field_changed_in_datadog_only_is_drift_with_its_modified_at() -> None:
    edited = have(HERO, "h", start=1650)
    edited = dataclasses.replace(
        edited, attributes={**edited.attributes, "modified_at": "2026-01-02T00:00:00.000Z"}
    )
    labels, found = attributed(
        state(want(HERO, start=1700)), state(want(HERO, start=1700)), [edited]
    )
    assert labels == [("patch", "Hero", "drift")]
    assert only(found) == OperationAttribution(
        "drift",
        (FieldAttribution("start", "drift", 1700, 1650, 1700),),
        modified_at="2026-01-02T00:00:00.000Z",
    )


def test_one_field_on_each_side_makes_the_snapshot_a_conflict_with_each_field_labelled() -> None:
    labels, found = attributed(
        state(want(HERO, event_id="a", start=1700)),
        state(want(HERO, event_id="b", start=1700)),
        [have(HERO, "h", event_id="a", start=1650)],
    )
    assert labels == [("patch", "Hero", "conflict")]
    assert only(found).fields == (
        FieldAttribution("event_id", "change", "a", "a", "b"),
        FieldAttribution("start", "drift", 1700, 1650, 1700),
    )


def test_the_same_field_on_both_sides_keeps_the_three_values() -> None:
    _, found = attributed(
        state(want(HERO, start=1700)), state(want(HERO, start=1600)), [have(HERO, "h", start=1650)]
    )
    assert only(found).label == "conflict"
    assert only(found).fields == (FieldAttribution("start", "conflict", 1700, 1650, 1600),)


def test_a_field_the_listing_left_out_is_never_an_edit_in_datadog() -> None:
    sparse = dataclasses.replace(have(HERO, "h", start=1650), unreported=frozenset({"start"}))
    labels, _ = attributed(state(want(HERO, start=1700)), state(views=(HERO.scope,)), [sparse])
    assert labels == [("delete", "Hero", "change")]
    labels, _ = attributed(
        state(want(HERO, start=1700)), state(views=(HERO.scope,)), [have(HERO, "h", start=1650)]
    )
    assert labels == [("delete", "Hero", "conflict")]


def test_a_view_the_base_did_not_manage_is_all_change() -> None:
    """A base without the file: adopting the view is the files' decision."""
    labels, _ = attributed(
        state(),
        state(want(HERO, start=1600), want(PROMO, event_id="e-promo")),
        [have(HERO, "h", start=1650), have(key("Manual"), "m")],
    )
    assert labels == [
        ("create", "Promo", "change"),
        ("patch", "Hero", "change"),
        ("delete", "Manual", "change"),
    ]


def test_deleted_in_datadog_is_drift_and_conflict_when_the_files_edited_it() -> None:
    base = state(want(HERO, start=1700), want(PROMO, start=5))
    labels, found = attributed(base, state(want(HERO, start=1700), want(PROMO, start=6)), [])
    assert labels == [("create", "Hero", "drift"), ("create", "Promo", "conflict")]
    hero, promo = found.operations.values()
    assert hero == OperationAttribution("drift", deleted_remotely=True)
    assert promo.fields == (FieldAttribution("start", "conflict", 5, None, 6),)


def test_created_in_datadog_is_drift_with_its_creator() -> None:
    manual = have(key("Manual"), "m")
    manual = dataclasses.replace(
        manual, attributes={**manual.attributes, "created_by_handle": "alice@example.com"}
    )
    labels, found = attributed(state(want(HERO)), state(want(HERO)), [have(HERO, "h"), manual])
    assert labels == [("delete", "Manual", "drift")]
    assert only(found).created_by_handle == "alice@example.com"
    assert only(found).created_remotely


def test_removed_from_the_files_is_a_change_and_a_conflict_when_datadog_edited_it() -> None:
    base = state(want(HERO, start=1700), want(PROMO, start=5))
    labels, found = attributed(
        base, state(views=(HERO.scope,)), [have(HERO, "h", start=1700), have(PROMO, "p", start=9)]
    )
    assert labels == [("delete", "Hero", "change"), ("delete", "Promo", "conflict")]
    assert found.operations[("delete", PROMO, "p")].fields == (
        FieldAttribution("start", "conflict", 5, 9, None),
    )


def test_a_duplicate_copy_is_drift() -> None:
    labels, _ = attributed(
        state(want(HERO)),
        state(want(HERO)),
        [
            have(HERO, "a", created_at="2026-01-01T00:00:00Z"),
            have(HERO, "b", created_at="2026-01-02T00:00:00Z"),
        ],
    )
    assert labels == [("duplicate", "Hero", "drift")]


def test_a_rename_in_the_files_of_a_snapshot_edited_in_datadog_is_a_conflict() -> None:
    """A replace on one side and an edit on the other: the replace would drop the edit."""
    renamed = key("Hero v2")
    labels, found = attributed(
        state(want(HERO, selected=False)),
        state(want(renamed, selected=False)),
        [have(HERO, "h", selected=True)],
    )
    assert labels == [("replace", "Hero v2", "conflict"), ("replaced", "Hero", "conflict")]
    assert found.operations[("replace", renamed, None)].fields == (
        FieldAttribution("snapshot_name", "change", "Hero", "Hero", "Hero v2"),
        FieldAttribution("is_device_type_selected_by_user", "drift", False, True, False),
    )


def test_a_rename_in_the_files_with_a_field_the_listing_left_out_is_a_change() -> None:
    renamed = key("Hero v2")
    sparse = dataclasses.replace(
        have(HERO, "h", selected=True), unreported=frozenset({"is_device_type_selected_by_user"})
    )
    labels, _ = attributed(state(want(HERO)), state(want(renamed)), [sparse])
    assert labels == [("replace", "Hero v2", "change"), ("replaced", "Hero", "change")]


def test_a_rename_in_datadog_is_drift_counted_once() -> None:
    renamed = key("Hero v2")
    labels, found = attributed(state(want(HERO)), state(want(HERO)), [have(renamed, "h")])
    assert labels == [("replace", "Hero", "drift"), ("replaced", "Hero v2", "drift")]
    assert found.operations[("replace", HERO, None)].fields == (
        FieldAttribution("snapshot_name", "drift", "Hero", "Hero v2", "Hero"),
    )


def test_a_rename_in_the_files_only_is_a_change() -> None:
    renamed = key("Hero v2")
    labels, _ = attributed(state(want(HERO)), state(want(renamed)), [have(HERO, "h")])
    assert labels == [("replace", "Hero v2", "change"), ("replaced", "Hero", "change")]


def test_an_edit_in_datadog_that_breaks_the_pairing_is_a_create_and_a_conflicting_delete() -> None:
    """The other order: the files rename, Datadog edits `start` (a replace pairs only
    snapshots with the same event_id and start): the delete drops Datadog's edit."""
    renamed = key("Hero v2")
    labels, _ = attributed(
        state(want(HERO, start=1700)),
        state(want(renamed, start=1700)),
        [have(HERO, "h", start=1650)],
    )
    assert labels == [("create", "Hero v2", "change"), ("delete", "Hero", "conflict")]


def test_drift_only_means_every_operation_shown_is_drift() -> None:
    base = state(want(HERO), want(PROMO, event_id="e-promo"))
    renamed = key("Hero v2")
    remote = [have(renamed, "h"), have(PROMO, "p", event_id="e-promo")]
    plan = build_plan(diff(base.snapshots, {HERO.scope: remote}), {})
    drift = attribute(plan.operations, "main", "c" * 40, base, {HERO.scope: remote})
    assert drift.counts(plan.operations) == {"drift": 1}  # the replace, once
    assert drift.drift_only(plan.operations)
    edited = state(want(HERO), want(PROMO, event_id="e-promo-2"))
    plan = build_plan(diff(edited.snapshots, {HERO.scope: remote}), {})
    pending = attribute(plan.operations, "main", "c" * 40, base, {HERO.scope: remote})
    assert pending.counts(plan.operations) == {"drift": 1, "change": 1}
    assert not pending.drift_only(plan.operations)
    assert not pending.drift_only(())
