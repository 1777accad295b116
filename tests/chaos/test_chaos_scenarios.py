"""Randomized, seeded apply scenarios against a real emulator server with injected faults.

Each scenario (tests/support/chaos.py) seeds a remote state, writes the desired files and
a reconciler.yaml with the tightest safety thresholds the scenario's own plan passes, and
runs `apply --auto-approve --format json` in-process, never with --force (the real command,
the real client over real sockets; only the retry backoff is shortened, so that 200
scenarios run in minutes), at most twice (four times when listings may repeat an id, which
makes an apply refuse). Faults: 5xx, commit-then-drop, 429 bursts, latency, and the world
outside the executor's design: listing lag, repeated ids, 201 without an id, a concurrent
writer creating the same snapshot. Invariants, checked after every apply unless said
otherwise:

1. No duplicate: no key has more copies than the scenario seeded (1 for a fresh key), plus
   the copies another writer made so far (a failed apply may leave them for the next).
2. Nothing declared is lost: the id of every declared snapshot that existed with its key
   unchanged is still there; for a seeded duplicate, one of its seeded ids is.
3. Unmanaged views untouched: every snapshot outside the managed views keeps its id and
   every attribute (modified_at included).
4. No --force needed: no apply refuses its plan as unsafe.
5. The apply's JSON summary agrees with what the emulator recorded (deltas of
   /_emulator/stats over that apply, "dropped" = committed, then connection dropped):
   - creates: 201 answers (less those without an id) == done creates not adopted; adopted
     creates <= dropped creates + creates answered without an id; committed == 201 +
     dropped; done <= committed <= done + failed (a create committed whose answer was lost
     and whose adoption listing then failed is "failed", yet exists);
   - patches: 200 answers == done patches exactly; committed == 200 + dropped (a PATCH
     retried after a dropped answer commits twice: it is idempotent, so that is allowed);
   - deletes: 204 answers == done deletes other than "already deleted"; 404 answers ==
     "already deleted" (each follows a dropped commit of the same DELETE, or a lagging
     listing that still showed a deleted copy); committed == 204 + dropped;
     done - already <= committed <= done + failed.
6. Over the whole scenario: committed creates == desired keys absent at the start, exactly
   (every create happened once: never a duplicate, never a lost create); committed deletes
   == managed remote snapshots whose key is not kept, plus one per copy another writer
   made (each removed as a duplicate), exactly.
7. At the end the remote equals the desired state: per managed view, the declared keys
   exactly once each, with every declared field's value; for a seeded duplicate, the kept
   id is the one the plan rules name (already matching, else oldest).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.api.retry import RetryPolicy
from reconciler.api.runtime import Runtime
from reconciler.cli.commands import apply as apply_command
from reconciler.cli.main import guarded
from reconciler.config.settings import Overrides
from reconciler.emulator import EmulatorSettings
from support.chaos import Key, Scenario, generate, key_of, reset_server
from support.workspace import API_KEY, APP_KEY

#: Seeded scenarios on a real server: run by `make test-slow` (all 200: `make chaos`).
pytestmark = pytest.mark.slow

MUTABLE = ("event_id", "start", "is_device_type_selected_by_user", "session_id", "view_id")


@pytest.fixture
def chaos_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DD_SITE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("RECONCILER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def chaos_runtime(chaos_seed: int) -> Runtime:
    """Real waits, shorter backoff: the same code paths, 200 scenarios in minutes. The
    consistency window is what it must be: longer than the scenario's listing lag."""
    lag = generate(chaos_seed).faults.list_lag_ms / 1000
    return Runtime(
        retry=RetryPolicy(base_delay=0.01, max_delay=0.2, rng=random.Random(chaos_seed)),
        consistency_window=max(0.2, 3 * lag),
    )


def write_desired(root: Path, scenario: Scenario) -> None:
    folder = root / "snapshots"
    folder.mkdir(exist_ok=True)
    for index, (app, views) in enumerate(sorted(scenario.desired.items())):
        document = {"application_id": app, "views": views}
        (folder / f"app{index}.yaml").write_text(json.dumps(document, indent=1), "utf-8")


