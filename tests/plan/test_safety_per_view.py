"""The safety verdict is judged view by view, in words that name the view, the verb and the
counts: a view too small to judge exempts only itself, never the views after it, and each
reason keeps the view it is about."""

from __future__ import annotations

from reconciler.core.model import RemoteSnapshot, ViewScope
from reconciler.plan.diff import diff
from reconciler.plan.planner import build_plan
from support.factories import APP, have, key, want

SMALL = ViewScope(APP, "/a")  # sorted before BIG
BIG = ViewScope(APP, "/b")


def listed(view: str, count: int) -> list[RemoteSnapshot]:
    return [have(key(f"s{i}", view=view), f"{view}-{i}") for i in range(count)]


def test_a_small_view_exempts_only_itself() -> None:
    operations = diff([], {SMALL: listed("/a", 1), BIG: listed("/b", 10)})
    plan = build_plan(operations, {SMALL: 1, BIG: 10})
    assert plan.unsafe_reasons == (
        f"view /b of application {APP}: would delete 10 of 10 existing snapshots "
        "(100% > 30% allowed)",
    )
    assert plan.unsafe_scopes == (BIG,)


def test_patching_too_many_is_unsafe() -> None:
    desired = [want(key(f"s{i}", view="/b"), start=9) for i in range(10)]
    plan = build_plan(diff(desired, {BIG: listed("/b", 10)}), {BIG: 10})
    assert plan.unsafe_reasons == (
        f"view /b of application {APP}: would patch 10 of 10 existing snapshots "
        "(100% > 30% allowed)",
    )
    assert plan.unsafe_scopes == (BIG,)
