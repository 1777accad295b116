"""Saved plans are re-derived, never trusted (issue 10, 2): apply recomputes the plan and
sends only what the recomputed plan holds, or refuses. Requests are recorded at the
transport, so the tests see exactly what reached the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler.core.resource import KEY_FIELDS
from reconciler.desired.gitrev import head_commit
from support.factories import create_body
from support.workspace import APP, APP2, Workspace, remote_attributes, snapshot

Write = tuple[str, str, str]  # method, path, canonical JSON body


class Recording(httpx.AsyncBaseTransport):
    """The emulator, with every write request recorded."""

    def __init__(self, inner: httpx.AsyncBaseTransport, writes: list[Write]) -> None:
        self.inner, self.writes = inner, writes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            body = json.loads(request.content) if request.content else None
            self.writes.append((request.method, request.url.path, json.dumps(body, sort_keys=True)))
        return await self.inner.handle_async_request(request)


def recorded(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[Write]:
    """From now on, the workspace's commands record their writes here."""
    writes: list[Write] = []
    inner = type(ws).transport
    monkeypatch.setattr(ws, "transport", lambda: Recording(inner(ws), writes))
    return writes


def recording_once(ws: Workspace) -> list[Write]:
    """As `recorded`, for one hypothesis example (function fixtures are shared by all)."""
    writes: list[Write] = []
    ws.transport = lambda: Recording(Workspace.transport(ws), writes)  # type: ignore[method-assign]
    return writes


def scenario(ws: Workspace) -> list[Write]:
    """A plan with a create, a patch, a delete and a duplicate; an unmanaged view beside it.
    Returns the writes applying it must send, worked out here from the scenario alone."""
    ws.admin("POST", "/_emulator/reset")
    ws.write_snapshots(
        {
            "/checkout": [snapshot("new"), snapshot("keep", start=2000), snapshot("hero")],
            "/home": [snapshot("h")],
        }
    )
    keep, gone, hero, hero_copy, _, _ = ws.seed(
        remote_attributes("keep"),
        remote_attributes("gone"),
        remote_attributes("hero", created_at="2026-01-01T00:00:00Z"),
        remote_attributes("hero", created_at="2026-01-01T00:00:00.5Z"),
        remote_attributes("h", view="/home"),
        remote_attributes("victim", view="/unmanaged"),
    )
    del hero
    fields = {"event_id": "evt-1", "is_device_type_selected_by_user": False}
    create = create_body("new", start=1500, **fields)
    patch = {
        "data": {
            "id": keep["id"],
            "type": "snapshots",
            "attributes": {"start": 2000, **fields},
        }
    }
    path = "/api/v2/replay/heatmap/snapshots"
    return sorted(
        [
            ("POST", path, json.dumps(create, sort_keys=True)),
            ("PATCH", f"{path}/{keep['id']}", json.dumps(patch, sort_keys=True)),
            ("DELETE", f"{path}/{gone['id']}", "null"),
            ("DELETE", f"{path}/{hero_copy['id']}", "null"),
        ]
    )


