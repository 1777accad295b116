"""`reconciler apply` against the real emulator, in-process: phases and ordering, failures,
ambiguous creates, the prompt, safety and saved-plan staleness."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.api.runtime import Runtime
from reconciler.cli.commands import apply as apply_command
from reconciler.config.environments import Selection
from reconciler.config.settings import Overrides
from reconciler.emulator.app import emulator_of
from support.clock import FakeClock
from support.workspace import APP, APP2, Outcome, Workspace, remote_attributes, snapshot
from support.worlds import World


def desired_three(ws: Workspace) -> None:
    ws.write_snapshots(
        {
            "/checkout": [snapshot("new-a"), snapshot("keep", start=2000)],
            "/home": [snapshot("new-b", device="mobile", session_id="s-1")],
        }
    )
    ws.seed(remote_attributes("keep"), remote_attributes("gone", view="/home"))


def test_apply_converges_and_prints_one_line_per_operation(ws: Workspace) -> None:
    desired_three(ws)
    result = ws.apply(parallelism=1)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    done = [line for line in lines if line.split()[1:2] in (["created"], ["patched"], ["deleted"])]
    # Like Terraform's: sign, verb, what, [id=…], how long it took.
    shapes = [
        r'\+ created /checkout desktop "new-a"',
        r'\+ created /home mobile "new-b"',
        r'~ patched /checkout desktop "keep"',
        r'- deleted /home desktop "gone"',
    ]
    assert len(done) == len(shapes)
    for line, shape in zip(done, shapes, strict=True):
        assert re.fullmatch(shape + rf" \(application {APP}\) \[id=[-0-9a-z]+\] \d+\.\ds", line)
    assert lines[-2:] == [
        "Apply: 2 created, 1 patched, 1 deleted, 0 failed, 0 skipped.",
        "Converged.",
    ]
    assert ws.remote_keys() == [
        (APP, "/checkout", "desktop", "keep"),
        (APP, "/checkout", "desktop", "new-a"),
        (APP, "/home", "mobile", "new-b"),
    ]
    keep = next(s for s in ws.remote() if s["attributes"]["snapshot_name"] == "keep")
    assert keep["attributes"]["start"] == 2000
    again = ws.apply()
    assert (again.code, again.out) == (0, "No changes.\n")


def test_phases_never_interleave_with_parallelism(ws: Workspace) -> None:
    ws.write_snapshots(
        {"/checkout": [snapshot(f"c{i}") for i in range(8)] + [snapshot("p", start=9)]}
    )
    ws.seed(remote_attributes("p"), *(remote_attributes(f"d{i}") for i in range(8)))
    result = ws.apply(parallelism=4, force=True)
    verbs = [
        line.split()[1]
        for line in result.out.splitlines()
        if line.split()[1:2] in (["created"], ["patched"], ["deleted"])
    ]
    assert verbs == ["created"] * 8 + ["patched"] + ["deleted"] * 8


class RefusingCreates(httpx.AsyncBaseTransport):
    """The emulator, except that a POST of the named snapshot is refused with a 400."""

    def __init__(self, inner: httpx.AsyncBaseTransport, name: str) -> None:
        self.inner, self.name = inner, name

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (
            request.method == "POST"
            and f'"snapshot_name": "{self.name}"' in request.content.decode()
        ):
            return httpx.Response(400, json={"errors": ["refused for the test"]})
        return await self.inner.handle_async_request(request)


def test_a_failed_create_skips_every_delete(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    desired_three(ws)
    assert ws.plan(out="plan.json").code == 0
    inner = ws.transport
    monkeypatch.setattr(ws, "transport", lambda: RefusingCreates(inner(), "new-a"))
    result = ws.apply("plan.json")
    assert result.code == 1
    assert 'failed create /checkout desktop "new-a"' in result.out
    assert 'skipped delete /home desktop "gone"' in result.out
    assert "Apply: 1 created, 1 patched, 0 deleted, 1 failed, 1 skipped." in result.out
    assert "Not converged; still to do:" in result.out
    assert (APP, "/home", "desktop", "gone") in ws.remote_keys()  # nothing deleted
    # Running apply again converges.
    monkeypatch.setattr(ws, "transport", inner)
    again = ws.apply()
    assert again.code == 0, again.out + again.err
    assert "Converged." in again.out


def test_ambiguous_creates_are_adopted_never_duplicated(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot(f"s{i}") for i in range(6)]})
    ws.configure(drop_after_commit_rate=1.0)  # every write commits, then answers 502
    result = ws.apply()
    assert result.code == 0, result.out + result.err
    assert result.out.count("adopted after an ambiguous failure") == 6
    keys = ws.remote_keys()
    assert len(keys) == len(set(keys)) == 6
    assert ws.stats()["committed"]["create"] == 6


def test_prompt_yes_applies_and_no_cancels(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    refused = ws.apply(auto_approve=False, interactive=True)
    assert refused.code == 1
    assert "Apply 1 change? [y/N]" in refused.out
    assert "apply cancelled; nothing was changed" in refused.err
    assert ws.remote() == []
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    accepted = ws.apply(auto_approve=False, interactive=True)
    assert accepted.code == 0
    assert len(ws.remote()) == 1


def test_without_a_tty_auto_approve_is_required(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    result = ws.apply(auto_approve=False, interactive=False)
    assert result.code == 1
    assert "pass --auto-approve" in result.err
    assert ws.remote() == []


UNSAFE = (
    "error: refusing to apply an unsafe plan (see the warnings above); review it, then run "
    "again with --force\n"
)


def unsafe_world(ws: Workspace) -> None:
    """5 of the 10 snapshots of a view to delete: more than the 30% allowed."""
    ws.write_snapshots({"/checkout": [snapshot(f"s{i}") for i in range(5)]})
    ws.seed(*(remote_attributes(f"s{i}") for i in range(10)))


def test_unsafe_plan_needs_force(ws: Workspace) -> None:
    unsafe_world(ws)
    refused = ws.apply()
    assert (refused.code, refused.err) == (1, UNSAFE)
    assert len(ws.remote()) == 10
    forced = ws.apply(force=True)
    assert forced.code == 0
    assert len(ws.remote()) == 5


def test_an_unsafe_saved_plan_is_refused_without_force(ws: Workspace) -> None:
    unsafe_world(ws)
    assert ws.plan(out="plan.json").code == 0
    refused = ws.apply("plan.json")
    assert (refused.code, refused.err) == (1, UNSAFE)
    assert len(ws.remote()) == 10
    forced = ws.apply("plan.json", force=True)
    assert forced.code == 0, forced.err
    assert len(ws.remote()) == 5


def test_one_unsafe_environment_stops_all_before_any_is_applied(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--all-envs: staging would only create, production would delete 10 of 10. Every
    environment is checked before any is changed: staging is left as it was too."""
    ws.write(
        "reconciler.yaml",
        f"""
        environments:
          staging:
            api_url: http://127.0.0.1:9
            applications: {{storefront: {APP}}}
          production:
            api_url: http://127.0.0.1:10
            applications: {{storefront: {APP2}}}
        """,
    )
    for name in ("STAGING", "PRODUCTION"):
        monkeypatch.setenv(f"DD_API_KEY_{name}", f"test-api-key-{name.lower()}".ljust(32, "0"))
        monkeypatch.setenv(f"DD_APP_KEY_{name}", f"test-app-key-{name.lower()}".ljust(40, "0"))
    document = {"application": "storefront", "views": {"/checkout": [snapshot("hero")]}}
    ws.write("snapshots/a.yaml", json.dumps(document))
    ws.seed(*(remote_attributes(f"s{i}", app=APP2) for i in range(10)))
    every = Selection(all_envs=True)
    refused = apply_with(
        ws, Runtime(transport=ws.transport()), overrides=Overrides(), selection=every
    )
    assert (refused.code, refused.err) == (
        1,
        "error: refusing to apply an unsafe plan in environment production (see the warnings "
        "above); nothing was applied; review it, then run again with --force\n",
    )
    assert ws.remote_keys() == [(APP2, "/checkout", "desktop", f"s{i}") for i in range(10)]
    forced = apply_with(
        ws, Runtime(transport=ws.transport()), overrides=Overrides(), selection=every, force=True
    )
    assert forced.code == 0, forced.err
    assert ws.remote_keys() == sorted(
        [(APP, "/checkout", "desktop", "hero"), (APP2, "/checkout", "desktop", "hero")]
    )


