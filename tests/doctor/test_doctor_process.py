"""`reconciler doctor` as a real process against a real emulator process: a `kill -9` in the
middle of the write probe leaves a probe snapshot that the next run removes."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.doctor.probe import PROBE_PREFIX
from support.factories import APP
from support.processes import env_for, reconciler, running_emulator, spawn
from support.workspace import API_KEY

#: Real processes (the CLI, the emulator): run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow


@pytest.fixture
def emulator_process(request: pytest.FixtureRequest) -> Iterator[str]:
    args: list[str] = getattr(request, "param", [])
    with running_emulator(*args) as url:
        yield url


def workspace(root: Path, url: str) -> None:
    (root / "snapshots").mkdir()
    document: dict[str, Any] = {
        "application_id": APP,
        "views": {
            "/checkout": [
                {"snapshot_name": "s", "device_type": "desktop", "event_id": "e", "start": 1}
            ]
        },
    }
    (root / "snapshots" / "a.yaml").write_text(json.dumps(document))
    seed = {
        "data": [
            {
                **document["views"]["/checkout"][0],
                "application_id": APP,
                "view_name": "/checkout",
                "is_device_type_selected_by_user": False,
            }
        ]
    }
    httpx.post(f"{url}/_emulator/snapshots", json=seed).raise_for_status()


def probes(url: str) -> list[str]:
    data = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
    return [s["id"] for s in data if s["attributes"]["snapshot_name"].startswith(PROBE_PREFIX)]


@pytest.mark.parametrize("emulator_process", [["--list-lag-ms", "120000"]], indirect=True)
def test_kill_9_mid_probe_then_the_next_run_cleans_up(
    tmp_path: Path, emulator_process: str
) -> None:
    url = emulator_process
    workspace(tmp_path, url)
    env = env_for(url)
    # The lag keeps the first doctor waiting for its probe to show in listings.
    first = spawn(["doctor", "--write-probe"], tmp_path, env)
    try:
        deadline = time.monotonic() + 60
        while not probes(url):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the probe was never created"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert len(probes(url)) == 1  # killed mid-probe: the probe is left behind
    httpx.post(f"{url}/_emulator/config", json={"list_lag_ms": 0}).raise_for_status()
    second = reconciler(["doctor", "--write-probe"], tmp_path, env)
    assert (
        "note     probe: removed 1 leftover probe snapshot(s) of an interrupted run"
        in second.stdout
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert probes(url) == []


@pytest.mark.parametrize(
    "emulator_process",
    [
        [
            "--api-key",
            "only-this-api-key-0123456789abcd",
            "--app-key",
            "only-this-app-key-0123456789abcdef012345",
        ]
    ],
    indirect=True,
)
def test_a_403_is_rehearsed_with_api_key(tmp_path: Path, emulator_process: str) -> None:
    workspace(tmp_path, emulator_process)
    result = reconciler(["doctor"], tmp_path, env_for(emulator_process))
    assert result.returncode == 1
    assert "differs  keys: refused: GET /api/v2/replay/heatmap/snapshots" in result.stdout
    assert "403 Forbidden" in result.stdout
    assert API_KEY not in result.stdout + result.stderr
    allowed = env_for(emulator_process) | {
        "DD_API_KEY": "only-this-api-key-0123456789abcd",
        "DD_APP_KEY": "only-this-app-key-0123456789abcdef012345",
    }
    assert reconciler(["doctor"], tmp_path, allowed).returncode == 0
