"""The real command line as a process, against a real emulator server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorSettings, serve_in_thread
from support.processes import RECONCILER, env_for, reconciler, spawn
from support.workspace import API_KEY, APP

#: Real processes (the CLI, the emulator): run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow


@pytest.fixture
def server() -> Iterator[tuple[str, EmulatorSettings]]:
    settings = EmulatorSettings()
    with serve_in_thread(settings) as url:
        yield url, settings


def write_desired(root: Path, count: int) -> None:
    entries = [
        {"snapshot_name": f"s{i:03}", "device_type": "desktop", "event_id": f"e{i}", "start": i}
        for i in range(count)
    ]
    (root / "snapshots").mkdir(exist_ok=True)
    document = {"application_id": APP, "views": {"/checkout": entries}}
    (root / "snapshots" / "a.yaml").write_text(json.dumps(document, indent=1))


def remote_names(url: str) -> list[str]:
    data = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
    return sorted(item["attributes"]["snapshot_name"] for item in data)


def test_plan_apply_plan_as_processes(tmp_path: Path, server: tuple[str, EmulatorSettings]) -> None:
    url, _ = server
    env = env_for(url)
    write_desired(tmp_path, 5)
    planned = reconciler(["plan", "--detailed-exitcode"], tmp_path, env)
    assert planned.returncode == 2, planned.stderr
    assert planned.stdout.endswith("Plan: 5 to create, 0 to patch, 0 to delete.\n")
    refused = reconciler(["apply"], tmp_path, env)  # no TTY, no --auto-approve
    assert refused.returncode == 1
    applied = reconciler(["apply", "--auto-approve", "-v"], tmp_path, env)
    assert applied.returncode == 0, applied.stderr
    assert "Converged." in applied.stdout
    assert "POST /api/v2/replay/heatmap/snapshots 201" in applied.stderr  # -v logs requests
    assert API_KEY not in applied.stdout + applied.stderr
    assert remote_names(url) == [f"s{i:03}" for i in range(5)]
    again = reconciler(["plan", "--detailed-exitcode"], tmp_path, env)
    assert (again.returncode, again.stdout) == (0, "No changes.\n")


def test_saved_plan_as_processes(tmp_path: Path, server: tuple[str, EmulatorSettings]) -> None:
    url, _ = server
    env = env_for(url)
    write_desired(tmp_path, 3)
    assert reconciler(["plan", "--out", "plan.json"], tmp_path, env).returncode == 0
    shown = reconciler(["show", "plan.json", "--format", "markdown"], tmp_path, env)
    assert shown.returncode == 0
    assert "**Plan: 3 to create, 0 to patch, 0 to delete.**" in shown.stdout
    applied = reconciler(["apply", "plan.json"], tmp_path, env)
    assert applied.returncode == 0, applied.stderr
    stale = reconciler(["apply", "plan.json"], tmp_path, env)
    assert stale.returncode == 1
    assert "saved plan is stale" in stale.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--no-such-option"],
        ["plan", "--format", "yaml"],
        ["apply", "--parallelism", "0"],
        ["show"],
        ["nosuchcommand"],
        ["apply", "plan.json", "--target", "x"],
    ],
)
def test_every_usage_error_exits_1(tmp_path: Path, args: list[str]) -> None:
    result = reconciler(args, tmp_path, env_for("http://127.0.0.1:9"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "show", "export", "emulator"])
def test_help_on_every_command(tmp_path: Path, command: str) -> None:
    result = reconciler([command, "--help"], tmp_path, env_for("http://127.0.0.1:9"))
    assert result.returncode == 0
    assert "-v, --verbose" in result.stdout


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_finishes_in_flight_work_and_a_second_apply_converges(
    tmp_path: Path, server: tuple[str, EmulatorSettings], sig: signal.Signals, code: int
) -> None:
    url, settings = server
    settings.latency_ms = 100  # 60 creates at parallelism 2: about 3 s
    env = env_for(url)
    write_desired(tmp_path, 60)
    process = spawn(["apply", "--auto-approve", "--parallelism", "2"], tmp_path, env)
    assert process.stdout is not None
    # Wait for the first created line, then interrupt (SIGTERM: what CI runners send).
    first = process.stdout.readline()
    assert first.startswith(("+ create", "created")), first
    for line in process.stdout:
        if line.startswith("+ created "):
            first = line
            break
    process.send_signal(sig)
    # Read on through the same buffered file: communicate() would skip what it holds.
    rest = process.stdout.read()
    assert process.stderr is not None
    err = process.stderr.read()
    process.wait(timeout=30)
    out = first + rest
    assert process.returncode == code, err
    assert "Interrupted: finishing requests in flight, starting nothing new." in err
    assert "Traceback" not in err
    summary = next(line for line in out.splitlines() if line.startswith("Apply:"))
    assert "skipped." in summary
    assert not summary.endswith(" 0 skipped.")
    created_now = remote_names(url)
    assert 0 < len(created_now) < 60
    assert len(created_now) == len(set(created_now))
    # In-flight requests finished and were reported: what the summary says was created is
    # exactly what the server holds.
    reported = sorted(
        line.split('"')[1] for line in out.splitlines() if line.startswith("+ created ")
    )
    assert reported == created_now
    assert summary.startswith(f"Apply: {len(created_now)} created,")
    settings.latency_ms = 0
    again = reconciler(["apply", "--auto-approve"], tmp_path, env)
    assert again.returncode == 0, again.stderr
    assert "Converged." in again.stdout
    assert remote_names(url) == [f"s{i:03}" for i in range(60)]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_one_signal_at_the_prompt_exits_at_once(
    tmp_path: Path, server: tuple[str, EmulatorSettings], sig: signal.Signals, code: int
) -> None:
    import pty

    url, _ = server
    write_desired(tmp_path, 2)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*RECONCILER, "apply"],
        cwd=tmp_path,
        env=env_for(url),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    screen = read_until(controller, b"Apply 2 changes? [y/N]")
    process.send_signal(sig)  # once
    assert process.wait(timeout=30) == code
    screen += read_all(controller)
    os.close(controller)
    assert screen.rstrip().endswith(b"Interrupted."), screen
    assert b"Traceback" not in screen
    assert remote_names(url) == []


def read_until(fd: int, wanted: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        assert time.monotonic() < deadline, seen
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            seen += os.read(fd, 65536)
    return seen


def read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_progress_bar_and_colour_on_a_terminal(
    tmp_path: Path, server: tuple[str, EmulatorSettings]
) -> None:
    import pty

    url, _ = server
    write_desired(tmp_path, 4)
    env = {k: v for k, v in env_for(url).items() if k not in ("NO_COLOR", "CI")}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*RECONCILER, "apply", "--auto-approve"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    screen = read_all(controller).decode()
    assert process.wait(timeout=30) == 0
    os.close(controller)
    assert "\x1b[" in screen  # colour on a terminal
    assert "] 4/4" in screen  # the live line
    assert screen.count("+\x1b[0m created /checkout") == 4  # a line per operation too
    assert "Converged." in screen


@pytest.fixture
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """A server of the test's own that reads a request and never answers; the event is set
    once a whole request arrived (evidence that listing started)."""
    listener = socket.create_server(("127.0.0.1", 0))
    arrived = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            held.append(connection)
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            if data.startswith(b"GET /api/v2/replay/heatmap/snapshots"):
                arrived.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", arrived
    finally:
        listener.close()
        for connection in held:
            connection.close()


@pytest.mark.parametrize(
    ("command", "sig", "code"),
    [
        ("plan", signal.SIGINT, 130),
        ("apply", signal.SIGINT, 130),
        ("apply", signal.SIGTERM, 143),
    ],
)
def test_a_signal_while_listing_exits_at_once(
    tmp_path: Path,
    silent_server: tuple[str, threading.Event],
    command: str,
    sig: signal.Signals,
    code: int,
) -> None:
    url, arrived = silent_server
    write_desired(tmp_path, 2)
    process = spawn(
        [command, *(["--auto-approve"] if command == "apply" else [])], tmp_path, env_for(url)
    )
    assert arrived.wait(timeout=30), "the listing request never arrived"
    process.send_signal(sig)
    _, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert err.strip().endswith("Interrupted.")
    assert "Traceback" not in err


def test_emulator_stops_cleanly_on_a_signal_right_after_its_url(tmp_path: Path) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        process = subprocess.Popen(
            [*RECONCILER, "emulator", "--port", "0"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Emulator listening on http://127.0.0.1:")
        process.send_signal(sig)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "Traceback" not in err
