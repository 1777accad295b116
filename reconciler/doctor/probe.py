"""`reconciler doctor --write-probe`: one probe snapshot in a scratch view, to measure what
only a write shows (listing lag, PATCH and DELETE semantics), then removed.

Nothing is left behind: every run first deletes the probe snapshots an interrupted run
left (found by their name prefix, in the scratch view only), and a run deletes its own probe
in a `finally`, so only a `kill -9` between the create and the delete leaves one, for the
next run to remove.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Final

from reconciler.api.client import ApiClient
from reconciler.api.errors import AmbiguousCreate, ApiError
from reconciler.api.retry import Clock
from reconciler.core.model import ViewScope
from reconciler.doctor.checks import Listed
from reconciler.doctor.report import Report

#: Every probe snapshot's name starts with this; nothing else is ever deleted.
PROBE_PREFIX: Final = "reconciler-doctor-probe "
DEFAULT_PROBE_VIEW: Final = "/reconciler-doctor-probe"
#: Longest wait for a write to show in (or leave) listings, in seconds.
PROBE_WAIT: Final = 30.0

Json = dict[str, Any]


def probe_named(items: list[Json], name: str) -> Json | None:
    return next((i for i in items if i["attributes"].get("snapshot_name") == name), None)


@dataclass
class WriteProbe:
    application_id: str
    view_name: str
    clock: Clock
    wait: float = PROBE_WAIT

    @property
    def scope(self) -> ViewScope:
        return ViewScope(self.application_id, self.view_name)

    async def __call__(self, client: ApiClient, listed: Listed, report: Report) -> None:
        try:
            await self._run(client, listed.limit, report)
        except ApiError as exc:
            report.add("differs", "probe", f"stopped: {exc}")

    async def _run(self, client: ApiClient, limit: int, report: Report) -> None:
        removed = await self.clean(client, limit)
        if removed:
            report.add(
                "note",
                "probe",
                f"removed {removed} leftover probe snapshot(s) of an interrupted run "
                f"from {self.view_name}",
            )
        name = f"{PROBE_PREFIX}{uuid.uuid4()}"
        snapshot_id: str | None = None
        try:
            snapshot_id = await self._create(client, name, report)
            seen = await self._until(client, limit, lambda items: probe_named(items, name))
            if seen is None:
                report.add(
                    "differs", "listing lag", f"the probe was not listed within {self.wait:g} s"
                )
                return
            probe, waited, polls = seen
            snapshot_id = snapshot_id or probe["id"]
            self._report_lag(report, "a create", waited, polls)
            await self._check_filter(client, limit, name, probe, report)
            assert snapshot_id is not None
            await self._patch(client, limit, snapshot_id, name, report)
            await self._delete_twice(client, snapshot_id, report)
            snapshot_id = None
            gone = await self._until(
                client, limit, lambda items: None if probe_named(items, name) else {}
            )
            if gone is None:
                report.add(
                    "differs",
                    "listing lag",
                    f"the deleted probe was still listed after {self.wait:g} s",
                )
            else:
                self._report_lag(report, "a delete", gone[1], gone[2])
        finally:
            if snapshot_id is not None:
                with suppress(ApiError):
                    await client.delete_snapshot(snapshot_id)

    async def clean(self, client: ApiClient, limit: int) -> int:
        """Delete the probe snapshots left in the scratch view; how many there were."""
        items = await client.list_snapshots(self.application_id, self.view_name, limit)
        leftovers = [
            item
            for item in items
            if str(item["attributes"].get("snapshot_name", "")).startswith(PROBE_PREFIX)
        ]
        for item in leftovers:
            await client.delete_snapshot(item["id"])
        return len(leftovers)

    async def _create(self, client: ApiClient, name: str, report: Report) -> str | None:
        attributes = {
            "application_id": self.application_id,
            "view_name": self.view_name,
            "device_type": "desktop",
            "snapshot_name": name,
            "event_id": str(uuid.uuid4()),
            "start": 0,
            "is_device_type_selected_by_user": False,
        }
        try:
            created = await client.create_snapshot(attributes)
        except AmbiguousCreate as exc:
            report.add(
                "differs",
                "create",
                f"answered without a usable snapshot ({exc}); the probe is looked for by name",
            )
            return None
        report.add("ok", "create", "answered with the new snapshot and its id")
        return str(created["id"])

    async def _until(
        self, client: ApiClient, limit: int, found: Callable[[list[Json]], Json | None]
    ) -> tuple[Json, float, int] | None:
        """List the scratch view until `found` gives something, with growing pauses, for
        at most `wait` seconds: (what it found, seconds waited, listings made)."""
        started = self.clock.monotonic()
        pause, polls = 0.05, 0
        while True:
            items = await client.list_snapshots(self.application_id, self.view_name, limit)
            polls += 1
            result = found(items)
            waited = self.clock.monotonic() - started
            if result is not None:
                return result, waited, polls
            if waited >= self.wait:
                return None
            await self.clock.sleep(min(pause, self.wait - waited))
            pause = min(pause * 2, 1.0)

    def _report_lag(self, report: Report, write: str, waited: float, polls: int) -> None:
        if polls == 1:
            report.add("ok", "listing lag", f"none seen: {write} showed in the next listing")
        else:
            report.add(
                "differs",
                "listing lag",
                f"{write} showed in listings only after {waited * 1000:.0f} ms ({polls} listings)",
            )

    async def _check_filter(
        self, client: ApiClient, limit: int, name: str, probe: Json, report: Report
    ) -> None:
        """Is the view-name filter (and the stored name) normalised? A variant spelling of
        the scratch view's name finds the probe only where it is."""
        listed_as = probe["attributes"].get("view_name")
        if isinstance(listed_as, str) and listed_as != self.view_name:
            report.add(
                "differs",
                "view names",
                f"normalised on write: the probe's {self.view_name!r} is listed as {listed_as!r}",
            )
        variant = self.view_name.upper().rstrip("/") + "/"
        if variant == self.view_name:
            return
        items = await client.list_snapshots(self.application_id, variant, limit)
        if probe_named(items, name) is not None:
            report.add(
                "differs",
                "view names",
                f"the list filter is normalised: {variant!r} lists the probe of {self.view_name!r}",
            )
        else:
            report.add(
                "ok", "view names", f"the list filter is exact ({variant!r} is another view)"
            )

    async def _patch(
        self, client: ApiClient, limit: int, snapshot_id: str, name: str, report: Report
    ) -> None:
        fields = {
            "event_id": str(uuid.uuid4()),
            "start": 1,
            "is_device_type_selected_by_user": False,
        }
        answered = await client.update_snapshot(snapshot_id, fields)
        if answered["attributes"].get("start") not in (1, None):
            report.add(
                "differs", "patch", f"answered start={answered['attributes']['start']!r}, sent 1"
            )
            return

        def patched(items: list[Json]) -> Json | None:
            probe = probe_named(items, name)
            return (
                probe
                if probe and probe["attributes"].get("event_id") == fields["event_id"]
                else None
            )

        seen = await self._until(client, limit, patched)
        if seen is None:
            report.add(
                "differs", "patch", f"the patched probe was not listed within {self.wait:g} s"
            )
        else:
            report.add("ok", "patch", "applied: answered and listed with the new values")

    async def _delete_twice(self, client: ApiClient, snapshot_id: str, report: Report) -> None:
        first = await client.delete_snapshot(snapshot_id)
        second = await client.delete_snapshot(snapshot_id)
        if first and not second:
            report.add("ok", "delete", "2xx, then 404 for the same id (as the engine assumes)")
        elif not first:
            report.add("differs", "delete", "the first DELETE of the probe answered 404")
        else:
            report.add("differs", "delete", "a second DELETE of the same id answered 2xx, not 404")
