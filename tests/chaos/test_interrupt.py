"""kill -9 of `reconciler apply` mid-apply, then apply again: it converges with no
duplicate and no lost snapshot, without --force.

The apply runs as a real process against the shared real emulator server, with 50 ms of
latency per request and parallelism 2 so that its ~50 writes take about 1-2 s; it is killed
with SIGKILL once the server has committed a seeded number of writes (1-45), so the kill
lands among the creates, the patches or the deletes, and the test checks that it did.
Before the second apply the test waits for the server to finish the requests the dead
process had already sent (a request that reached the server may still commit: no API can
take it back, and the second apply's listing must see it, as it would in real life
minutes later).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from support.chaos import APPS, key_of, reset_server
from support.processes import RECONCILER, env_for, reconciler

#: Real processes (the CLI, the emulator): run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow

VIEWS = ("/a", "/b", "/c")


def build(seed: int) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """30 creates, 10 patches, 10 deletes and 10 unchanged over three views."""
    rng = random.Random(seed)
    remote: list[dict[str, Any]] = []
    desired: dict[str, list[dict[str, Any]]] = {view: [] for view in VIEWS}
    for index in range(60):
        view = VIEWS[index % 3]
        entry = {
            "snapshot_name": f"s{index:02d}",
            "device_type": rng.choice(("desktop", "mobile", "tablet")),
            "event_id": f"e{index}",
            "start": index,
            "is_device_type_selected_by_user": False,
        }
        if index < 30:  # create
            desired[view].append(entry)
            continue
        attributes = {"application_id": APPS[0], "view_name": view, **entry}
        if index < 40:  # patch
            remote.append({**attributes, "start": index + 1000})
        else:
            remote.append(attributes)
        if index < 50:  # patched or unchanged: declared; 50-59 are deleted
            desired[view].append(entry)
    rng.shuffle(remote)
    return remote, desired


def wait_until_quiet(url: str, timeout: float = 5.0) -> None:
    """Until the total request count stops moving for 0.3 s (in-flight requests done)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        total = httpx.get(f"{url}/_emulator/stats").json()["total_requests"]
        if total == last:
            return
        last = total
        time.sleep(0.3)


def test_kill_9_mid_apply_then_apply_converges(
    interrupt_seed: int,
    tmp_path: Path,
    chaos_server: tuple[str, EmulatorSettings],
    chaos_tally: Counter[str],
) -> None:
    url, settings = chaos_server
    rng = random.Random(interrupt_seed)
    remote, desired = build(interrupt_seed)
    reset_server(url, settings, interrupt_seed, latency_ms=50)
    response = httpx.post(f"{url}/_emulator/snapshots", json={"data": remote})
    assert response.status_code == 201, response.text
    declared_before = {
        item["id"]
        for item in response.json()["data"]
        if int(item["attributes"]["snapshot_name"][1:]) < 50
    }
    (tmp_path / "snapshots").mkdir()
    # About 4 of 10 per view are patched, 3 deleted: thresholds of 50% instead of --force.
    (tmp_path / "reconciler.yaml").write_text(
        "safety:\n  max_update_fraction: 0.5\n  max_delete_fraction: 0.5\n"
    )
    document = {"application_id": APPS[0], "views": desired}
    (tmp_path / "snapshots" / "a.yaml").write_text(json.dumps(document, indent=1))
    env = env_for(url)

    # Kill when the server has committed a seeded number of the ~50 writes: the kill lands
    # mid-apply, among the creates, the patches or the deletes, by construction.
    target = rng.randint(1, 45)
    with (tmp_path / "out.txt").open("w") as out:
        process = subprocess.Popen(
            [*RECONCILER, "apply", "--auto-approve", "--parallelism", "2"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while writes(url) < target and process.poll() is None:
            assert time.monotonic() < deadline, "the apply never reached its target"
            time.sleep(0.005)
        ended = process.poll()
        assert ended is None, f"apply exited {ended} first: {(tmp_path / 'out.txt').read_text()}"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    at_kill = writes(url)
    wait_until_quiet(url)
    committed = httpx.get(f"{url}/_emulator/stats").json()["committed"]
    context = (
        f"trial {interrupt_seed}: killed at {at_kill} committed writes (target {target}); "
        f"committed before the kill {committed}. "
        f"Reproduce: pytest tests/chaos --chaos-seed {interrupt_seed} -k interrupt"
    )
    assert process.returncode == -signal.SIGKILL, f"the apply ended before the kill: {context}"
    assert 0 < sum(committed.values()) < 50, f"the kill did not land mid-apply: {context}"

    def check(items: list[dict[str, Any]], when: str) -> None:
        counts = Counter(key_of(item["attributes"]) for item in items)
        assert max(counts.values()) == 1, f"{when}: a duplicate: {context}"
        ids = {item["id"] for item in items}
        assert declared_before <= ids, f"{when}: a declared snapshot was lost: {context}"

    check(httpx.get(f"{url}/_emulator/snapshots").json()["data"], "after the kill")
    settings.latency_ms = 0
    second = reconciler(["apply", "--auto-approve"], tmp_path, env)
    assert second.returncode == 0, f"{second.stdout[-2000:]}{second.stderr[-2000:]}\n{context}"
    assert "Traceback" not in second.stderr
    items = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
    check(items, "after the second apply")
    final = {
        key_of(item["attributes"])[1:]: item["attributes"]["start"]
        for item in items
        if item["attributes"]["view_name"] in VIEWS
    }
    wanted = {
        (view, entry["device_type"], entry["snapshot_name"]): entry["start"]
        for view, entries in desired.items()
        for entry in entries
    }
    assert final == wanted, context
    chaos_tally["interruption trials"] += 1
    chaos_tally["interruptions: killed mid-apply"] += 1
    print(context)


def writes(url: str) -> int:
    committed = httpx.get(f"{url}/_emulator/stats").json()["committed"]
    return sum(int(count) for count in committed.values())
