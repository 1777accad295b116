"""Orders operations into a Plan and judges its safety. Pure: values in, a Plan out.

Order: all creates, then all patches, then all deletes; inside a phase by natural key, so
identical inputs give byte-identical plans. Safety after octoDNS, judged per view: in a
view holding at least `min_existing` snapshots, deleting or patching more than the allowed
fraction of them marks the plan unsafe; `apply` then refuses without `--force`. Deleting a
duplicate loses nothing (a copy with its key is kept, patched first if needed, and deletes
are skipped when a patch fails), so duplicates do not count toward the delete threshold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from reconciler.model import Create, Delete, Operation, Patch, ViewScope, operation_sort_key


@dataclass(frozen=True, slots=True)
class SafetyThresholds:
    max_delete_fraction: float = 0.3
    max_update_fraction: float = 0.3
    min_existing: int = 10


@dataclass(frozen=True, slots=True)
class Plan:
    """Ordered operations plus the safety verdict. The plan owns its safety checks."""

    operations: tuple[Operation, ...]
    unsafe_reasons: tuple[str, ...] = ()

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
    def has_changes(self) -> bool:
        return bool(self.operations)

    @property
    def is_safe(self) -> bool:
        return not self.unsafe_reasons

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
        duplicates = counts["duplicate"]
        if duplicates:
            text += f", {duplicates} duplicate{'s' if duplicates > 1 else ''} to remove"
        return text


def build_plan(
    operations: Iterable[Operation],
    existing: Mapping[ViewScope, int],
    thresholds: SafetyThresholds = SafetyThresholds(),
    targets: Sequence[str] = (),
) -> Plan:
    """Filter by `--target` globs, order deterministically, and check safety.

    `existing` is how many snapshots each listed view holds remotely.
    """
    selected = [op for op in operations if _targeted(op, targets)]
    ordered = tuple(sorted(selected, key=operation_sort_key))
    return Plan(ordered, _unsafe_reasons(ordered, existing, thresholds))


def _targeted(op: Operation, targets: Sequence[str]) -> bool:
    """`--target GLOB` matches a snapshot name or a view name; no targets means all."""
    if not targets:
        return True
    names = (op.key.snapshot_name, op.key.view_name)
    return any(fnmatchcase(name, pattern) for pattern in targets for name in names)


def _unsafe_reasons(
    operations: Sequence[Operation],
    existing: Mapping[ViewScope, int],
    thresholds: SafetyThresholds,
) -> tuple[str, ...]:
    deletes = Counter(op.key.scope for op in operations if op.kind == "delete")
    patches = Counter(op.key.scope for op in operations if isinstance(op, Patch))
    reasons: list[str] = []
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
                    f"view {scope.view_name} of application {scope.application_id}: "
                    f"would {verb} {planned} of {count} existing snapshots "
                    f"({planned / count:.0%} > {allowed:.0%} allowed)"
                )
    return tuple(reasons)
