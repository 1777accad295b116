"""A saved plan made with `--target` is checked against a plan recomputed with the same
targets: it applies as saved, and only what it selected; once a target matches nothing, the
plan is stale and says which target."""

from __future__ import annotations

from support.workspace import APP, Workspace, snapshot


def test_a_targeted_plan_applies_only_what_it_selected(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("a"), snapshot("b")]})
    assert ws.plan(out="plan.json", targets=("a",)).code == 0

    outcome = ws.apply("plan.json")

    assert outcome.code == 0, outcome.err
    assert ws.remote_keys() == [(APP, "/checkout", "desktop", "a")]


def test_a_target_that_matches_nothing_now_makes_the_plan_stale(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("a"), snapshot("b")]})
    assert ws.plan(out="plan.json", targets=("a",)).code == 0
    ws.write_snapshots({"/checkout": [snapshot("b")]})

    outcome = ws.apply("plan.json")

    assert outcome.code == 1
    assert outcome.err == (
        "error: saved plan is stale: its target a matches nothing now. Nothing was applied; "
        "run `reconciler plan` again.\n"
    )
    assert ws.remote_keys() == []
