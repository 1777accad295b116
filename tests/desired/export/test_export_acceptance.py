"""Acceptance: 200 snapshots in 10 views, seeded with Datadog's official client into a real
emulator server; `reconciler export` as a process, then `plan` on the result: no changes."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.v2.api.rum_replay_heatmaps_api import RumReplayHeatmapsApi
from datadog_api_client.v2.model.snapshot_create_request import SnapshotCreateRequest
from datadog_api_client.v2.model.snapshot_create_request_data import SnapshotCreateRequestData
from datadog_api_client.v2.model.snapshot_create_request_data_attributes import (
    SnapshotCreateRequestDataAttributes,
)
from datadog_api_client.v2.model.snapshot_update_request_data_type import (
    SnapshotUpdateRequestDataType,
)

from reconciler.emulator import EmulatorSettings, serve_in_thread
from support.processes import env_for, reconciler
from support.workspace import API_KEY, APP, APP_KEY

VIEWS = [f"/view-{i}" for i in range(10)]
DEVICES = ("desktop", "mobile", "tablet")
#: A few names YAML would misread unquoted.
NAMES = dict(enumerate(["yes", "1500", "a: b", "null", " leading", "café ☕", "~", "#x"]))


def seed(url: str) -> None:
    configuration = Configuration(host=url)
    configuration.api_key["apiKeyAuth"] = API_KEY
    configuration.api_key["appKeyAuth"] = APP_KEY
    with ApiClient(configuration) as client:
        api = RumReplayHeatmapsApi(client)
        for number in range(200):
            optional = {"session_id": f"session-{number}"} if number % 3 == 0 else {}
            if number % 5 == 0:
                optional["view_id"] = f"view-id-{number}"
            api.create_replay_heatmap_snapshot(
                body=SnapshotCreateRequest(
                    data=SnapshotCreateRequestData(
                        type=SnapshotUpdateRequestDataType.SNAPSHOTS,
                        attributes=SnapshotCreateRequestDataAttributes(
                            application_id=APP,
                            view_name=VIEWS[number % 10],
                            device_type=DEVICES[number % 3],
                            snapshot_name=NAMES.get(number, f"s{number:03}"),
                            event_id=f"event-{number}",
                            start=number * 10,
                            is_device_type_selected_by_user=number % 2 == 0,
                            **optional,
                        ),
                    )
                )
            )


def run(args: list[str], cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    return reconciler(args, cwd, env_for(url))


def test_export_200_snapshots_then_plan_shows_no_changes(tmp_path: Path) -> None:
    began = time.monotonic()
    with serve_in_thread(EmulatorSettings()) as url:
        seed(url)
        views = [arg for view in VIEWS for arg in ("--view", view)]
        exported = run(
            ["export", "--application-id", APP, *views, "--output", "snapshots/x.yaml"],
            tmp_path,
            url,
        )
        assert (exported.returncode, exported.stdout) == (0, ""), exported.stderr
        text = (tmp_path / "snapshots" / "x.yaml").read_text()
        assert text.count("- snapshot_name: ") == 200
        planned = run(["plan", "--detailed-exitcode"], tmp_path, url)
        assert (planned.returncode, planned.stdout) == (0, "No changes.\n"), planned.stderr
    assert time.monotonic() - began < 20
