"""Ordering, determinism, targets and the safety verdict of the pure planner."""

from __future__ import annotations

import random

import pytest

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import ViewScope
from reconciler.plan.diff import diff
from reconciler.plan.planner import SafetyThresholds, UnsafePlan, build_plan
from support.factories import APP, APP2, have, key, want

SCOPE = ViewScope(APP, "/checkout")


def test_creates_then_patches_then_deletes_each_sorted_by_key() -> None:
    desired = [want(key("b")), want(key("a")), want(key("p2"), start=9), want(key("p1"), start=9)]
    listed = [
        have(key("z"), "z"),
        have(key("y"), "y"),
        have(key("p2"), "p2"),
        have(key("p1"), "p1"),
    ]
    plan = build_plan(diff(desired, {SCOPE: listed}), {SCOPE: 4})
    assert [(op.phase, op.key.snapshot_name) for op in plan.operations] == [
        ("create", "a"),
        ("create", "b"),
        ("patch", "p1"),
        ("patch", "p2"),
        ("delete", "y"),
        ("delete", "z"),
    ]
    assert plan.summary() == "Plan: 2 to create, 2 to patch, 2 to delete."


def test_same_inputs_in_any_order_give_the_same_plan() -> None:
    desired = [want(key(f"s{i}", device=d)) for i in range(20) for d in ("desktop", "mobile")]
    listed = [have(key(f"s{i}", device="tablet"), f"id{i}") for i in range(20)]
    first = build_plan(diff(desired, {SCOPE: listed}), {SCOPE: 20})
    random.Random(7).shuffle(desired)
    random.Random(8).shuffle(listed)
    second = build_plan(diff(desired, {SCOPE: listed}), {SCOPE: 20})
    assert first == second


def test_no_changes() -> None:
    plan = build_plan([], {SCOPE: 3})
    assert not plan.has_changes
    assert plan.summary() == "No changes."
    assert plan.is_safe


def test_targets_match_snapshot_or_view_names() -> None:
    other = ViewScope(APP, "/home")
    ops = diff(
        [want(key("hero")), want(key("banner")), want(key("x", view="/home"))],
        {SCOPE: [], other: []},
    )
    by_name = build_plan(ops, {}, targets=("her*",))
    assert [op.key.snapshot_name for op in by_name.operations] == ["hero"]
    by_view = build_plan(ops, {}, targets=("/home",))
    assert [op.key.snapshot_name for op in by_view.operations] == ["x"]


def test_deleting_too_many_of_a_large_view_is_unsafe() -> None:
    listed = [have(key(f"s{i:02}"), f"id{i}") for i in range(10)]
    desired = [want(key(f"s{i:02}")) for i in range(6)]  # 4 of 10 deleted: 40% > 30%
    plan = build_plan(diff(desired, {SCOPE: listed}), {SCOPE: 10})
    assert not plan.is_safe
    assert plan.unsafe_reasons == (
        f"view /checkout of application {APP}: would delete 4 of 10 existing snapshots "
        "(40% > 30% allowed)",
    )


def test_patching_too_many_is_unsafe_and_thresholds_are_configurable() -> None:
    listed = [have(key(f"s{i:02}"), f"id{i}") for i in range(10)]
    desired = [want(key(f"s{i:02}"), start=1 if i < 5 else 1500) for i in range(10)]
    ops = diff(desired, {SCOPE: listed})
    assert not build_plan(ops, {SCOPE: 10}).is_safe
    assert build_plan(ops, {SCOPE: 10}, SafetyThresholds(max_update_fraction=0.5)).is_safe


def test_small_views_are_never_unsafe() -> None:
    listed = [have(key(f"s{i}"), f"id{i}") for i in range(9)]  # below min_existing (10)
    assert build_plan(diff([], {SCOPE: listed}), {SCOPE: 9}).is_safe


