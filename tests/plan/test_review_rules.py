"""Issue 16: replaces and safety, literal globs, markdown truncation, annotation escaping,
unmatched targets and a bad `--base`."""

from __future__ import annotations

import subprocess

from reconciler.core.globs import glob_match
from reconciler.core.model import (
    DesiredSnapshot,
    RemoteSnapshot,
    SnapshotKey,
    SourcePosition,
    ViewScope,
)
from reconciler.core.text import escape_property
from reconciler.plan.diff import diff
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import build_plan
from reconciler.plan.targets import TargetSet
from reconciler.render.common import MARKDOWN_LIMIT
from reconciler.render.formats import render
from reconciler.render.github import annotation
from reconciler.render.markdown import render_markdown
from support.workspace import APP, Workspace, remote_attributes, snapshot

SCOPE = ViewScope(APP, "/home")
HERE = SourcePosition("snapshots/a.yaml", 3, 5)


def want(name: str, start: int, view: str = "/home", device: str = "desktop") -> DesiredSnapshot:
    fields = {"event_id": f"e-{start}", "start": start, "is_device_type_selected_by_user": False}
    return DesiredSnapshot(SnapshotKey(APP, view, device, name), fields, HERE)


def have(name: str, start: int, view: str = "/home", device: str = "desktop") -> RemoteSnapshot:
    fields = {"event_id": f"e-{start}", "start": start, "is_device_type_selected_by_user": False}
    return RemoteSnapshot(
        f"id-{view}-{name}-{device}", SnapshotKey(APP, view, device, name), fields
    )


def test_renaming_5_of_14_is_a_safe_plan_of_5_replaces() -> None:
    remote = [have(f"shot {i}", i) for i in range(14)]
    desired = [want(f"shot {i}" + (" v2" if i < 5 else ""), i) for i in range(14)]
    plan = build_plan(diff(desired, {SCOPE: remote}), {SCOPE: 14})
    assert plan.is_safe
    assert plan.summary() == "Plan: 0 to create, 0 to patch, 0 to delete, 5 to replace."
    assert [op.kind for op in plan.operations] == ["replace"] * 5 + ["replaced"] * 5


def test_ambiguous_pairings_stay_create_and_delete() -> None:
    remote = [have("a", 1), have("b", 1)]
    plan = build_plan(diff([want("c", 1)], {SCOPE: remote}), {SCOPE: 2})
    assert [op.kind for op in plan.operations] == ["create", "delete", "delete"]


def test_one_old_snapshot_with_two_possible_new_ones_is_no_replace() -> None:
    """ "hero" renamed to "hero v2" or to "hero v3"? Each create alone would pair with it;
    since both could, neither does: two creates and a delete, none of them hidden."""
    plan = build_plan(
        diff([want("hero v2", 1), want("hero v3", 1)], {SCOPE: [have("hero", 1)]}), {SCOPE: 1}
    )
    assert [(op.kind, op.key.snapshot_name) for op in plan.operations] == [
        ("create", "hero v2"),
        ("create", "hero v3"),
        ("delete", "hero"),
    ]


def test_a_target_on_either_half_keeps_the_whole_replace() -> None:
    ops = diff([want("new", 1)], {SCOPE: [have("old", 1)]})
    plan = build_plan(ops, {SCOPE: 1}, targets=TargetSet.parse(["old"]))
    assert [op.kind for op in plan.operations] == ["replace", "replaced"]


def test_only_star_and_question_mark_are_wildcards() -> None:
    assert glob_match("Product [beta] hero", "Product [beta] hero")
    assert not glob_match("Product b hero", "Product [beta] hero")
    assert glob_match("/product/[id]", "/product/[id]")
    assert glob_match("Experiment, x", "Experiment, *")
    assert glob_match("ab", "a?")
    assert not glob_match("abc", "a?")


def test_ignore_with_brackets_protects_the_snapshot() -> None:
    ops = diff([], {SCOPE: [have("Product [beta] hero", 1)]}, _ignore("Product [beta] hero"))
    assert ops == []


def _ignore(*globs: str):  # type: ignore[no-untyped-def]
    from reconciler.plan.diff import DiffOptions

    return DiffOptions(ignore=globs)