def remote_items(url: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
    return data


def stats(url: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{url}/_emulator/stats").json()
    return data


class Delta:
    def __init__(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.before, self.after = before, after

    def requests(self, operation: str, outcome: str) -> int:
        def get(s: dict[str, Any]) -> int:
            return int(s["requests"].get(operation, {}).get(outcome, 0))

        return get(self.after) - get(self.before)

    def committed(self, operation: str) -> int:
        return int(self.after["committed"][operation]) - int(self.before["committed"][operation])

    def fault(self, name: str) -> int:
        return int(self.after["faults"][name]) - int(self.before["faults"][name])


def run_apply(
    url: str, parallelism: int, capsys: pytest.CaptureFixture[str], runtime: Runtime
) -> tuple[int, dict[str, Any] | None, str]:
    capsys.readouterr()
    code = guarded(
        lambda: apply_command.run(
            plan_path=None,
            config_path=None,
            overrides=Overrides(api_url=url, parallelism=parallelism),
            auto_approve=True,
            force=False,  # never needed: duplicates do not count toward the thresholds
            output_format="json",
            targets=(),
            color=False,
            interactive=False,
            progress=False,
            runtime=runtime,
        )
    )
    captured = capsys.readouterr()
    document = json.loads(captured.out) if captured.out.strip() else None
    return code, document, captured.err


class Checker:
    """The scenario's expectations, computed from the seeded remote state."""

    def __init__(self, scenario: Scenario, seeded: list[dict[str, Any]]) -> None:
        self.scenario = scenario
        self.desired = scenario.desired_by_key()
        self.copies: dict[Key, list[dict[str, Any]]] = {}
        self.unmanaged: dict[str, dict[str, Any]] = {}
        for item in seeded:  # creation order: oldest first
            attributes = item["attributes"]
            if (attributes["application_id"], attributes["view_name"]) in scenario.managed:
                self.copies.setdefault(key_of(attributes), []).append(item)
            else:
                self.unmanaged[item["id"]] = attributes
        kept = [k for k in self.copies if k in self.desired]
        self.expected_creates = len(self.desired) - len(kept)
        self.expected_deletes = sum(len(v) for v in self.copies.values()) - len(kept)
        self.kept_id = {k: self._kept(k) for k in kept}

    def safety_config(self) -> str:
        """reconciler.yaml with the tightest thresholds the scenario's own plan passes
        (duplicates never count), so that an apply refusing means a threshold counted
        what it must not."""
        per_view: dict[tuple[str, str], Counter[str]] = {}
        for key, items in self.copies.items():
            counts = per_view.setdefault(key[:2], Counter())
            counts["existing"] += len(items)
            if key not in self.desired:
                counts["delete"] += len(items)
            elif not self._matches(self.kept_id[key], key):
                counts["patch"] += 1
        worst = Counter[str]()
        # Every view, not only those of min_existing (10) or more: a failed apply's creates
        # can lift a small view over it, and what is left to do is then judged.
        for counts in per_view.values():
            if counts["existing"]:
                for verb in ("delete", "patch"):
                    ratio = counts[verb] / counts["existing"]
                    worst[verb] = max(worst[verb], int(ratio * 1000) + 1)
        delete = min(1.0, worst["delete"] / 1000)
        patch = min(1.0, worst["patch"] / 1000)
        return f"safety:\n  max_delete_fraction: {delete}\n  max_update_fraction: {patch}\n"

    def _matches(self, snapshot_id: str, key: Key) -> bool:
        wanted = self.desired[key]
        item = next(i for i in self.copies[key] if i["id"] == snapshot_id)
        return all(item["attributes"].get(f) == wanted[f] for f in MUTABLE if f in wanted)

    def _kept(self, key: Key) -> str:
        wanted = self.desired[key]
        for item in self.copies[key]:
            if all(item["attributes"].get(f) == wanted[f] for f in MUTABLE if f in wanted):
                return str(item["id"])
        return str(self.copies[key][0]["id"])

    def check_state(self, items: list[dict[str, Any]], when: str, foreign: int = 0) -> None:
        """`foreign`: copies another writer made so far (a failed apply may leave them)."""
        managed = self.scenario.managed
        keys = Counter(key_of(i["attributes"]) for i in items)
        ids = {i["id"] for i in items}
        for key, count in keys.items():
            seeded = len(self.copies.get(key, ()))
            assert count <= max(1, seeded) + foreign, f"{when}: {count} copies of {key}"
        for key in self.kept_id:
            seeded_ids = {c["id"] for c in self.copies[key]}
            if len(seeded_ids) == 1:
                assert seeded_ids <= ids, f"{when}: declared snapshot {key} was deleted"
            else:
                assert seeded_ids & ids, f"{when}: every copy of declared {key} was deleted"
        outside = {
            i["id"]: i["attributes"]
            for i in items
            if (i["attributes"]["application_id"], i["attributes"]["view_name"]) not in managed
        }
        assert outside == self.unmanaged, f"{when}: an unmanaged view was touched"

    def check_final(self, items: list[dict[str, Any]]) -> None:
        self.check_state(items, "final")
        managed = [
            i
            for i in items
            if (i["attributes"]["application_id"], i["attributes"]["view_name"])
            in self.scenario.managed
        ]
        by_key = {key_of(i["attributes"]): i for i in managed}
        assert len(by_key) == len(managed), "final: a duplicate key remains"
        assert sorted(by_key) == sorted(self.desired), "final: keys differ from the desired"
        for key, entry in self.desired.items():
            attributes = by_key[key]["attributes"]
            for name in MUTABLE:
                if name in entry:
                    assert attributes[name] == entry[name], f"final: {key} {name}"
        for key, kept in self.kept_id.items():
            assert by_key[key]["id"] == kept, f"final: {key} kept the wrong copy"

    def check_apply(
        self, document: dict[str, Any] | None, delta: Delta, tally: Counter[str]
    ) -> None:
        for operation in ("list", "create", "update", "delete"):
            tally["429 answers"] += delta.requests(operation, "429")
            tally["dropped answers"] += delta.requests(operation, "dropped")
            for status in ("500", "502", "503", "504"):
                tally["5xx answers"] += delta.requests(operation, status)
        if document is None:  # the plan could not list a view: nothing may have been written
            assert sum(delta.committed(op) for op in ("create", "update", "delete")) == 0
            tally["applies refused (listing failed)"] += 1
            return
        results = document["results"]
        done = Counter(r["action"] for r in results if r["status"] == "done")
        failed = Counter(r["action"] for r in results if r["status"] == "failed")
        adopted = sum(
            1
            for r in results
            if r["action"] == "create"
            and r["status"] == "done"
            and r["message"].startswith("adopted")
        )
        already = sum(
            1
            for r in results
            if r["action"] == "delete"
            and r["status"] == "done"
            and r["message"] == "already deleted"
        )
        summary = document["summary"]
        assert summary.startswith(
            f"Apply: {done['create']} created, {done['patch']} patched, {done['delete']} deleted,"
        ), summary
        d = delta
        without_id = d.fault("creates_without_id") + d.fault("creates_empty_body")
        # creates (a 201 without an id is never "done" without adoption)
        assert d.requests("create", "201") - without_id == done["create"] - adopted
        assert adopted <= d.requests("create", "dropped") + without_id
        assert d.committed("create") == d.requests("create", "201") + d.requests(
            "create", "dropped"
        )
        assert done["create"] <= d.committed("create") <= done["create"] + failed["create"]
        # patches
        assert d.requests("update", "200") == done["patch"]
        assert d.committed("update") == d.requests("update", "200") + d.requests(
            "update", "dropped"
        )
        # deletes
        assert d.requests("delete", "204") == done["delete"] - already
        assert d.requests("delete", "404") == already
        assert d.committed("delete") == d.requests("delete", "204") + d.requests(
            "delete", "dropped"
        )
        # ("already deleted": a dropped commit of the same DELETE, or a lagging listing that
        # still showed a copy deleted moments before)
        assert (
            done["delete"] - already <= d.committed("delete") <= done["delete"] + failed["delete"]
        )
        tally["adopted creates"] += adopted
        for name in ("lagged_listings", "repeated_ids_same", "repeated_ids_renamed"):
            tally[f"world: {name}"] += d.fault(name)
        tally["world: creates without id"] += without_id
        tally["world: concurrent writes"] += d.fault("concurrent_writes")
        tally["deletes already done"] += already
        tally["patches committed twice"] += d.committed("update") - done["patch"]
        tally["failed operations"] += sum(failed.values())


def test_chaos_scenario(
    chaos_seed: int,
    chaos_env: Path,
    chaos_runtime: Runtime,
    chaos_server: tuple[str, EmulatorSettings],
    chaos_tally: Counter[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, settings = chaos_server
    scenario = generate(chaos_seed)
    faults = scenario.faults
    reset_server(url, settings, chaos_seed)
    response = httpx.post(f"{url}/_emulator/snapshots", json={"data": scenario.remote})
    assert response.status_code == 201, response.text
    seeded: list[dict[str, Any]] = response.json()["data"]
    write_desired(chaos_env, scenario)
    checker = Checker(scenario, seeded)
    (chaos_env / "reconciler.yaml").write_text(checker.safety_config())
    context = scenario.describe()
    started = time.perf_counter()

    profiles = [
        (faults.fail_rate, faults.drop_after_commit_rate),
        (faults.second_fail_rate, faults.second_drop_rate),
    ]
    if faults.repeat_ids_rate:  # a refused apply (a repeated id that conflicts) writes nothing
        profiles += [(0.0, 0.0)] * 2
    committed_creates = committed_deletes = foreign = 0
    code = 1
    applies = 0
    for fail_rate, drop_rate in profiles:
        config = {
            "fail_rate": fail_rate,
            "drop_after_commit_rate": drop_rate,
            "latency_ms": faults.latency_ms,
            "rate_limit": faults.rate_limit,
        }
        httpx.post(f"{url}/_emulator/config", json=config | faults.world()).raise_for_status()
        time.sleep(faults.list_lag_ms / 1000)  # runs are minutes apart, not microseconds
        before = stats(url)
        code, document, err = run_apply(url, scenario.parallelism, capsys, chaos_runtime)
        applies += 1
        delta = Delta(before, stats(url))
        where = f"apply {applies} (exit {code}; stderr tail {err[-800:]!r}) of {context}"
        assert code in (0, 1), where
        assert "Traceback" not in err, where
        assert "internal error" not in err, where
        assert "refusing to apply an unsafe plan" not in err, where
        foreign += delta.fault("concurrent_writes")
        try:
            checker.check_apply(document, delta, chaos_tally)
            checker.check_state(remote_items(url), f"after apply {applies}", foreign)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{where}") from None
        committed_creates += delta.committed("create")
        committed_deletes += delta.committed("delete")
        if code == 0:
            break
        chaos_tally["first applies exiting 1"] += 1

    quiet = {"fail_rate": 0, "drop_after_commit_rate": 0, "repeat_ids_rate": 0}
    httpx.post(f"{url}/_emulator/config", json=quiet | {"concurrent_writer_rate": 0})
    try:
        checker.check_final(remote_items(url))
        assert committed_creates == checker.expected_creates, "creates committed"
        # Each copy another writer made was removed as a duplicate (ours or theirs).
        assert committed_deletes == checker.expected_deletes + foreign, "deletes committed"
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\nafter {applies} applies (last exit {code}) of {context}"
        ) from None
    chaos_tally["scenarios"] += 1
    chaos_tally["applies"] += applies
    chaos_tally["snapshots seeded"] += len(scenario.remote)
    if faults.fail_rate >= 0.3:
        chaos_tally["harsh scenarios"] += 1
    chaos_tally["slowest scenario ms"] = max(
        chaos_tally["slowest scenario ms"], int(1000 * (time.perf_counter() - started))
    )