def test_safety_is_judged_per_view() -> None:
    """Two views: 5 of 20 deletes in one (25%, allowed) and 4 of 10 in the other (40%, not).
    Judged on the whole plan (9 of 30 = 30%) it would pass; per view it must not."""
    big = ViewScope(APP2, "/big")
    small = ViewScope(APP, "/small")
    listed_big = [have(key(f"s{i:02}", view="/big", app=APP2), f"b{i}") for i in range(20)]
    listed_small = [have(key(f"s{i:02}", view="/small"), f"s{i}") for i in range(10)]
    desired = [want(key(f"s{i:02}", view="/big", app=APP2)) for i in range(15)]
    desired += [want(key(f"s{i:02}", view="/small")) for i in range(6)]
    ops = diff(desired, {big: listed_big, small: listed_small})
    plan = build_plan(ops, {big: 20, small: 10})
    assert plan.unsafe_reasons == (
        f"view /small of application {APP}: would delete 4 of 10 existing snapshots "
        "(40% > 30% allowed)",
    )
    alone = build_plan([op for op in ops if op.key.scope == big], {big: 20, small: 10})
    assert alone.is_safe


def test_deleting_duplicates_does_not_count_toward_the_delete_threshold() -> None:
    """Ten declared snapshots, each listed twice (two racing applies): deleting ten of the
    twenty listed is 50% > 30%, yet nothing is lost. The plan is safe and shows them as
    their own kind."""
    listed = [have(key(f"s{i:02}"), f"a{i}") for i in range(10)]
    listed += [have(key(f"s{i:02}"), f"b{i}", created_at="2026-02-01T00:00:00Z") for i in range(10)]
    desired = [want(key(f"s{i:02}")) for i in range(10)]
    plan = build_plan(diff(desired, {SCOPE: listed}), {SCOPE: 20})
    assert plan.is_safe
    assert [(op.kind, getattr(op, "snapshot_id", "")) for op in plan.operations] == [
        ("duplicate", f"b{i}") for i in range(10)
    ]
    assert plan.summary() == (
        "Plan: 0 to create, 0 to patch, 0 to delete, 10 duplicates to remove."
    )
    # Undeclared deletes still count, duplicates or not beside them.
    fewer = build_plan(diff(desired[:6], {SCOPE: listed}), {SCOPE: 20})
    assert fewer.unsafe_reasons == (
        f"view /checkout of application {APP}: would delete 8 of 20 existing snapshots "
        "(40% > 30% allowed)",
    )


def test_the_survivor_is_the_same_whatever_order_the_copies_are_listed_in() -> None:
    copies = [
        have(key("hero"), "c", created_at="2026-01-01T00:00:00.5Z", start=1),
        have(key("hero"), "a", created_at="2026-01-01T00:00:00.25Z", start=2),
        have(key("hero"), "b", created_at="2026-01-01T00:00:00.25Z", start=3),
        have(key("hero"), "d", created_at="not a time", start=4),
    ]
    kept = set()
    for seed in range(8):
        shuffled = copies[:]
        random.Random(seed).shuffle(shuffled)
        ops = diff([want(key("hero"))], {SCOPE: shuffled})
        kept |= {op.snapshot_id for op in ops if op.phase == "patch"}  # type: ignore[union-attr]
    assert kept == {"a"}  # oldest instant, then id; the undated copy last


def test_an_unsafe_plan_refuses_itself_unless_forced() -> None:
    listed = [have(key(f"s{i:02}"), f"id{i}") for i in range(10)]
    plan = build_plan(diff([], {SCOPE: listed}), {SCOPE: 10})
    with pytest.raises(UnsafePlan) as alone:
        plan.raise_if_unsafe(force=False)
    assert str(alone.value) == (
        "refusing to apply an unsafe plan (see the warnings above); review it, then run "
        "again with --force"
    )
    with pytest.raises(UnsafePlan) as one_of_several:
        plan.raise_if_unsafe(force=False, environment="production")
    assert str(one_of_several.value) == (
        "refusing to apply an unsafe plan in environment production (see the warnings "
        "above); nothing was applied; review it, then run again with --force"
    )
    assert isinstance(one_of_several.value, ReconcilerError)  # exit 1, one line
    plan.raise_if_unsafe(force=True)
    safe = build_plan(diff([], {SCOPE: listed[:2]}), {SCOPE: 10})
    safe.raise_if_unsafe(force=False)
