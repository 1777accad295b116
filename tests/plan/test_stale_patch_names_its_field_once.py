"""A saved patch whose desired value was edited since is stale for that field, named once:
what the plan would send against what is needed now. How the change reads from the remote
value then and now adds nothing the reviewer needs, so it is not named a second time."""

from __future__ import annotations

from support.workspace import APP, Workspace, remote_attributes, snapshot


def test_an_edited_patch_names_the_field_it_sends_and_nothing_more(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("p", start=9)]})
    [remote] = ws.seed(remote_attributes("p", start=1))
    assert ws.plan(out="plan.json").code == 0
    ws.write_snapshots({"/checkout": [snapshot("p", start=5)]})

    outcome = ws.apply("plan.json")

    assert outcome.code == 1
    assert outcome.err == (
        f"error: saved plan is stale: view /checkout of application {APP}: "
        f'patch desktop "p" id={remote["id"]}: field `"start"` is 9 in the plan, 5 now. '
        "Nothing was applied; run `reconciler plan` again.\n"
    )
    assert [s["attributes"]["start"] for s in ws.remote()] == [1]