def test_saved_plan_is_applied_exactly_without_a_prompt(ws: Workspace) -> None:
    desired_three(ws)
    assert ws.plan(out="plan.json").code == 0
    result = ws.apply("plan.json", auto_approve=False, interactive=False)
    assert result.code == 0, result.err
    assert "Apply: 2 created, 1 patched, 1 deleted, 0 failed, 0 skipped." in result.out
    assert "Converged." in result.out


def test_stale_when_a_remote_view_changed(ws: Workspace) -> None:
    desired_three(ws)
    ws.plan(out="plan.json")
    ws.seed(remote_attributes("sneaky", view="/home"))
    result = ws.apply("plan.json")
    assert result.code == 1
    assert result.err.startswith("error: saved plan is stale: view /home of application")
    assert "changed remotely (1 snapshots then, 2 now)" in result.err
    assert len(ws.remote()) == 3  # nothing applied


def test_stale_when_a_remote_field_changed(ws: Workspace) -> None:
    desired_three(ws)
    ws.plan(out="plan.json")
    keep = next(s for s in ws.remote() if s["attributes"]["snapshot_name"] == "keep")
    body = {
        "data": {
            "id": keep["id"],
            "type": "snapshots",
            "attributes": {
                "event_id": "evt-1",
                "start": 7,
                "is_device_type_selected_by_user": False,
            },
        }
    }
    changed = ws.api("PATCH", f"/api/v2/replay/heatmap/snapshots/{keep['id']}", body)
    assert changed.status_code == 200
    result = ws.apply("plan.json")
    assert result.code == 1
    assert "saved plan is stale: view /checkout of application" in result.err
    assert "changed remotely (1 snapshots then, 1 now)" in result.err
    after = next(s for s in ws.remote() if s["attributes"]["snapshot_name"] == "keep")
    assert after["attributes"]["start"] == 7  # nothing applied


