"""Orders operations into a Plan and judges its safety. Pure: values in, a Plan out.

Order: all creates, then all patches, then all deletes; inside a phase by natural key, so
identical inputs give byte-identical plans. Safety after octoDNS, judged per view: in a
view holding at least `min_existing` snapshots, deleting or patching more than the allowed
fraction of them marks the plan unsafe; `apply` then refuses without `--force`. Deleting a
duplicate loses nothing (a copy with its key is kept, patched first if needed, and deletes
are skipped when a patch fails), so duplicates do not count toward the delete threshold;
nor does the delete half of a replace (its create runs first, and a failed create skips
every delete). `--target` keeps both halves of a replace when it selects either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import ViewScope
from reconciler.plan.operations import Create, Delete, Operation, Patch, operation_sort_key
from reconciler.plan.targets import TargetSet, as_target_set


@dataclass(frozen=True, slots=True)
class SafetyThresholds:
    max_delete_fraction: float = 0.3
    max_update_fraction: float = 0.3
    min_existing: int = 10


class UnsafePlan(ReconcilerError):
    """An unsafe plan that `--force` did not allow: nothing is applied."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Ordered operations plus the safety verdict. The plan owns its safety checks."""

    operations: tuple[Operation, ...]
    unsafe_reasons: tuple[str, ...] = ()
    #: The view of each unsafe reason, same order (empty when read from a saved plan).
    unsafe_scopes: tuple[ViewScope, ...] = ()

    @property
    def creates(self) -> tuple[Create, ...]:
        return tuple(op for op in self.operations if isinstance(op, Create))

    @property
    def patches(self) -> tuple[Patch, ...]:
        return tuple(op for op in self.operations if isinstance(op, Patch))

    @property
    def deletes(self) -> tuple[Delete, ...]:
        """Every delete, duplicates included."""
        return tuple(op for op in self.operations if isinstance(op, Delete))

    @property
    def duplicates(self) -> tuple[Delete, ...]:
        return tuple(op for op in self.deletes if op.kind == "duplicate")

    @property
    def replaces(self) -> tuple[Create, ...]:
        return tuple(op for op in self.creates if op.replaces is not None)

    @property
    def has_changes(self) -> bool:
        return bool(self.operations)

    @property
    def is_safe(self) -> bool:
        return not self.unsafe_reasons

    def raise_if_unsafe(self, *, force: bool, environment: str | None = None) -> None:
        """Refuse to apply this plan when it is unsafe, unless `force`. Every path that applies
        calls this before anything is asked or sent. `environment`: the plan is one of
        several checked before any of them is applied (`--env`, `--all-envs`)."""
        if self.is_safe or force:
            return
        if environment is None:
            raise UnsafePlan(
                "refusing to apply an unsafe plan (see the warnings above); "
                "review it, then run again with --force"
            )
        raise UnsafePlan(
            f"refusing to apply an unsafe plan in environment {environment} "
            "(see the warnings above); nothing was applied; review it, then run again "
            "with --force"
        )

    def summary(self) -> str:
        if not self.operations:
            return "No changes."
        return f"Plan: {self.counts_text()}."

    def counts_text(self) -> str:
        """`1 to create, 0 to patch, 2 to delete` (and duplicates to remove, when any)."""
        counts = Counter(op.kind for op in self.operations)
        text = (
            f"{counts['create']} to create, {counts['patch']} to patch, "
            f"{counts['delete']} to delete"
        )
        if counts["replace"]:
            text += f", {counts['replace']} to replace"
        duplicates = counts["duplicate"]
        if duplicates:
            text += f", {duplicates} duplicate{'s' if duplicates > 1 else ''} to remove"
        return text


def build_plan(
    operations: Iterable[Operation],
    existing: Mapping[ViewScope, int],
    thresholds: SafetyThresholds = SafetyThresholds(),
    targets: Sequence[str] | TargetSet = (),
) -> Plan:
    """Filter by `--target` (see `targets`), order deterministically, and check safety.

    `existing` is how many snapshots each listed view holds remotely.
    """
    chosen = as_target_set(targets)
    every = list(operations)
    selected = [op for op in every if chosen.selects(op.key)]
    if chosen.active:
        selected = _with_partners(selected, every)
    ordered = tuple(sorted(selected, key=operation_sort_key))
    scoped = _unsafe_reasons(ordered, existing, thresholds)
    return Plan(ordered, tuple(r for _, r in scoped), tuple(s for s, _ in scoped))


def _with_partners(selected: list[Operation], every: list[Operation]) -> list[Operation]:
    """Both halves of a replace when either was selected (never a create without the delete
    it replaces, nor a delete without its replacement)."""
    pairs: dict[str, list[Operation]] = {}
    for op in every:
        if isinstance(op, Create) and op.replaces is not None:
            pairs.setdefault(op.replaces.snapshot_id, []).append(op)
        elif isinstance(op, Delete) and op.delete_reason == "replaced":
            pairs.setdefault(op.snapshot_id, []).append(op)
    chosen = {id(op) for op in selected}
    for op in selected:
        snapshot_id = (
            op.replaces.snapshot_id
            if isinstance(op, Create) and op.replaces is not None
            else op.snapshot_id
            if isinstance(op, Delete) and op.delete_reason == "replaced"
            else None
        )
        for partner in pairs.get(snapshot_id or "", []) if snapshot_id else []:
            chosen.add(id(partner))
    return [op for op in every if id(op) in chosen]


def _unsafe_reasons(
    operations: Sequence[Operation],
    existing: Mapping[ViewScope, int],
    thresholds: SafetyThresholds,
) -> list[tuple[ViewScope, str]]:
    deletes = Counter(op.key.scope for op in operations if op.kind == "delete")
    patches = Counter(op.key.scope for op in operations if isinstance(op, Patch))
    reasons: list[tuple[ViewScope, str]] = []
    for scope in sorted(existing):
        count = existing[scope]
        if count < thresholds.min_existing:
            continue
        checks = (
            ("delete", deletes[scope], thresholds.max_delete_fraction),
            ("patch", patches[scope], thresholds.max_update_fraction),
        )
        for verb, planned, allowed in checks:
            if planned > count * allowed:
                reasons.append(
                    (
                        scope,
                        f"view {scope.view_name} of application {scope.application_id}: "
                        f"would {verb} {planned} of {count} existing snapshots "
                        f"({planned / count:.0%} > {allowed:.0%} allowed)",
                    )
                )
    return reasons
