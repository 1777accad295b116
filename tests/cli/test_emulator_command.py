"""`reconciler emulator --port 0` as a subprocess: prints its URL, serves, stops on signals."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reconciler.cli.main import main
from support.emulatorkit import COLLECTION, KEYS, PLAIN_CONFIG, create_body
from support.processes import start_emulator

#: Real processes (the CLI, the emulator): run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serves_and_stops_cleanly(stop: signal.Signals) -> None:
    process, url = start_emulator()
    try:
        response = httpx.get(f"{url}{COLLECTION}", params={"filter[view_name]": "/"})
        assert response.status_code == 403
        assert response.json() == {"errors": ["Forbidden"]}
        assert response.headers["x-ratelimit-name"] == "replay_heatmap_snapshots_list"
        created = httpx.post(f"{url}{COLLECTION}", json=create_body(), headers=KEYS)
        assert created.status_code == 201
    finally:
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_options_reach_the_emulator(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    process, url = start_emulator(
        "--db", str(db), "--rate-limit", "7", "--page-limit-max", "50", "--fault-seed", "5"
    )
    try:
        config = httpx.get(f"{url}/_emulator/config").json()
        assert config["rate_limit"] == 7
        assert config["page_limit_max"] == 50
        assert config["seed"] == 5
        assert httpx.post(f"{url}{COLLECTION}", json=create_body(), headers=KEYS).status_code == 201
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0
    # The file database outlives the process.
    process, url = start_emulator("--db", str(db))
    try:
        listed = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
        assert len(listed) == 1
        assert json.dumps(listed)  # plain JSON
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


def test_realism_and_fault_flags_reach_the_emulator() -> None:
    process, url = start_emulator(
        "--page-cap",
        "40",
        "--page-cap-mode",
        "reject",
        "--list-lag-ms",
        "250",
        "--sparse-items",
        "start, application_id",
        "--timestamp-precision",
        "variable",
        "--normalize-view-names",
        "--error-style",
        "objects",
        "--extra-attributes",
        "--repeat-ids-rate",
        "0.1",
        "--create-without-id-rate",
        "0.2",
        "--concurrent-writer-rate",
        "0.3",
        "--api-key",
        "only-api",
        "--app-key",
        "only-app",
    )
    try:
        config = httpx.get(f"{url}/_emulator/config").json()
        assert (
            config
            | {
                "page_limit_max": 40,
                "page_cap_mode": "reject",
                "list_lag_ms": 250.0,
                "sparse_items": ["start", "application_id"],
                "timestamp_precision": "variable",
                "normalize_view_names": True,
                "error_style": "objects",
                "extra_attributes": True,
                "repeat_ids_rate": 0.1,
                "create_without_id_rate": 0.2,
                "concurrent_writer_rate": 0.3,
            }
            == config
        )
        assert "only-api" not in json.dumps(config)  # keys are not echoed
        params = {"filter[view_name]": "/", "page[limit]": "41"}
        refused = httpx.get(f"{url}{COLLECTION}", params=params, headers=KEYS)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["status"] == "403"
        right = {"DD-API-KEY": "only-api", "DD-APPLICATION-KEY": "only-app"}
        capped = httpx.get(f"{url}{COLLECTION}", params=params, headers=right)
        assert capped.json()["errors"][0]["detail"] == "page[limit] must be <= 40"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_defaults_are_the_plain_behaviour() -> None:
    process, url = start_emulator()
    try:
        config = httpx.get(f"{url}/_emulator/config").json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert config | PLAIN_CONFIG == config


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-rate", "1.5"], "--fail-rate must be between 0 and 1"),
        (["--page-limit-max", "0"], "--page-limit-max must be at least 1"),
        (["--db", "/nonexistent-dir/x/db.sqlite3"], "cannot open the database"),
    ],
)
def test_bad_options_are_one_line_errors(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_busy_port_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", "emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repeat-ids-rate", "2"], "--repeat-ids-rate must be between 0 and 1"),
        (["--list-lag-ms", "-1"], "--list-lag-ms must not be negative"),
        (["--sparse-items", "start,colour"], "--sparse-items: unknown attribute(s) colour"),
        (["--api-key", "a"], "--api-key and --app-key go together"),
        (["--api-key", "", "--app-key", ""], "--api-key and --app-key must not be empty"),
        (["--page-cap-mode", "loud"], "Invalid value for '--page-cap-mode'"),
        (["--page-cap", "0"], "--page-limit-max must be at least 1"),
        (["--port", "65536"], "Invalid value for '--port': 65536 is not in the range"),
        (["--port", "-1"], "Invalid value for '--port': -1 is not in the range"),
        # A bad --fail-rate too: were the empty host taken, the test fails rather than serving.
        (["--host", "", "--fail-rate", "2"], "Invalid value for '--host': must not be empty"),
    ],
)
def test_bad_realism_options_are_refused_before_listening(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process: the options are checked before the port is bound, so nothing serves.
    assert main(["emulator", "--port", "0", *args]) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert "internal error" not in captured.err
    assert "Emulator listening" not in captured.out