def test_stale_when_the_desired_state_changed(ws: Workspace) -> None:
    desired_three(ws)
    ws.plan(out="plan.json")
    # new-a at another start: not a rename of "keep" (that would be a replace)
    ws.write_snapshots({"/checkout": [snapshot("new-a", start=3)], "/home": []})
    result = ws.apply("plan.json")
    assert result.code == 1
    assert result.err.startswith("error: saved plan is stale: ")
    assert f'view /home of application {APP}: create mobile "new-b" is no longer needed; ' in (
        result.err
    )
    assert 'delete desktop "keep" id=' in result.err


def test_stale_when_the_target_differs(ws: Workspace) -> None:
    desired_three(ws)
    ws.plan(out="plan.json")
    result = ws.apply("plan.json", api_url="http://127.0.0.1:10")
    assert result.code == 1
    assert (
        "saved plan is stale: it targets http://127.0.0.1:9, not http://127.0.0.1:10" in result.err
    )


def test_a_corrupt_plan_file_is_a_clear_error(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": []})
    Path("plan.json").write_text('{"format_version": 1}')
    result = ws.apply("plan.json")
    assert result.code == 1
    assert result.err.startswith("error: plan.json: not a valid saved plan:")
    Path("plan.json").write_text("{")
    assert ws.apply("plan.json").err.startswith(
        "error: plan.json:1:2: not a saved plan: invalid JSON"
    )


def test_json_result(ws: Workspace) -> None:
    desired_three(ws)
    result = ws.apply(output_format="json")
    assert result.code == 0
    document = json.loads(result.out)
    assert document["converged"] is True
    assert document["summary"] == "Apply: 2 created, 1 patched, 1 deleted, 0 failed, 0 skipped."
    assert [r["status"] for r in document["results"]] == ["done"] * 4


# -- ambiguous creates against a lagging world, duplicates, the prompt (issue 11) ----------


def apply_with(ws: Workspace, runtime: Runtime, **options: Any) -> Outcome:
    """`apply` in-process with a Runtime of the test's own (a World, a fake clock)."""
    arguments: dict[str, Any] = {
        "plan_path": None,
        "config_path": None,
        "overrides": Overrides(api_url="http://127.0.0.1:9"),
        "auto_approve": True,
        "force": False,
        "output_format": "text",
        "targets": (),
        "color": False,
        "interactive": False,
        "progress": False,
    }
    arguments.update(options)
    return ws._run(lambda: apply_command.run(**arguments, runtime=runtime))


def world_runtime(ws: Workspace, **world: Any) -> tuple[Runtime, World]:
    clock = FakeClock()
    transport = World(ws.app, clock, **world)
    return Runtime(transport=transport, clock=clock), transport


def copies(ws: Workspace) -> Counter[str]:
    return Counter(item["attributes"]["snapshot_name"] for item in ws.remote())


def test_a_listing_lagging_3_s_after_a_lost_answer_leaves_exactly_one_copy(
    ws: Workspace,
) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero"), snapshot("cart")]})
    ws.configure(drop_after_commit_rate=1.0)  # committed, then answered 502
    runtime, world = world_runtime(ws, list_lag=3.0)
    result = apply_with(ws, runtime)
    assert result.code == 0, result.out + result.err
    assert copies(ws) == {"hero": 1, "cart": 1}
    assert len(world.posts()) == 2
    assert result.out.count("adopted after an ambiguous failure") == 2
    assert "nothing was created" not in result.out + result.err
    assert result.out.splitlines()[-1] == "Converged."


def test_duplicates_made_during_the_run_are_removed_without_force(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot(f"s{i:02}") for i in range(15)]})
    emulator = emulator_of(ws.app)

    def racing_writer(attributes: Mapping[str, Any]) -> None:
        # Another apply of the same files creates the same snapshot just after us.
        emulator.store.create(attributes, emulator.owner(), emulator.wall_ms())

    runtime, _ = world_runtime(ws, after_create=racing_writer)
    result = apply_with(ws, runtime)
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert "Apply: 15 created, 0 patched, 0 deleted, 0 failed, 0 skipped." in lines
    assert (
        "Removing 15 duplicates that appeared during the run (another writer at the same "
        "time, or a lagging listing):" in lines
    )
    assert sum(line.startswith("- deleted duplicate /checkout") for line in lines) == 15
    assert lines[-1] == "Converged."
    assert copies(ws) == {f"s{i:02}": 1 for i in range(15)}
    # Ours are the older copies: the rule keeps them, the racing writer's copies went.
    created = {
        line.split("[id=", 1)[1].split("]")[0] for line in lines if line.startswith("+ created")
    }
    assert {item["id"] for item in ws.remote()} == created
    assert ws.plan(detailed_exitcode=True).out == "No changes.\n"


