"""A test workspace: a folder of snapshot files, an emulator, and the commands run on them.

Commands run in-process as the CLI runs them (`reconciler.cli.main.guarded` maps outcomes to exit
codes), against the real emulator through `httpx.ASGITransport`: no sockets, no mocks.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.api.runtime import Runtime
from reconciler.cli.commands import apply as apply_command
from reconciler.cli.commands import plan as plan_command
from reconciler.cli.main import guarded
from reconciler.config.settings import Overrides
from reconciler.emulator import EmulatorSettings, create_app
from support.factories import APP, key_attributes
from support.factories import APP2 as APP2  # the tests' second application

API_KEY = "test-api-key-0001-0123456789abcd"
APP_KEY = "test-app-key-0001-0123456789abcdef012345"
#: The configured API URL of in-process runs: nothing listens there.
DEAD_URL = "http://127.0.0.1:9"
#: The arguments of in-process runs that a test does not name (those its command takes):
#: no config file named, plain text output, every change approved, no progress lines.
DEFAULTS: dict[str, object] = {"config_path": None, "output_format": "text", "out": None}
DEFAULTS |= {"targets": (), "detailed_exitcode": False, "color": False, "progress": False}
DEFAULTS |= {"auto_approve": True, "force": False, "interactive": False}


def enter_repository(root: Path, monkeypatch: pytest.MonkeyPatch, cleared: Iterable[str]) -> None:
    """Make `root` the cwd, a repository with an empty snapshots folder, the test keys in
    the environment and the `cleared` variables out of it."""
    for name in cleared:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.chdir(root)
    (root / "snapshots").mkdir()


@dataclass
class Outcome:
    code: int
    out: str
    err: str


class Workspace:
    def __init__(
        self, root: Path, capsys: pytest.CaptureFixture[str], settings: EmulatorSettings
    ) -> None:
        self.root = root
        self.capsys = capsys
        self.settings = settings
        self.app = create_app(settings)

    # -- files ---------------------------------------------------------------------------

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def write_snapshots(
        self, views: Mapping[str, list[Mapping[str, Any]]], app: str = APP, name: str = "a.yaml"
    ) -> Path:
        """A snapshots file from plain values (JSON is YAML)."""
        document = {"application_id": app, "views": views}
        return self.write(f"snapshots/{name}", json.dumps(document, indent=2) + "\n")

    # -- remote state --------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One call to the emulator's admin endpoints, in-process."""
        return self.api(method, path, body, keys=False)

    def api(self, method: str, path: str, body: Any = None, keys: bool = True) -> httpx.Response:
        """One raw call to the emulator, in-process, as another API user would make it."""
        headers = {"DD-API-KEY": API_KEY, "DD-APPLICATION-KEY": APP_KEY} if keys else {}

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
                return await c.request(method, path, json=body, headers=headers)

        return asyncio.run(call())

    def seed(self, *snapshots: Mapping[str, Any]) -> list[dict[str, Any]]:
        response = self.admin("POST", "/_emulator/snapshots", {"data": list(snapshots)})
        assert response.status_code == 201, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def remote(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.admin("GET", "/_emulator/snapshots").json()["data"]
        return data

    def remote_keys(self) -> list[tuple[str, str, str, str]]:
        return sorted(
            (
                a["application_id"],
                a["view_name"],
                a["device_type"],
                a["snapshot_name"],
            )
            for a in (item["attributes"] for item in self.remote())
        )

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.admin("GET", "/_emulator/stats").json()
        return data

    def configure(self, **changes: Any) -> None:
        response = self.admin("POST", "/_emulator/config", changes)
        assert response.status_code == 200, response.text

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)

    # -- commands ------------------------------------------------------------------------

    def _run(self, call: Callable[[], int]) -> Outcome:
        self.capsys.readouterr()
        code = guarded(call)
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def command(
        self, run: Callable[..., int], given: Mapping[str, object], runtime: Runtime | None = None
    ) -> Outcome:
        """A command's `run` in-process, as the CLI calls it: `given` names its arguments
        (over `DEFAULTS`) and configuration overrides (any other name). The API URL is a
        dead one: the in-process emulator answers through the runtime's transport."""
        parameters = inspect.signature(run).parameters
        arguments = {k: v for k, v in {**DEFAULTS, **given}.items() if k in parameters}
        overrides = {k: v for k, v in given.items() if k not in parameters}
        return self._run(
            lambda: run(
                **arguments,
                overrides=Overrides(**{"api_url": DEAD_URL, **overrides}),
                runtime=runtime or Runtime(transport=self.transport()),
            )
        )

    def plan(self, **given: object) -> Outcome:
        """`reconciler plan`; e.g. `plan(output_format="json", prune=False)`."""
        return self.command(plan_command.run, given)

    def apply(self, plan_path: str | None = None, **given: object) -> Outcome:
        """`reconciler apply [PLAN]`, approved unless `auto_approve=False`."""
        return self.command(apply_command.run, {"plan_path": plan_path, **given})


def snapshot(
    name: str,
    device: str = "desktop",
    event_id: str = "evt-1",
    start: int = 1500,
    **extra: Any,
) -> dict[str, Any]:
    """One snapshot entry as written in a file."""
    entry = {"snapshot_name": name, "device_type": device}
    return {**entry, "event_id": event_id, "start": start, **extra}


def remote_attributes(
    name: str,
    view: str = "/checkout",
    device: str = "desktop",
    app: str = APP,
    event_id: str = "evt-1",
    start: int = 1500,
    selected: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """Attributes of a snapshot seeded into the emulator."""
    fields = {"event_id": event_id, "start": start, "is_device_type_selected_by_user": selected}
    return {**key_attributes(name, view, device, app), **fields, **extra}
