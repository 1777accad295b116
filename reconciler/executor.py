"""Turns a plan into reality without ever losing or duplicating a snapshot.

Phases run in plan order (creates, patches, deletes); inside a phase up to `parallelism`
operations run at once as asyncio tasks sharing one client, so the client's rate-limit gate
and pacer are shared without locks, and the emulator runs in-process in tests.

Rules (SPEC section 6):
- a failed create or patch lets its phase finish, then the delete phase is skipped: nothing
  is deleted while its replacement may be missing;
- a create is never retried blindly: after an ambiguous failure (timeout, dropped
  connection, 5xx) the view is re-listed and a snapshot with the same key is adopted;
- a DELETE meeting 404 has succeeded; a PATCH meeting 404 fails ("deleted outside");
- once `stop` is set (Ctrl-C) nothing new starts; in-flight requests finish.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from reconciler import resource
from reconciler.api.errors import Ambiguous, ApiError, NotFound
from reconciler.diff import field_changes
from reconciler.model import (
    PHASES,
    Create,
    DesiredSnapshot,
    Operation,
    Patch,
    SourcePosition,
)
from reconciler.remote import parse_snapshot
from reconciler.retry import Clock, RetryPolicy

Status = Literal["done", "failed", "skipped"]


class SnapshotApi(Protocol):
    """What the executor needs of the API client."""

    async def list_snapshots(
        self, application_id: str, view_name: str, limit: int
    ) -> list[dict[str, Any]]: ...

    async def create_snapshot(self, attributes: Mapping[str, Any]) -> dict[str, Any]: ...

    async def update_snapshot(
        self, snapshot_id: str, attributes: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    async def delete_snapshot(self, snapshot_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class OperationResult:
    operation: Operation
    status: Status
    message: str = ""
    snapshot_id: str | None = None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    results: tuple[OperationResult, ...]
    interrupted: bool = False

    def count(self, phase: str, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status and r.operation.phase == phase)

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.status == "done" for r in self.results)

    def summary(self) -> str:
        statuses = Counter(r.status for r in self.results)
        return (
            f"Apply: {self.count('create', 'done')} created, {self.count('patch', 'done')} "
            f"patched, {self.count('delete', 'done')} deleted, {statuses['failed']} failed, "
            f"{statuses['skipped']} skipped."
        )


class OperationFailed(Exception):
    """One operation failed; the message says why, for the summary."""


Reporter = Callable[[OperationResult], None]


class Executor:
    def __init__(
        self,
        client: SnapshotApi,
        *,
        parallelism: int = 4,
        page_limit: int = 1000,
        clock: Clock,
        retry: RetryPolicy | None = None,
        report: Reporter = lambda result: None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self._client = client
        self._parallelism = max(1, parallelism)
        self._page_limit = page_limit
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._report = report
        self.stop = stop or asyncio.Event()

    async def run(self, operations: Sequence[Operation]) -> ApplyResult:
        results: list[OperationResult] = []
        replacement_failed = False
        for phase in PHASES:
            batch = [op for op in operations if op.phase == phase]
            if not batch:
                continue
            if phase == "delete" and replacement_failed:
                results.extend(
                    self._skip(op, "skipped: a create or patch failed, so nothing is deleted")
                    for op in batch
                )
                continue
            phase_results = await self._run_phase(batch)
            results.extend(phase_results)
            replacement_failed |= any(r.status == "failed" for r in phase_results)
        return ApplyResult(tuple(results), interrupted=self.stop.is_set())

    def _skip(self, op: Operation, message: str) -> OperationResult:
        result = OperationResult(op, "skipped", message)
        self._report(result)
        return result

    async def _run_phase(self, batch: Sequence[Operation]) -> list[OperationResult]:
        queue: asyncio.Queue[tuple[int, Operation]] = asyncio.Queue()
        for index, op in enumerate(batch):
            queue.put_nowait((index, op))
        slots: list[OperationResult | None] = [None] * len(batch)

        async def worker() -> None:
            while not queue.empty():
                index, op = queue.get_nowait()
                if self.stop.is_set():
                    slots[index] = self._skip(op, "skipped: interrupted")
                    continue
                result = await self._run_one(op)
                slots[index] = result
                self._report(result)

        await asyncio.gather(*(worker() for _ in range(min(self._parallelism, len(batch)))))
        return [result for result in slots if result is not None]

    async def _run_one(self, op: Operation) -> OperationResult:
        try:
            if isinstance(op, Create):
                snapshot_id, note = await self._create(op)
                return OperationResult(op, "done", note, snapshot_id)
            if isinstance(op, Patch):
                await self._patch(op)
                return OperationResult(op, "done", "", op.snapshot_id)
            gone_already = not await self._client.delete_snapshot(op.snapshot_id)
            return OperationResult(
                op, "done", "already deleted" if gone_already else "", op.snapshot_id
            )
        except OperationFailed as exc:
            return OperationResult(op, "failed", str(exc))
        except NotFound as exc:
            if isinstance(op, Patch):
                return OperationResult(op, "failed", "deleted outside reconciler; run plan again")
            return OperationResult(op, "failed", str(exc))
        except ApiError as exc:  # the operation fails, its phase goes on
            return OperationResult(op, "failed", str(exc))

    async def _patch(self, op: Patch) -> None:
        await self._client.update_snapshot(op.snapshot_id, resource.update_attributes(op.fields))

    async def _create(self, op: Create) -> tuple[str, str]:
        """POST once; after an ambiguous failure, adopt what the server may have committed."""
        attributes = resource.create_attributes(op.key.as_dict(), op.fields)
        failures = 0
        while True:
            try:
                created = await self._client.create_snapshot(attributes)
                return str(created.get("id", "")), ""
            except Ambiguous as exc:
                failures += 1
                adopted = await self._adopt(op)
                if adopted is not None:
                    return adopted, f"adopted after an ambiguous failure ({exc})"
                if failures >= self._retry.max_attempts:
                    raise OperationFailed(
                        f"{exc} (gave up after {failures} attempts; nothing was created)"
                    ) from None
                if self.stop.is_set():  # interrupted: start no new request
                    raise OperationFailed(f"{exc} (interrupted; nothing was created)") from None
                await self._clock.sleep(self._retry.backoff(failures))

    async def _adopt(self, op: Create) -> str | None:
        """Re-list the view; a snapshot with the key is ours. Patch it if it differs."""
        key = op.key
        items = await self._client.list_snapshots(
            key.application_id, key.view_name, self._page_limit
        )
        if len(items) >= self._page_limit:
            raise OperationFailed(
                "ambiguous create and the view's listing may be truncated: cannot tell whether "
                "it was committed; not retrying (raise page_limit, then run plan again)"
            )
        matches = sorted(
            (s for item in items if (s := parse_snapshot(item, key.scope)) and s.key == key),
            key=lambda s: (s.created_at, s.id),
        )
        if not matches:
            return None
        found = matches[0]
        wanted = DesiredSnapshot(key, op.fields, op.position or SourcePosition("", 1, 1))
        if field_changes(wanted, found):
            await self._client.update_snapshot(
                found.id, resource.update_body(found.id, op.fields)["data"]["attributes"]
            )
        return found.id