def test_removing_duplicates_is_bounded(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    emulator = emulator_of(ws.app)

    def writer_that_never_stops(attributes: Mapping[str, Any]) -> None:
        for _ in range(3):
            emulator.store.create(attributes, emulator.owner(), emulator.wall_ms())

    runtime, _ = world_runtime(ws, after_create=writer_that_never_stops)
    original = emulator.store.delete

    def delete_and_recreate(snapshot_id: str) -> bool:
        gone = original(snapshot_id)
        hero = {**remote_attributes("hero")}
        emulator.store.create(hero, emulator.owner(), emulator.wall_ms())
        return gone

    emulator.store.delete = delete_and_recreate  # type: ignore[method-assign]
    result = apply_with(ws, runtime)
    assert result.code == 1
    assert result.out.count("Removing ") == 2  # MAX_HEAL_ROUNDS
    assert "Not converged; still to do:" in result.out


def test_a_snapshot_created_while_the_prompt_waits_is_not_duplicated(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero"), snapshot("cart")]})
    emulator = emulator_of(ws.app)

    class Answers(io.StringIO):
        def readline(self, size: int | None = -1) -> str:
            if not emulator.store.all():  # another writer, while the prompt waits
                emulator.store.create(
                    remote_attributes("hero"), emulator.owner(), emulator.wall_ms()
                )
            return super().readline()

    monkeypatch.setattr("sys.stdin", Answers("y\ny\n"))
    result = ws.apply(auto_approve=False, interactive=True)
    assert result.code == 0, result.out + result.err
    assert "Apply 2 changes? [y/N]" in result.out
    assert "The plan changed while waiting for the answer; the new plan:" in result.out
    assert "Apply 1 change? [y/N]" in result.out
    assert copies(ws) == {"hero": 1, "cart": 1}
    assert ws.stats()["committed"]["create"] == 1  # only cart: hero was never sent


def test_a_plan_that_became_empty_at_the_prompt_applies_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    emulator = emulator_of(ws.app)

    class Answer(io.StringIO):
        def readline(self, size: int | None = -1) -> str:
            emulator.store.create(remote_attributes("hero"), emulator.owner(), emulator.wall_ms())
            return super().readline()

    monkeypatch.setattr("sys.stdin", Answer("y\n"))
    result = ws.apply(auto_approve=False, interactive=True)
    assert result.code == 0, result.out + result.err
    assert result.out.endswith("the new plan:\nNo changes.\n")
    assert copies(ws) == {"hero": 1}
    assert ws.stats()["committed"]["create"] == 0
