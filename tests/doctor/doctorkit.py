"""Running `reconciler doctor` in-process against the workspace's emulator."""

from __future__ import annotations

import asyncio
from typing import Any

from reconciler.commands import doctor as doctor_command
from reconciler.doctor_probe import PROBE_PREFIX
from reconciler.runtime import Runtime
from support.workspace import Outcome, Workspace


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
    **overrides: Any,
) -> Outcome:
    runtime = Runtime(transport=ws.transport(), clock=clock or StepClock())
    return ws._run(
        lambda: doctor_command.run(
            config_path=None,
            overrides={"api_url": "http://127.0.0.1:9", **overrides},
            write_probe=write_probe,
            probe_view=probe_view,
            runtime=runtime,
        )
    )


def lines_of(outcome: Outcome, status: str) -> list[str]:
    return [line for line in outcome.out.splitlines() if line.startswith(f"{status} ")]


def probes_left(ws: Workspace) -> list[dict[str, Any]]:
    return [
        item for item in ws.remote() if item["attributes"]["snapshot_name"].startswith(PROBE_PREFIX)
    ]
