"""A hostile or broken server, at the command level: `plan` and `apply --auto-approve` run
in-process (`commands.*.run` through `cli.guarded`, as the CLI runs them) over an
`httpx.MockTransport` that answers what the emulator never would.

Every case: exit 1, a clear error, no traceback, no "internal error", never a wrong plan
(nothing is planned for a view whose listing was bad: its snapshot's name never appears in
the plan), nothing written by apply, and every request went to the configured host.

The runtime seam gives small Timeouts (0.3 s an attempt) and a fast retry backoff;
everything else is the real code. Raw-socket cases (floods, drips, bombs, absurd headers,
with the run's deadline): test_hostile_world.py.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.api.retry import RetryPolicy
from reconciler.api.runtime import Runtime
from reconciler.api.transport import Timeouts
from reconciler.cli.commands import apply as apply_command
from reconciler.cli.commands import plan as plan_command
from reconciler.cli.main import guarded
from reconciler.config.settings import Overrides
from support.workspace import API_KEY, APP, APP_KEY

HOST = "127.0.0.1"
API_URL = f"http://{HOST}:9"
GOOD, BAD = "/good", "/bad"
BAD_NAME = "snapshot-of-the-bad-view"
Handler = Callable[[httpx.Request], httpx.Response]


def snapshot(name: str, view: str, **changes: Any) -> dict[str, Any]:
    attributes = {
        "application_id": APP,
        "view_name": view,
        "device_type": "desktop",
        "snapshot_name": name,
        "event_id": "e",
        "start": 1,
        "is_device_type_selected_by_user": False,
        "created_at": "2026-01-01T00:00:00.000Z",
    }
    return {
        "id": f"srv-{abs(hash(name)) % 10**6}",
        "type": "snapshots",
        "attributes": attributes | changes,
    }


class Recorder:
    """The transport: healthy answers for /good, the hostile `bad` handler for /bad."""

    def __init__(self, bad: Handler, writes: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.bad = bad
        self.writes = writes

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method != "GET":
            if self.writes is not None:
                return self.writes(request)
            return httpx.Response(201, json={"data": snapshot("new", GOOD)})
        if request.url.params.get("filter[view_name]") == BAD:
            return self.bad(request)
        return httpx.Response(200, json={"data": []})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def writes_sent(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests if r.method != "GET"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DD_SITE", "NO_COLOR", "RECONCILER_API_URL", "RECONCILER_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.chdir(tmp_path)
    entry = {"device_type": "desktop", "event_id": "e", "start": 1}
    views = {
        GOOD: [{"snapshot_name": "good-one", **entry}],
        BAD: [{"snapshot_name": BAD_NAME, **entry}],
    }
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "a.yaml").write_text(
        json.dumps({"application_id": APP, "views": views})
    )
    return tmp_path


def fast_runtime(transport: httpx.AsyncBaseTransport) -> Runtime:
    """Short retries and timeouts: the same code paths in a fraction of a second."""
    return Runtime(
        transport=transport,
        retry=RetryPolicy(base_delay=0.01, max_delay=0.05, rng=random.Random(1)),
        timeouts=Timeouts(connect=0.3, read=0.3, write=0.3, pool=0.3, total=0.3),
        consistency_window=0.3,
    )


def run_plan(recorder: Recorder, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = guarded(
        lambda: plan_command.run(
            config_path=None,
            overrides=Overrides(api_url=API_URL),
            output_format="text",
            out=None,
            detailed_exitcode=False,
            targets=(),
            color=False,
            runtime=fast_runtime(recorder.transport()),
        )
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_apply(recorder: Recorder, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = guarded(
        lambda: apply_command.run(
            plan_path=None,
            config_path=None,
            overrides=Overrides(api_url=API_URL),
            auto_approve=True,
            force=False,
            output_format="text",
            targets=(),
            color=False,
            interactive=False,
            progress=False,
            runtime=fast_runtime(recorder.transport()),
        )
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_body(body: Any, status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def raw_body(content: bytes, status: int = 200, **headers: str) -> Handler:
    return lambda request: httpx.Response(status, content=content, headers=headers)


def streamed(chunks: Callable[[], AsyncIterator[bytes]], **headers: str) -> Handler:
    return lambda request: httpx.Response(200, content=chunks(), headers=headers)


async def huge_stream() -> AsyncIterator[bytes]:
    chunk = b" " * (1 << 20)
    for _ in range(70):  # 70 MiB, past the 64 MiB cap, without a Content-Length
        yield chunk


async def endless_slow_body() -> AsyncIterator[bytes]:
    yield b'{"data": ['
    for _ in range(200):  # bounded: 10 s at most, the 0.3 s total timeout stops it first
        await asyncio.sleep(0.05)
        yield b" "


def redirect(status: int) -> Handler:
    location = "https://evil.example.net/api/v2/replay/heatmap/snapshots"
    return lambda request: httpx.Response(status, headers={"location": location})


CASES: dict[str, tuple[Handler, str]] = {
    "malformed JSON": (raw_body(b'{"data": ['), "not JSON"),
    "missing data": (json_body({"meta": {}}), "no `data` member"),
    "data a dict": (json_body({"data": {"id": "x"}}), "expected a list"),
    "data null": (json_body({"data": None}), "expected a list"),
    "body a list": (json_body([1, 2]), "expected a JSON object"),
    "id an int": (json_body({"data": [snapshot(BAD_NAME, BAD) | {"id": 5}]}), "no string `id`"),
    "item a string": (json_body({"data": ["x"]}), "expected an object"),
    "attributes a list": (
        json_body({"data": [snapshot(BAD_NAME, BAD) | {"attributes": []}]}),
        "no `attributes` object",
    ),
    "wrong type": (
        json_body({"data": [snapshot(BAD_NAME, BAD) | {"type": "users"}]}),
        "expected 'snapshots'",
    ),
    "start a string": (json_body({"data": [snapshot(BAD_NAME, BAD, start="1")]}), "start"),
    "start a float": (json_body({"data": [snapshot(BAD_NAME, BAD, start=1.5)]}), "start"),
    "start a bool": (json_body({"data": [snapshot(BAD_NAME, BAD, start=True)]}), "start"),
    "selected a string": (
        json_body({"data": [snapshot(BAD_NAME, BAD, is_device_type_selected_by_user="no")]}),
        "is_device_type_selected_by_user",
    ),
    "key field an int": (
        json_body({"data": [snapshot(BAD_NAME, BAD, device_type=5)]}),
        "device_type",
    ),
    "200 with HTML": (
        raw_body(b"<html><body>Login required</body></html>", **{"content-type": "text/html"}),
        "not JSON",
    ),
    "Content-Length over 64 MiB": (
        raw_body(b"{}", **{"content-length": str(100 << 20)}),
        "larger than 64 MiB",
    ),
    "streamed body over 64 MiB": (streamed(huge_stream), "larger than 64 MiB"),
    "endless slow body": (streamed(endless_slow_body), "timed out after 0.3 s"),
    "302 to another host": (redirect(302), "refusing to follow"),
    "307 to another host": (redirect(307), "refusing to follow"),
    "401": (json_body({"errors": ["Unauthorized"]}, 401), "check DD_API_KEY"),
    "403": (json_body({"errors": ["Forbidden"]}, 403), "check DD_API_KEY"),
    "404 HTML": (raw_body(b"<html>not here</html>", 404), "404 Not Found"),
}


def check(recorder: Recorder, code: int, out: str, err: str, expected: str) -> None:
    output = out + err
    assert code == 1, output
    assert "Traceback" not in output
    assert "internal error" not in output, output
    assert expected in output, output
    assert BAD_NAME not in out, "an operation was planned for the view with bad data"
    assert API_KEY not in output
    assert APP_KEY not in output
    assert len(output) < 20_000
    assert {r.url.host for r in recorder.requests} == {HOST}
    assert all(r.url.scheme == "http" and r.url.port == 9 for r in recorder.requests)


@pytest.mark.parametrize("name", list(CASES))
def test_plan_against_a_hostile_server(
    name: str, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handler, expected = CASES[name]
    recorder = Recorder(handler)
    code, out, err = run_plan(recorder, capsys)
    check(recorder, code, out, err, expected)


@pytest.mark.parametrize("name", list(CASES))
def test_apply_against_a_hostile_server(
    name: str, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handler, expected = CASES[name]
    recorder = Recorder(handler)
    code, out, err = run_apply(recorder, capsys)
    check(recorder, code, out, err, expected)
    assert recorder.writes_sent() == [], "apply wrote although a view could not be listed"


def test_apply_when_writes_get_hostile_answers(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Listings are fine; every POST is answered 200 with HTML. The create is ambiguous (a
    garbled success may have created it), so it re-lists, finds nothing, retries a bounded
    number of times, then fails: exit 1, nothing deleted."""
    healthy = json_body({"data": []})
    recorder = Recorder(healthy, writes=raw_body(b"<html>oops</html>"))
    code, out, err = run_apply(recorder, capsys)
    assert code == 1
    assert "Traceback" not in out + err
    assert "failed create" in out
    posts = [w for w in recorder.writes_sent() if w.startswith("POST")]
    assert 2 <= len(posts) <= 2 * RetryPolicy().max_attempts  # bounded, two creates
    assert {r.url.host for r in recorder.requests} == {HOST}