def test_an_unedited_saved_plan_sends_exactly_its_requests(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = scenario(ws)
    assert ws.plan(out="plan.json").code == 0
    writes = recorded(ws, monkeypatch)
    result = ws.apply("plan.json")
    assert result.code == 0, result.err
    assert sorted(writes) == expected


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place of a JSON document: each value, list and object."""
    yield path
    if isinstance(value, dict):
        for name, item in value.items():
            yield from leaves(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))


def replacements(ws: Workspace, current: Any) -> list[Any]:
    """Values an attacker would put at a place: ids of other snapshots (the unmanaged
    victim's first), other views and applications, flipped flags, empties."""
    ids = [item["id"] for item in ws.remote()]
    victim = next(i["id"] for i in ws.remote() if i["attributes"]["view_name"] == "/unmanaged")
    pool: list[Any] = [victim, *ids, "/unmanaged", "/home", APP2, "*", "", "duplicate"]
    if isinstance(current, bool):
        return [not current]
    if isinstance(current, int):
        return [0, 1, 7, current + 1, -1, float(current)]
    if isinstance(current, list):
        return [[], current[:-1], current + current[-1:]] if current else [[victim]]
    if isinstance(current, dict):
        return [{name: v for name, v in current.items() if name != key} for key in current][:4] or [
            {"x": 1}
        ]
    return pool


def edit(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    place = copy
    for step in path[:-1]:
        place = place[step]
    place[path[-1]] = value
    return copy


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_single_edit_of_a_saved_plan_is_refused_or_sends_exactly_the_recomputed_plan(
    ws: Workspace, data: st.DataObject
) -> None:
    """Acceptance (issue 10): edit one place of a saved plan (ids, bodies, fields, safety,
    targets, views...); apply refuses and sends nothing, or sends exactly the writes of the
    plan recomputed from the files and the server, never another request."""
    ws.transport = lambda: Workspace.transport(ws)  # type: ignore[method-assign]
    expected = scenario(ws)
    assert ws.plan(out="plan.json").code == 0
    document = json.loads(Path("plan.json").read_text())
    paths = sorted(leaves(document), key=lambda p: [str(step) for step in p])
    path = data.draw(st.sampled_from(paths), label="path")
    current = document
    for step in path:
        current = current[step]
    value = data.draw(st.sampled_from(replacements(ws, current)), label="value")
    Path("plan.json").write_text(json.dumps(edit(document, path, value)))
    writes = recording_once(ws)
    result = ws.apply("plan.json")
    assert "internal error" not in result.err
    event("applied" if result.code == 0 else result.err.split(":")[1].strip()[:40])
    if result.code == 0:
        assert sorted(writes) == expected
    else:
        assert writes == [], result.err
        assert "saved plan" in result.err, result.err


def test_a_plan_edited_to_look_safe_is_still_refused_when_it_is_not(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`safe` and `unsafe_reasons` in the file decide nothing: the recomputed plan does."""
    ws.write_snapshots({"/checkout": [snapshot(f"s{i}") for i in range(5)]})
    ws.seed(*(remote_attributes(f"s{i}") for i in range(10)))
    ws.plan(out="plan.json")
    document = json.loads(Path("plan.json").read_text())
    assert document["safe"] is False
    Path("plan.json").write_text(json.dumps(document | {"safe": True, "unsafe_reasons": []}))
    writes = recorded(ws, monkeypatch)
    result = ws.apply("plan.json")
    assert result.code == 1
    assert "refusing to apply an unsafe plan" in result.err
    assert writes == []


def test_a_delete_pointed_at_an_unmanaged_snapshot_is_stale(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10's attack: one delete's id pointed at a snapshot of an unmanaged view."""
    ws.write_snapshots({"/checkout": []})
    [gone, victim] = ws.seed(
        remote_attributes("gone"), remote_attributes("victim", view="/unmanaged")
    )
    ws.plan(out="plan.json")
    document = json.loads(Path("plan.json").read_text())
    [delete] = document["operations"]
    delete["snapshot_id"] = victim["id"]
    delete["request"]["path"] = f"/api/v2/replay/heatmap/snapshots/{victim['id']}"
    Path("plan.json").write_text(json.dumps(document))
    writes = recorded(ws, monkeypatch)
    result = ws.apply("plan.json", force=True)
    assert result.code == 1
    assert result.err == (
        f"error: saved plan is stale: view /checkout of application {APP}: delete desktop "
        f'"gone" id={victim["id"]} is no longer needed; view /checkout of application {APP}: '
        f'delete desktop "gone" id={gone["id"]} is needed now and not in the plan. Nothing '
        "was applied; run `reconciler plan` again.\n"
    )
    assert writes == []


def test_a_changed_field_is_named(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero", start=2000)]})
    ws.seed(remote_attributes("hero"))
    ws.plan(out="plan.json")
    ws.write_snapshots({"/checkout": [snapshot("hero", start=3000)]})
    result = ws.apply("plan.json")
    assert result.code == 1
    assert 'patch desktop "hero" id=' in result.err
    assert ': field `"start"` is 2000 in the plan, 3000 now' in result.err


@pytest.mark.parametrize(
    ("field", "saved", "shown"),
    [
        ("start", 2000.0, "2000.0 in the plan, 2000 now"),
        ("is_device_type_selected_by_user", 0, "0 in the plan, false now"),
    ],
)
def test_a_field_of_another_type_in_the_saved_plan_is_stale(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, field: str, saved: object, shown: str
) -> None:
    """`2000.0` equals `2000` and `0` equals `false` in Python, not for the API: the saved
    plan no longer says what would be sent."""
    ws.write_snapshots({"/checkout": [snapshot("hero", start=2000)]})
    ws.plan(out="plan.json")
    document = json.loads(Path("plan.json").read_text())
    [create] = document["operations"]
    create["fields"][field] = saved
    Path("plan.json").write_text(json.dumps(document))
    writes = recorded(ws, monkeypatch)
    result = ws.apply("plan.json")
    assert (result.code, result.err) == (
        1,
        f"error: saved plan is stale: view /checkout of application {APP}: create desktop "
        f'"hero": field `"{field}"` is {shown}. Nothing was applied; run `reconciler plan` '
        "again.\n",
    )
    assert writes == []


def test_a_patch_whose_remote_value_moved_since_names_both_changes(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero", start=2000)]})
    [hero] = ws.seed(remote_attributes("hero"))
    ws.plan(out="plan.json")
    body = {"data": {"id": hero["id"], "type": "snapshots", "attributes": {"start": 1600}}}
    body["data"]["attributes"] |= {"event_id": "evt-1", "is_device_type_selected_by_user": False}
    assert ws.api("PATCH", f"/api/v2/replay/heatmap/snapshots/{hero['id']}", body).is_success
    result = ws.apply("plan.json")
    assert (result.code, result.err) == (
        1,
        f"error: saved plan is stale: view /checkout of application {APP}: patch desktop "
        f'"hero" id={hero["id"]}: field `"start"` was 1500 -> 2000 in the plan, 1600 -> 2000 '
        f"now; view /checkout of application {APP} changed remotely (1 snapshots then, 1 "
        "now). Nothing was applied; run `reconciler plan` again.\n",
    )
    assert [item["attributes"]["start"] for item in ws.remote()] == [1600]


def test_an_edit_to_another_view_does_not_make_a_plan_stale(ws: Workspace) -> None:
    """Staleness is judged on the plan's own views: a view added since, in another file, is
    not listed or touched by applying the plan."""
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.seed(remote_attributes("other", view="/home", app=APP2))
    assert ws.plan(out="plan.json").code == 0
    ws.write_snapshots({"/home": []}, app=APP2, name="b.yaml")
    result = ws.apply("plan.json")
    assert result.code == 0, result.err
    assert "Apply: 1 created, 0 patched, 0 deleted, 0 failed, 0 skipped." in result.out
    assert ("/home", "other") in {
        (s["attributes"]["view_name"], s["attributes"]["snapshot_name"]) for s in ws.remote()
    }


def test_an_old_format_is_a_clear_error(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": []})
    Path("plan.json").write_text(json.dumps({"format_version": 1, "operations": []}))
    result = ws.apply("plan.json")
    assert (result.code, result.err) == (
        1,
        "error: plan.json: not a valid saved plan: format 1 is not supported (this reconciler "
        "reads formats 2, 3); make it again with `reconciler plan --out`\n",
    )


# -- the git commit --------------------------------------------------------------------


def fake_repository(root: Path, sha: str, *, worktree: bool = False) -> None:
    """A `.git` as git lays it out: a folder, or a worktree's pointer file, with a
    branch ref in packed-refs."""
    common = root / "main.git" if worktree else root / ".git"
    (common / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    (common / "packed-refs").write_text(f"# pack-refs\n{sha} refs/heads/main\n")
    if worktree:
        gitdir = common / "worktrees" / "wt"
        gitdir.mkdir(parents=True)
        (gitdir / "HEAD").write_text("ref: refs/heads/main\n")
        (gitdir / "commondir").write_text("../..\n")
        (root / ".git").write_text(f"gitdir: {gitdir}\n")
    else:
        (common / "HEAD").write_text("ref: refs/heads/main\n")


@pytest.mark.parametrize("worktree", [False, True])
def test_the_commit_is_read_from_git_without_running_it(tmp_path: Path, worktree: bool) -> None:
    sha = "a" * 40
    fake_repository(tmp_path, sha, worktree=worktree)
    (tmp_path / "sub").mkdir()
    assert head_commit(tmp_path / "sub") == sha
    loose = "b" * 40
    common = tmp_path / ("main.git" if worktree else ".git")
    (common / "refs" / "heads" / "main").write_text(loose + "\n")
    assert head_commit(tmp_path) == loose


def test_no_repository_is_no_commit(tmp_path: Path) -> None:
    assert head_commit(tmp_path) is None or (tmp_path / ".git").exists() is False


def test_a_plan_applied_at_another_commit_says_so(ws: Workspace) -> None:
    fake_repository(ws.root, "a" * 40)
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.plan(out="plan.json")
    assert json.loads(Path("plan.json").read_text())["git"] == {"commit": "a" * 40}
    (ws.root / ".git" / "packed-refs").write_text(f"{'c' * 40} refs/heads/main\n")
    result = ws.apply("plan.json")
    assert result.code == 0, result.err
    assert (
        f"Warning: this plan was made at commit {'a' * 12}; the working tree is at {'c' * 12} "
        "(the plan was checked against the files as they are now)\n"
    ) in result.out


def test_a_plan_cannot_reach_a_view_no_file_manages(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two edits together: an unmanaged view added to `views` and a delete of its snapshot.
    Recomputed on that view, the delete would match; only managed views are ever listed."""
    ws.write_snapshots({"/checkout": []})
    [victim] = ws.seed(remote_attributes("victim", view="/unmanaged"))
    ws.plan(out="plan.json")
    document = json.loads(Path("plan.json").read_text())
    view = dict(document["views"][0], view_name="/unmanaged", snapshot_count=1)
    document["views"].append(view)
    document["operations"] = [
        {
            "action": "delete",
            **{k: v for k, v in victim["attributes"].items() if k in KEY_FIELDS},
            "snapshot_id": victim["id"],
            "reason": "not declared",
            "fields": {},
            "changes": [],
            "source": None,
            "request": {
                "method": "DELETE",
                "path": f"/api/v2/replay/heatmap/snapshots/{victim['id']}",
                "body": None,
            },
        }
    ]
    Path("plan.json").write_text(json.dumps(document))
    writes = recorded(ws, monkeypatch)
    result = ws.apply("plan.json", force=True)
    assert result.code == 1
    assert "saved plan is stale: view /unmanaged of application" in result.err
    assert writes == []
    assert len(ws.remote()) == 1


def test_the_commit_warning_goes_to_stderr_with_json_output(ws: Workspace) -> None:
    fake_repository(ws.root, "a" * 40)
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.plan(out="plan.json")
    (ws.root / ".git" / "packed-refs").write_text(f"{'c' * 40} refs/heads/main\n")
    result = ws.apply("plan.json", output_format="json")
    assert result.code == 0, result.err
    assert result.err.startswith(f"Warning: this plan was made at commit {'a' * 12};")
    assert json.loads(result.out)["converged"] is True


def test_an_operation_listed_twice_is_stale(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.plan(out="plan.json")
    document = json.loads(Path("plan.json").read_text())
    document["operations"] *= 2
    Path("plan.json").write_text(json.dumps(document))
    result = ws.apply("plan.json")
    assert result.code == 1
    assert "saved plan is stale: it lists an operation more than once" in result.err
    assert ws.remote() == []


def test_a_plan_with_a_view_error_is_refused(ws: Workspace) -> None:
    """`plan --out` never saves an incomplete plan; a file that says one is refused."""
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.plan(out="plan.json")
    document = json.loads(Path("plan.json").read_text())
    error = {"application_id": APP, "view_name": "/home", "message": "listing failed"}
    Path("plan.json").write_text(json.dumps(document | {"errors": [error]}))
    result = ws.apply("plan.json")
    assert result.code == 1
    assert "saved plan is stale: some of its views could not be listed" in result.err
    assert ws.remote() == []


def test_a_format_2_plan_without_environment_is_still_applied(ws: Workspace) -> None:
    """Format 3 only adds `environment` and `applications`: a plan saved by the previous
    release applies as before (no environments declared)."""
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    assert ws.plan(out="plan.json").code == 0
    data = json.loads(Path("plan.json").read_text())
    assert (data["format_version"], data["environment"]) == (3, None)
    old = {k: v for k, v in data.items() if k not in ("environment", "applications")}
    Path("plan.json").write_text(json.dumps({**old, "format_version": 2}))
    result = ws.apply("plan.json")
    assert result.code == 0, result.err
    assert [key[3] for key in ws.remote_keys()] == ["hero"]