def test_markdown_of_3000_operations_keeps_every_delete() -> None:
    scopes = [ViewScope(APP, f"/view-{v}") for v in range(30)]
    remote = {
        scope: [have(f"gone {i}", 10_000 + i, scope.view_name) for i in range(100 // 30 + 1)]
        for scope in scopes
    }
    deletes = [s for items in remote.values() for s in items][:100]
    remote = {scope: [s for s in items if s in deletes] for scope, items in remote.items()}
    desired = [want(f"new snapshot number {i}", i, scopes[i % 30].view_name) for i in range(2900)]
    plan = build_plan(diff(desired, remote), dict.fromkeys(scopes, 0))
    assert len(plan.operations) == 3000
    assert len(plan.deletes) == 100
    document = PlanDocument(plan, "http://127.0.0.1:9", None, None, ())
    text = render_markdown(document)
    assert len(text) <= MARKDOWN_LIMIT
    for op in plan.deletes:
        assert f"(id `{op.snapshot_id}`)" in text
    shown = text.count("| ➕ | create |")
    assert text.rstrip("\n").endswith(
        f"_…{2900 - shown} more operations not shown ({2900 - shown} create): the comment would "
        "pass GitHub's size limit. Run `reconciler show` on the saved plan for all of them._"
    )


def test_annotation_escaping() -> None:
    where = SourcePosition("snaps/a,b:c.yaml", 7, 1)
    line = annotation("warning", "50% done\r\nnext", title="t,1:2", where=where)
    assert (
        line == "::warning file=snaps/a%2Cb%3Ac.yaml,line=7,title=t%2C1%3A2::50%25 done\\r\\nnext"
    )
    assert escape_property("%\n") == "%25%0A"


def test_a_target_matching_nothing_is_an_error(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    result = ws.plan(targets=("/product/[id]",))
    assert result.code == 1
    assert result.out == ""
    # endswith: another test's logging handler may complain on stderr first
    assert result.err.endswith(
        "error: --target '/product/[id]' matches no managed application, file, view or "
        "snapshot (app:ID, file:PATH, view:NAME, or a snapshot or view name; only * and ? "
        "are wildcards)\n"
    )


def test_a_bad_base_ref_is_one_clear_error(ws: Workspace) -> None:
    subprocess.run(["git", "init", "-q"], cwd=ws.root, check=True, timeout=30)
    ws.write_snapshots({"/checkout": []})
    ws.seed(remote_attributes("x"))
    result = ws.plan(base="no-such-ref")
    assert result.code == 1
    assert result.err.endswith(
        f"error: --base 'no-such-ref': not a commit in the git repository at {ws.root.resolve()} "
        "(fetch it first, e.g. `git fetch origin main`)\n"
    )


def test_the_force_warning_only_where_it_applies() -> None:
    remote = [have(f"shot {i}", i) for i in range(10)]
    plan = build_plan(diff([], {SCOPE: remote}), {SCOPE: 10})
    assert not plan.is_safe
    document = PlanDocument(plan, "http://127.0.0.1:9", None, None, ())
    warning = "Warning: apply will refuse this plan without --force.\n"
    assert warning in render(document, "text")
    assert warning not in render(document, "text", forced=True)
    assert "without `--force`" in render(document, "markdown")
    assert "without `--force`" not in render(document, "markdown", forced=True)
    assert "without --force" not in render(document, "github", forced=True)


def test_targets_of_different_kinds_narrow_each_other() -> None:
    other = ViewScope(APP, "/other")
    files = {SCOPE: "snapshots/a.yaml", other: "snapshots/b.yaml"}
    ops = diff([want("x", 1), want("y", 2, "/other")], {SCOPE: [], other: []})
    by_file = build_plan(ops, {}, targets=TargetSet.parse(["file:snapshots/b.yaml"], files))
    assert [op.key.snapshot_name for op in by_file.operations] == ["y"]
    both = TargetSet.parse(["app:" + APP, "/home"], files)
    assert [op.key.snapshot_name for op in build_plan(ops, {}, targets=both).operations] == ["x"]
    either = TargetSet.parse(["/home", "/other"], files)
    assert len(build_plan(ops, {}, targets=either).operations) == 2


def test_thousands_of_view_errors_stay_under_the_limit() -> None:
    from reconciler.core.model import ViewError

    # Each its own reason: one line each (errors alike are grouped on one line).
    errors = tuple(ViewError(ViewScope(APP, f"/v{i}"), f"{i} " + "x" * 200) for i in range(1000))
    document = PlanDocument(build_plan([], {}), "http://127.0.0.1:9", None, None, (), errors)
    text = render_markdown(document)
    assert len(text) <= MARKDOWN_LIMIT
    assert text.startswith("### reconciler plan\n\n**Plan incomplete: 1000 of 1000 views")
    shown = text.count("\n  - view `")
    assert 0 < shown < 1000
    assert f"_…{1000 - shown} more errors and warnings not shown._" in text
