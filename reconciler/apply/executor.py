"""Turns a plan into reality without ever losing or duplicating a snapshot.

Phases run in plan order (creates, patches, deletes); inside a phase up to `parallelism`
operations (default `api.inflight.MAX_IN_FLIGHT`; the client's in-flight windows adapt
below it) run at once as asyncio tasks sharing one client, so the client's rate-limit gate,
pacer and windows are shared without locks, and the emulator runs in-process in tests.

Rules (SPEC section 6):
- a failed create or patch lets its phase finish, then the delete phase is skipped: nothing
  is deleted while its replacement may be missing;
- a create is never retried blindly: after an ambiguous outcome (timeout, dropped
  connection, 5xx, a 2xx without a usable id) the view is re-listed, through the same
  listing authority as plan, with backoff over a consistency window (listings may lag
  writes), and a snapshot with the same key is adopted; only when none shows within the
  window is the POST sent again; when the view cannot be listed it is not sent again;
- a DELETE meeting 404 has succeeded; a PATCH meeting 404 fails ("deleted outside");
- once `stop` is set (Ctrl-C) nothing new starts; in-flight requests finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from reconciler.api.errors import Ambiguous, ApiError, NotFound
from reconciler.api.inflight import fan_out
from reconciler.api.retry import Clock, RetryPolicy, look_again_delay
from reconciler.api.runtime import DEFAULT_CONSISTENCY_WINDOW, DEFAULT_INTERRUPT_GRACE
from reconciler.core import resource
from reconciler.core.model import (
    DesiredSnapshot,
    RemoteSnapshot,
    SourcePosition,
    ViewError,
    ViewScope,
)
from reconciler.plan.diff import diff
from reconciler.plan.operations import PHASES, Create, Delete, Operation, Patch

Status = Literal["done", "failed", "skipped"]


class SnapshotApi(Protocol):
    """What the executor needs of the API client (listing goes through `Relist`)."""

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
    #: Seconds from its start to its answer, retries and waits included (None: never
    #: started, skipped). Not part of what the result is: equal results may take longer.
    seconds: float | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    results: tuple[OperationResult, ...]
    interrupted: bool = False
    #: The run's deadline passed: operations not started then were skipped.
    deadline_reached: bool = False

    def count(self, phase: str, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status and r.operation.phase == phase)

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.status == "done" for r in self.results)

    def extended(self, more: ApplyResult) -> ApplyResult:
        return ApplyResult(
            self.results + more.results,
            self.interrupted or more.interrupted,
            self.deadline_reached or more.deadline_reached,
        )

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

#: A view's remote snapshots or its view error, from the one listing authority (the same
#: rules as plan: truncation, filters, malformed items).
Relist = Callable[[ViewScope], Awaitable[Sequence[RemoteSnapshot] | ViewError]]

_NEXT_RUN = "the next run adopts it or removes the extra copy"
_MAY_EXIST = f"it may have been created; {_NEXT_RUN}"
#: What is known of an operation cancelled in flight.
_CUT = {
    "create": f"interrupted before an answer: {_MAY_EXIST}",
    "patch": "interrupted before an answer: it may have been patched; the next run checks it",
    "delete": "interrupted before an answer: it may have been deleted; the next run checks it",
}


class Executor:
    def __init__(
        self,
        client: SnapshotApi,
        *,
        relist: Relist,
        parallelism: int | None = None,
        clock: Clock,
        retry: RetryPolicy | None = None,
        consistency_window: float = DEFAULT_CONSISTENCY_WINDOW,
        interrupt_grace: float = DEFAULT_INTERRUPT_GRACE,
        deadline: float | None = None,
        report: Reporter = lambda result: None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """`deadline`: a `clock.monotonic()` time after which no operation starts."""
        self._client = client
        self._parallelism = fan_out(parallelism)
        self._relist = relist
        self._window = max(0.0, consistency_window)
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._grace = max(0.0, interrupt_grace)
        self._deadline = deadline
        self._report = report
        self.stop = stop or asyncio.Event()
        self._cut = asyncio.Event()  # set `interrupt_grace` after `stop`: in-flight work ends
        self._deadline_reached = False

    async def run(self, operations: Sequence[Operation]) -> ApplyResult:
        watcher = asyncio.ensure_future(self._cut_after_grace())
        try:
            return await self._run(operations)
        finally:
            watcher.cancel()

    async def _cut_after_grace(self) -> None:
        await self.stop.wait()
        await self._clock.sleep(self._grace)
        self._cut.set()

    async def _run(self, operations: Sequence[Operation]) -> ApplyResult:
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
        return ApplyResult(
            tuple(results),
            interrupted=self.stop.is_set(),
            deadline_reached=self._deadline_reached,
        )

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
                if self._deadline is not None and self._clock.monotonic() >= self._deadline:
                    self._deadline_reached = True
                    slots[index] = self._skip(op, "skipped: the run's deadline passed")
                    continue
                result = await self._bounded(op)
                slots[index] = result
                self._report(result)

        await asyncio.gather(*(worker() for _ in range(min(self._parallelism, len(batch)))))
        return [result for result in slots if result is not None]

    async def _bounded(self, op: Operation) -> OperationResult:
        """`op`, cancelled when the grace after an interruption runs out; timed."""
        started = self._clock.monotonic()
        work = asyncio.ensure_future(self._run_one(op))
        cut = asyncio.ensure_future(self._cut.wait())
        try:
            await asyncio.wait((work, cut), return_when=asyncio.FIRST_COMPLETED)
        finally:
            cut.cancel()
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
        cut_off = OperationResult(op, "failed", _CUT[op.phase])
        result = cut_off if work.cancelled() else work.result()
        return dataclasses.replace(result, seconds=self._clock.monotonic() - started)

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
        """POST; after an ambiguous outcome, look for the snapshot over the consistency window
        before any new POST, and adopt it when it shows."""
        attributes = resource.create_attributes(op.key.as_dict(), op.fields)
        posts = 0
        while True:
            posts += 1
            try:
                created = await self._client.create_snapshot(attributes)
                return str(created["id"]), ""
            except Ambiguous as exc:
                adopted = await self._look_for(op, exc)
                if adopted is not None:
                    return adopted, f"adopted after an ambiguous failure ({exc})"
                if posts >= self._retry.max_attempts:
                    raise OperationFailed(
                        f"{exc} (gave up after {posts} attempts, none of them seen in the "
                        f"listing within {self._window:g} s; if one was created after all, "
                        f"{_NEXT_RUN})"
                    ) from None
                if self.stop.is_set():
                    raise OperationFailed(f"{exc} (interrupted; {_MAY_EXIST})") from None

    async def _look_for(self, op: Create, exc: ApiError) -> str | None:
        """Re-list the view until the snapshot shows or the consistency window has passed
        since the ambiguous answer (a listing may lag the write it follows)."""
        started = self._clock.monotonic()
        looks = 0
        while True:
            try:
                listed = await self._relist(op.key.scope)
            except ApiError as error:
                raise OperationFailed(
                    f"{exc}; {_MAY_EXIST} (cannot re-list the view: {error})"
                ) from None
            if isinstance(listed, ViewError):
                raise OperationFailed(
                    f"{exc}; {_MAY_EXIST} (cannot tell from the view's listing: "
                    f"{listed.message}); not sent again"
                ) from None
            matches = [snapshot for snapshot in listed if snapshot.key == op.key]
            if matches:
                return await self._adopt(op, matches)
            remaining = self._window - (self._clock.monotonic() - started)
            if remaining <= 0:
                return None
            if self.stop.is_set():
                raise OperationFailed(f"{exc} (interrupted; {_MAY_EXIST})") from None
            looks += 1
            await self._clock.sleep(look_again_delay(looks, remaining))

    async def _adopt(self, op: Create, matches: Sequence[RemoteSnapshot]) -> str:
        """Keep the copy the diff would keep (patched when it differs); further copies are
        duplicates, removed by apply's convergence step."""
        wanted = DesiredSnapshot(op.key, op.fields, op.position or SourcePosition("", 1, 1))
        operations = diff([wanted], {op.key.scope: matches})
        patch = next((o for o in operations if isinstance(o, Patch)), None)
        if patch is not None:
            await self._client.update_snapshot(
                patch.snapshot_id, resource.update_attributes(patch.fields)
            )
            return patch.snapshot_id
        dropped = {o.snapshot_id for o in operations if isinstance(o, Delete)}
        return next(s.id for s in matches if s.id not in dropped)
