"""Randomized, seeded apply scenarios against a real emulator server with injected faults.

Each scenario (tests/support/chaos.py) seeds a remote state, writes the desired files and
runs `apply --auto-approve --force --format json` in-process (the real command, the real
client over real sockets; only the retry backoff is shortened, so that 200 scenarios run
in minutes), at most twice. Invariants, checked after every apply unless said otherwise:

1. No duplicate: no key has more copies than the scenario seeded (1 for a fresh key).
2. Nothing declared is lost: the id of every declared snapshot that existed with its key
   unchanged is still there; for a seeded duplicate, one of its seeded ids is.
3. Unmanaged views untouched: every snapshot outside the managed views keeps its id and
   every attribute (modified_at included).
4. The apply's JSON summary agrees with what the emulator recorded (deltas of
   /_emulator/stats over that apply, "dropped" = committed, then connection dropped):
   - creates: 201 answers == done creates not adopted; adopted creates <= dropped creates;
     committed == 201 + dropped; done <= committed <= done + failed (a create committed
     whose answer was lost and whose adoption listing then failed is "failed", yet exists);
   - patches: 200 answers == done patches exactly; committed == 200 + dropped (a PATCH
     retried after a dropped answer commits twice: it is idempotent, so that is allowed);
   - deletes: 204 answers == done deletes other than "already deleted"; 404 answers ==
     "already deleted" (each follows a dropped commit of the same DELETE); committed ==
     204 + dropped; done <= committed <= done + failed.
5. Over the whole scenario: committed creates == desired keys absent at the start, exactly
   (every create happened once: never a duplicate, never a lost create); committed deletes
   == managed remote snapshots whose key is not kept, exactly.
6. After at most two applies the remote equals the desired state: per managed view, the
   declared keys exactly once each, with every declared field's value; for a seeded
   duplicate, the kept id is the one the plan rules name (already matching, else oldest).
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

from reconciler.cli import guarded
from reconciler.commands import apply as apply_command
from reconciler.emulator import EmulatorSettings
from reconciler.retry import RetryPolicy
from reconciler.runtime import Runtime
from support.chaos import Key, Scenario, generate, key_of, reset_server
from support.workspace import API_KEY, APP_KEY

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
    """Real waits, shorter backoff: the same code paths, 200 scenarios in minutes."""
    return Runtime(
        retry=RetryPolicy(base_delay=0.01, max_delay=0.2, rng=random.Random(chaos_seed)),
        consistency_window=0.3,  # the emulator's listings do not lag here
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


def run_apply(
    url: str, parallelism: int, capsys: pytest.CaptureFixture[str], runtime: Runtime
) -> tuple[int, dict[str, Any] | None, str]:
    capsys.readouterr()
    code = guarded(
        lambda: apply_command.run(
            plan_path=None,
            config_path=None,
            overrides={"api_url": url, "parallelism": parallelism},
            auto_approve=True,
            force=True,
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

    def _kept(self, key: Key) -> str:
        wanted = self.desired[key]
        for item in self.copies[key]:
            if all(item["attributes"].get(f) == wanted[f] for f in MUTABLE if f in wanted):
                return str(item["id"])
        return str(self.copies[key][0]["id"])

    def check_state(self, items: list[dict[str, Any]], when: str) -> None:
        managed = self.scenario.managed
        keys = Counter(key_of(i["attributes"]) for i in items)
        ids = {i["id"] for i in items}
        for key, count in keys.items():
            seeded = len(self.copies.get(key, ()))
            assert count <= max(1, seeded), f"{when}: {count} copies of {key}"
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
        # creates
        assert d.requests("create", "201") == done["create"] - adopted
        assert adopted <= d.requests("create", "dropped")
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
        assert done["delete"] <= d.committed("delete") <= done["delete"] + failed["delete"]
        tally["adopted creates"] += adopted
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
    context = scenario.describe()
    started = time.perf_counter()

    profiles = [
        (faults.fail_rate, faults.drop_after_commit_rate),
        (faults.second_fail_rate, faults.second_drop_rate),
    ]
    committed_creates = committed_deletes = 0
    code = 1
    applies = 0
    for fail_rate, drop_rate in profiles:
        config = {
            "fail_rate": fail_rate,
            "drop_after_commit_rate": drop_rate,
            "latency_ms": faults.latency_ms,
            "rate_limit": faults.rate_limit,
        }
        httpx.post(f"{url}/_emulator/config", json=config).raise_for_status()
        before = stats(url)
        code, document, err = run_apply(url, scenario.parallelism, capsys, chaos_runtime)
        applies += 1
        delta = Delta(before, stats(url))
        where = f"apply {applies} (exit {code}; stderr tail {err[-800:]!r}) of {context}"
        assert code in (0, 1), where
        assert "Traceback" not in err, where
        assert "internal error" not in err, where
        try:
            checker.check_apply(document, delta, chaos_tally)
            checker.check_state(remote_items(url), f"after apply {applies}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{where}") from None
        committed_creates += delta.committed("create")
        committed_deletes += delta.committed("delete")
        if code == 0:
            break
        chaos_tally["first applies exiting 1"] += 1

    httpx.post(f"{url}/_emulator/config", json={"fail_rate": 0, "drop_after_commit_rate": 0})
    try:
        checker.check_final(remote_items(url))
        assert committed_creates == checker.expected_creates, "creates committed"
        assert committed_deletes == checker.expected_deletes, "deletes committed"
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
