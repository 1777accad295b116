"""`--target` keeps both halves of a replace when it selects either, in whatever order the
operations come: never a create without the delete it replaces, nor a delete without its
replacement. Other operations are selected alone."""

from __future__ import annotations

import pytest

from reconciler.core.model import ViewScope
from reconciler.plan.diff import diff
from reconciler.plan.operations import Operation
from reconciler.plan.planner import build_plan
from support.factories import APP, have, key, want

SCOPE = ViewScope(APP, "/checkout")


def operations() -> list[Operation]:
    """A rename of `hero` to `hero v2` (one replace), a create and a delete beside it."""
    return diff(
        [want(key("hero v2"), event_id="e-hero"), want(key("other"), event_id="e-other")],
        {
            SCOPE: [
                have(key("hero"), "id-hero", event_id="e-hero"),
                have(key("stale"), "id-stale", event_id="e-stale"),
            ]
        },
    )


@pytest.mark.parametrize("order", ["as diffed", "reversed"])
@pytest.mark.parametrize("target", ["hero v2", "hero"])
def test_either_half_selects_the_whole_replace(target: str, order: str) -> None:
    given = operations() if order == "as diffed" else operations()[::-1]
    plan = build_plan(given, {SCOPE: 2}, targets=(target,))
    assert [(op.kind, op.key.snapshot_name) for op in plan.operations] == [
        ("replace", "hero v2"),
        ("replaced", "hero"),
    ]
    assert [getattr(op, "snapshot_id", None) for op in plan.operations] == [None, "id-hero"]
    assert plan.summary() == "Plan: 0 to create, 0 to patch, 0 to delete, 1 to replace."


@pytest.mark.parametrize(
    ("target", "selected"), [("other", ("create", "other")), ("stale", ("delete", "stale"))]
)
def test_an_operation_outside_a_replace_is_selected_alone(
    target: str, selected: tuple[str, str]
) -> None:
    plan = build_plan(operations(), {SCOPE: 2}, targets=(target,))
    assert [(op.kind, op.key.snapshot_name) for op in plan.operations] == [selected]
