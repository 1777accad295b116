"""Canary keys never appear in any output or any file written, whatever the command, the
format, the verbosity or the path taken, against a hostile server of the test's own that
echoes the keys it received: whole, split in two, and as 12- and 20-character prefixes and
suffixes, into the snapshot names, ids and event ids of successful listings and writes, and
into error bodies (a key split across `title` and `detail`).

The rule checked (SECURITY.md): no run of 12 or more consecutive characters of a key
appears anywhere. Every run's exit code is checked; no case can drop out.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from reconciler.api.retry import RetryPolicy
from reconciler.api.runtime import Runtime
from reconciler.cli.main import main
from reconciler.emulator import EmulatorSettings, serve_in_thread
from support.processes import env_for, reconciler
from support.workspace import APP

# Real Datadog keys are 32 and 40 characters long.
API_KEY = "c4nary0api0" + "7f3a9c1e5d2b4a6891fe0d"
APP_KEY = "c4nary0app0" + "52be81d04c9f7e13a6b8d2c4e0f1a3b5c7"
KEYS = (API_KEY, APP_KEY)
RUN = 12  # no run this long of a key may appear


def leaks(text: str) -> list[str]:
    return sorted(
        {key[i : i + RUN] for key in KEYS for i in range(len(key) - RUN + 1)} & _grams(text)
    )


def _grams(text: str) -> set[str]:
    return {text[i : i + RUN] for i in range(len(text) - RUN + 1)}


def echoes(api: str, app: str) -> list[str]:
    """What the server puts in its answers, from the keys it was sent."""
    return [
        api,
        app,
        api[:16],
        api[16:],
        app[:20],
        app[20:],
        api[:12],
        api[-12:],
        app[:12],
        app[-12:],
        api[:20],
    ]


def assert_clean(root: Path, *texts: str) -> None:
    for text in texts:
        assert not leaks(text), (leaks(text), text[-3000:])
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes().decode("utf-8", "replace")
            assert not leaks(content), (path, leaks(content))


def write_desired(root: Path) -> None:
    entries = [
        {"snapshot_name": f"s{i}", "device_type": "desktop", "event_id": "e", "start": i}
        for i in range(3)
    ]
    (root / "snapshots").mkdir(exist_ok=True)
    document = {"application_id": APP, "views": {"/a": entries, "/b": []}}
    (root / "snapshots" / "a.yaml").write_text(json.dumps(document))
    # The echoed snapshots are all deleted: not a safety question here.
    (root / "reconciler.yaml").write_text("safety:\n  min_existing: 1000\n")


class EchoServer(ThreadingHTTPServer):
    """A stateful snapshots API whose every answer carries the keys it was sent."""

    mode = "ok"

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.items: list[dict[str, Any]] | None = None
        self.lock = threading.Lock()
        self.requests = 0

    def reset(self, mode: str = "ok") -> None:
        with self.lock:
            self.mode, self.items = mode, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up (a fatal 403 cancels the other listings): not news


class EchoHandler(BaseHTTPRequestHandler):
    server: EchoServer

    def keys(self) -> tuple[str, str]:
        return self.headers.get("DD-API-KEY", ""), self.headers.get("DD-APPLICATION-KEY", "")

    def seed(self) -> list[dict[str, Any]]:
        """First listing: snapshots named, identified and pointing at events by the keys,
        and one declared snapshot (`s0`) whose remote copy differs (a patch that quotes
        the old, echoed event id)."""
        api, app = self.keys()
        pieces = echoes(api, app)
        items = [
            item(f"id-{piece}-{i}", "/a", f"echo {piece}", event_id=pieces[-1 - i])
            for i, piece in enumerate(pieces[:7])
        ]
        items.append(item(f"{app[:14]}x", "/a", "s0", event_id=api[-12:], start=5))
        items.append(item(f"{api[5:25]}", "/b", f"{app[3:23]}", event_id=api))
        return items

    def answer(self, status: int, body: Any = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self) -> bool:
        """The error modes answer every request (or every write) with echoes."""
        api, app = self.keys()
        mode = self.server.mode
        headers = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
        if mode == "json-400":
            self.answer(400, {"errors": [f"bad request {p}" for p in echoes(api, app)]})
        elif mode == "json-403":
            errors = [
                {"title": api[:16], "detail": api[16:]},
                {"status": "403", "title": f"Forbidden {app[:20]}", "detail": app[20:]},
            ]
            self.answer(403, {"errors": errors})
        elif mode == "straddle":
            # Not JSON: the client quotes 200 characters; a key sits across that cut.
            text = "x" * (200 - 3 - len(api) // 2) + api + " " + headers
            self.answer(400, raw=text.encode())
        elif mode == "html-200":
            self.answer(200, raw=f"<html><pre>{headers}</pre></html>".encode())
        elif mode == "write-400" and self.command != "GET":
            self.answer(400, {"errors": [{"title": app[:20], "detail": f"{app[20:]} {api}"}]})
        else:
            return False
        return True

    def do_GET(self) -> None:
        self.server.requests += 1
        if self.error():
            return
        query = parse_qs(urlsplit(self.path).query)
        view = query.get("filter[view_name]", [""])[0]
        with self.server.lock:
            if self.server.items is None:
                self.server.items = self.seed()
            data = [i for i in self.server.items if i["attributes"]["view_name"] == view]
        self.answer(200, {"data": data})

    def do_POST(self) -> None:
        self.server.requests += 1
        if self.error():
            return
        api, app = self.keys()
        length = int(self.headers.get("Content-Length", "0"))
        attributes = json.loads(self.rfile.read(length))["data"]["attributes"]
        with self.server.lock:
            count = len(self.server.items or [])
            created = item(f"new-{api}-{count}", "", "", created_by=app) | {}
            created["attributes"] = {**created["attributes"], **attributes}
            (self.server.items or []).append(created)
        self.answer(201, {"data": created})

    def do_PATCH(self) -> None:
        self.server.requests += 1
        if self.error():
            return
        length = int(self.headers.get("Content-Length", "0"))
        attributes = json.loads(self.rfile.read(length))["data"]["attributes"]
        snapshot_id = self.path.rsplit("/", 1)[-1]
        with self.server.lock:
            for found in self.server.items or []:
                if found["id"] == snapshot_id:
                    found["attributes"].update(attributes)
                    self.answer(200, {"data": found})
                    return
        self.answer(404, {"errors": [f"no snapshot {self.keys()[0]}"]})

    def do_DELETE(self) -> None:
        self.server.requests += 1
        if self.error():
            return
        snapshot_id = self.path.rsplit("/", 1)[-1]
        with self.server.lock:
            self.server.items = [i for i in self.server.items or [] if i["id"] != snapshot_id]
        self.answer(204)

    def log_message(self, format: str, *args: object) -> None:
        pass


def item(snapshot_id: str, view: str, name: str, **attributes: Any) -> dict[str, Any]:
    values = {
        "application_id": APP,
        "view_name": view,
        "device_type": "desktop",
        "snapshot_name": name,
        "event_id": "e",
        "start": 0,
        "is_device_type_selected_by_user": False,
        "created_at": "2026-01-01T00:00:00.000Z",
    }
    return {"id": snapshot_id, "type": "snapshots", "attributes": values | attributes}


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, echo: EchoServer) -> Path:
    for name in ("DD_SITE", "RECONCILER_ALLOWED_HOSTS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.setenv("RECONCILER_API_URL", echo.url)
    monkeypatch.chdir(tmp_path)
    write_desired(tmp_path)
    return tmp_path


def fast() -> Runtime:
    return Runtime(retry=RetryPolicy(base_delay=0.01, max_delay=0.05, rng=random.Random(3)))


def run_all(
    runs: list[tuple[list[str], int]], root: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """Each command in-process, as the CLI runs it; every exit code and every output and
    file checked. Returns everything printed."""
    printed = []
    for args, expected in runs:
        capsys.readouterr()
        code = main(args, runtime=fast())
        captured = capsys.readouterr()
        output = captured.out + captured.err
        assert code == expected, (args, output[-6000:])
        assert "Traceback" not in output, (args, output)
        assert_clean(root, output)
        printed.append(output)
    return "\n".join(printed)


def test_every_command_against_a_server_echoing_the_keys_in_successes(
    repo: Path, echo: EchoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    merge_target = repo / "merged.yaml"
    merge_target.write_text((repo / "snapshots" / "a.yaml").read_text())
    view_a = ["--application-id", APP, "--view", "/a"]
    printed = run_all(
        [
            (["validate"], 0),
            (["validate", "--format", "json", "-vv"], 0),
            (["validate", "--format", "github"], 0),
            (["plan"], 0),
            (["plan", "-v", "--detailed-exitcode"], 2),
            (["plan", "-vv", "--format", "markdown"], 0),
            (["plan", "--format", "json", "-vv"], 0),
            (["plan", "--out", "plan.json", "-vv"], 0),
            (["show", "plan.json"], 0),
            (["show", "plan.json", "--format", "json", "-vv"], 0),
            (["show", "plan.json", "--format", "markdown"], 0),
            (["apply"], 1),  # refused: no TTY, no --auto-approve
            (["export", *view_a, "-o", "exported.yaml", "-vv"], 0),
            (["export", *view_a, "--view", "/b", "-vv"], 0),
            (["export", *view_a, "--merge", "merged.yaml"], 0),
            # The saved plan's echoed ids were masked: it matches the recomputed operations as
            # the file sink writes them, and the recomputed (real) ids are sent. Nothing leaks.
            (["apply", "plan.json", "-vv"], 0),
            (["apply", "--auto-approve", "-vv", "--format", "json"], 0),
            (["apply", "plan.json", "-vv"], 1),  # stale now
            (["plan", "--format", "json", "--detailed-exitcode"], 0),
            (["plan", "--help"], 0),
            (["--version"], 0),
            (["apply", "--no-such-option"], 1),
            (["plan", "--site", API_KEY], 1),  # a key given as an argument is masked too
        ],
        repo,
        capsys,
    )
    assert "***" in printed  # the echoes reached the output, masked
    assert '"converged": true' in printed
    for written in ("plan.json", "exported.yaml"):
        assert "***" in (repo / written).read_text(), written
    assert "***" in merge_target.read_text()  # the merge wrote echoed names, masked
    echo.reset()
    run_all([(["apply", "--auto-approve", "-vv"], 0)], repo, capsys)


@pytest.mark.parametrize("mode", ["json-400", "json-403", "straddle", "html-200", "write-400"])
def test_every_command_against_a_server_echoing_the_keys_in_errors(
    mode: str, repo: Path, echo: EchoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    echo.reset(mode)
    listing_fails = mode != "write-400"
    export_code = 1 if listing_fails else 0
    printed = run_all(
        [
            (["validate"], 0),
            (["plan", "-vv"], 1 if listing_fails else 0),
            (["plan", "--out", "p.json", "--format", "markdown"], 1 if listing_fails else 0),
            (["apply", "--auto-approve", "-vv"], 1),
            (["export", "--application-id", APP, "--view", "/a", "-o", "x.yaml"], export_code),
            (["export", "--application-id", APP, "--view", "/b", "-vv"], export_code),
        ],
        repo,
        capsys,
    )
    assert "***" in printed  # the echoed keys, masked
    assert echo.requests > 0


def test_a_real_process_keeps_the_keys_secret(repo: Path, echo: EchoServer) -> None:
    """The same through `python -m reconciler`: the streams click and logging really use."""
    env = {**env_for(echo.url), "DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY}
    for args, expected in ((["plan", "-vv"], 0), (["apply", "--auto-approve", "-vv"], 0)):
        result = reconciler(args, repo, env)
        assert result.returncode == expected, result.stdout + result.stderr
        assert_clean(repo, result.stdout, result.stderr)
        assert "***" in result.stdout + result.stderr


@pytest.fixture
def failing_emulator() -> Iterator[str]:
    settings = EmulatorSettings(fail_rate=1.0)
    with serve_in_thread(settings) as url:
        yield url


def test_server_errors_through_every_retry(
    repo: Path,
    failing_emulator: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """5xx on every request, through retries: -vv logs every attempt, none shows a key."""
    monkeypatch.setenv("RECONCILER_API_URL", failing_emulator)
    printed = run_all([(["plan", "-vv"], 1), (["apply", "--auto-approve", "-vv"], 1)], repo, capsys)
    assert "(attempt 5)" in printed  # -vv logged each retry


def test_validation_messages_quoting_a_key_are_masked(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, echo: EchoServer
) -> None:
    """A key pasted into a snapshot file by mistake: validate (which never reads the keys)
    quotes the bad value, masked. Real processes: the redactor must know the keys of the
    environment from the start, not only once a command builds its credentials. The file
    lives outside the repository checked by assert_clean: it holds the key."""
    outside = tmp_path_factory.mktemp("pasted")
    bad = outside / "bad.yaml"
    bad.write_text(
        f"application_id: {APP}\nviews:\n  /a:\n    - snapshot_name: {APP_KEY}\n"
        f"      device_type: desktop\n      event_id: e\n      start: {API_KEY}\n"
        f"      {API_KEY[:20]}: 1\n"
    )
    env = {**env_for(echo.url), "DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY}
    printed = []
    for output_format in ("text", "json", "github"):
        result = reconciler(["validate", "--format", output_format, str(bad)], repo, env)
        assert result.returncode == 1, result.stdout + result.stderr
        assert_clean(repo, result.stdout, result.stderr)
        printed.append(result.stdout)
    assert "'start' must be an integer, got '***'" in printed[0]
