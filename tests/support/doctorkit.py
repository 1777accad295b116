"""Running `reconciler doctor` in-process against the workspace's emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from reconciler.api.runtime import Runtime
from reconciler.cli.commands import doctor as doctor_command
from reconciler.doctor.probe import PROBE_PREFIX
from support.workspace import Outcome, Workspace, remote_attributes, snapshot


def managed_view(ws: Workspace, view: str = "/checkout", count: int = 3) -> None:
    ws.write_snapshots({view: [snapshot(f"s{i}", start=i) for i in range(count)]})
    ws.seed(*(remote_attributes(f"s{i}", view=view, start=i) for i in range(count)))


def big_view(ws: Workspace, count: int) -> None:
    """/big, declared with one snapshot, holds `count` in Datadog, half desktop, half mobile."""
    ws.write_snapshots({"/big": [snapshot("declared")]})
    devices = ("mobile", "desktop")
    ws.seed(*(remote_attributes(f"s{i}", view="/big", device=devices[i % 2]) for i in range(count)))


class StepClock:
    """A clock whose sleeps return at once and move time on: the doctor's waits and the
    emulator's listing lag share it, so lag is measured without waiting."""

    def __init__(self) -> None:
        self.now = 5000.0

    def monotonic(self) -> float:
        return self.now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def doctor(
    ws: Workspace,
    *,
    write_probe: bool = False,
    probe_view: str | None = None,
    clock: StepClock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> Outcome:
    runtime = Runtime(transport=transport or ws.transport(), clock=clock or StepClock())
    given = {"write_probe": write_probe, "probe_view": probe_view, **overrides}
    return ws.command(doctor_command.run, given, runtime)


def lines_of(outcome: Outcome, status: str) -> list[str]:
    return [line for line in outcome.out.splitlines() if line.startswith(f"{status} ")]


def probes_left(ws: Workspace) -> list[dict[str, Any]]:
    return [
        item for item in ws.remote() if item["attributes"]["snapshot_name"].startswith(PROBE_PREFIX)
    ]


class DeletesAlwaysSucceed(httpx.AsyncBaseTransport):
    """A server that answers 204 to a DELETE of an id it does not have (instead of 404)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "DELETE" and response.status_code == 404:
            await response.aread()
            return httpx.Response(204, headers={"x-ratelimit-name": "deletes"})
        return response


class Rewriting(httpx.AsyncBaseTransport):
    """The emulator behind a proxy that answers some requests itself: `answer` returns a
    response to send instead, or None to pass the request through."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        answer: Callable[[httpx.Request], httpx.Response | None],
    ) -> None:
        self._inner = inner
        self._answer = answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        replaced = self._answer(request)
        if replaced is not None:
            return replaced
        return await self._inner.handle_async_request(request)


#: The response headers a proxy sends instead, from the request and the emulator's headers.
HeaderRewrite = Callable[[httpx.Request, httpx.Headers], Mapping[str, str] | list[tuple[str, str]]]


class RewrittenHeaders(httpx.AsyncBaseTransport):
    """The emulator behind a proxy that rewrites the headers of every response."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rewrite: HeaderRewrite) -> None:
        self._inner = inner
        self._rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        headers = self._rewrite(request, response.headers)
        return httpx.Response(response.status_code, headers=headers, content=body)
