"""Canary keys never appear in any output or any file written, whatever the command, the
verbosity or the path taken (success, refusal, 403, 5xx, a server that echoes the request
headers back in its bodies)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator import EmulatorSettings, serve_in_thread
from reconciler.retry import RetryPolicy
from reconciler.runtime import Runtime
from support.processes import env_for, reconciler
from support.workspace import APP

API_KEY = "canary-api-7f3a9c1e5d2b4a68"
APP_KEY = "canary-app-52be81d04c9f7e13"
FRAGMENTS = ("canary-api", "canary-app", "7f3a9c1e", "52be81d0")


def leaks(text: str) -> list[str]:
    return [fragment for fragment in FRAGMENTS if fragment in text]


def canary_env(url: str) -> dict[str, str]:
    return {**env_for(url), "DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY}


def assert_clean(root: Path, *texts: str) -> None:
    for text in texts:
        assert not leaks(text), text[-3000:]
    for path in root.rglob("*"):
        if path.is_file():
            assert not leaks(path.read_bytes().decode("utf-8", "replace")), path


def write_desired(root: Path) -> None:
    entries = [
        {"snapshot_name": f"s{i}", "device_type": "desktop", "event_id": "e", "start": i}
        for i in range(3)
    ]
    (root / "snapshots").mkdir(exist_ok=True)
    document = {"application_id": APP, "views": {"/a": entries, "/b": []}}
    (root / "snapshots" / "a.yaml").write_text(json.dumps(document))


@pytest.fixture
def server() -> Iterator[tuple[str, EmulatorSettings]]:
    settings = EmulatorSettings()
    with serve_in_thread(settings) as url:
        yield url, settings


def export_available(root: Path, env: dict[str, str]) -> bool:
    return reconciler(["export", "--help"], root, env).returncode == 0


def test_every_command_keeps_the_keys_secret(
    tmp_path: Path, server: tuple[str, EmulatorSettings]
) -> None:
    url, settings = server
    env = canary_env(url)
    write_desired(tmp_path)
    httpx.post(
        f"{url}/_emulator/snapshots",
        json={
            "data": [
                {
                    "application_id": APP,
                    "view_name": "/b",
                    "device_type": "mobile",
                    "snapshot_name": "old",
                    "event_id": "e",
                    "start": 0,
                    "is_device_type_selected_by_user": False,
                }
            ]
        },
    ).raise_for_status()
    runs = [
        ["validate"],
        ["validate", "--format", "json", "-vv"],
        ["validate", "--format", "github"],
        ["plan"],
        ["plan", "-v"],
        ["plan", "-vv", "--format", "markdown"],
        ["plan", "--format", "json", "-vv"],
        ["plan", "--out", "plan.json", "-vv"],
        ["show", "plan.json"],
        ["show", "plan.json", "--format", "json", "-vv"],
        ["show", "plan.json", "--format", "markdown"],
        ["apply"],  # refused: no TTY, no --auto-approve
        ["apply", "plan.json", "-vv"],
        ["apply", "plan.json", "-vv"],  # stale now
        ["plan", "--out", "plan2.json"],
        ["apply", "--auto-approve", "-vv", "--format", "json"],
        ["emulator", "--help"],
        ["plan", "--help"],
        ["--version"],
        ["apply", "--no-such-option"],
    ]
    if export_available(tmp_path, env):
        runs += [
            ["export", "--application-id", APP, "--view", "/a", "-o", "exported.yaml", "-vv"],
            ["export", "--application-id", APP, "--view", "/a", "-vv"],
        ]
    codes = []
    for args in runs:
        result = reconciler(args, tmp_path, env)
        codes.append(result.returncode)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert_clean(tmp_path, result.stdout, result.stderr)
    assert codes[:4] == [0, 0, 0, 0]
    assert (tmp_path / "plan.json").is_file()
    # Bad keys: the emulator accepts only other keys and answers 403.
    settings.accepted_keys = (("other", "other"),)
    for args in (["plan", "-vv"], ["apply", "--auto-approve", "-vv"], ["apply", "plan2.json"]):
        result = reconciler(args, tmp_path, env)
        assert result.returncode == 1
        assert "403" in result.stderr or "403" in result.stdout
        assert_clean(tmp_path, result.stdout, result.stderr)


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with its own headers (keys included) in the body."""

    mode = "json-400"

    def _answer(self) -> None:
        headers = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
        if self.mode == "json-400":
            status, body = 400, json.dumps({"errors": [f"bad request with {headers}"]})
        elif self.mode == "json-403":
            status, body = 403, json.dumps({"errors": [{"title": "Forbidden", "detail": headers}]})
        elif self.mode == "straddle":
            # Non-JSON: the client quotes the first 200 characters; put the key across that cut.
            key = self.headers.get("DD-API-KEY", "")
            status, body = 400, "x" * (200 - 3 - len(key) // 2) + key + " " + headers
        else:  # a 200 that is HTML, quoting the headers
            status, body = 200, f"<html><pre>{headers}</pre></html>"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("mode", ["json-400", "json-403", "straddle", "html-200"])
def test_a_server_echoing_the_headers(mode: str, tmp_path: Path) -> None:
    handler = type("Handler", (EchoHandler,), {"mode": mode})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        env = canary_env(url)
        write_desired(tmp_path)
        for args in (["plan", "-vv"], ["apply", "--auto-approve", "-vv"], ["plan", "--out", "p"]):
            result = reconciler(args, tmp_path, env)
            assert result.returncode == 1, result.stdout + result.stderr
            assert "Traceback" not in result.stderr
            assert "***" in result.stdout + result.stderr  # the echoed keys, masked
            assert_clean(tmp_path, result.stdout, result.stderr)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_server_errors_in_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    server: tuple[str, EmulatorSettings],
) -> None:
    """5xx on every request, through retries (in-process with a fast backoff): -vv logs
    every attempt, and none of them shows a key."""
    url, settings = server
    settings.fail_rate = 1.0
    monkeypatch.chdir(tmp_path)
    for name, value in canary_env(url).items():
        monkeypatch.setenv(name, value)
    write_desired(tmp_path)
    runtime = Runtime(retry=RetryPolicy(base_delay=0.01, max_delay=0.05, rng=random.Random(3)))
    for args in (["plan", "-vv"], ["apply", "--auto-approve", "-vv"]):
        capsys.readouterr()
        assert main(args, runtime=runtime) == 1
        captured = capsys.readouterr()
        assert "(attempt 5)" in captured.err  # -vv logged each retry
        assert_clean(tmp_path, captured.out, captured.err)
