"""Immutable value types shared by the pipeline: desired -> remote -> diff -> planner -> executor.

Imports nothing of ours. Every type is a frozen dataclass so that values can be shared
between stages (and threads or tasks) without copies, and sorted deterministically.

The types of the files' side are defined here; those of the remote side and of plans live
in `reconciler.model_plan` and are imported from here as well, on first use: creating a
dataclass costs about a millisecond, and `validate` (pre-commit) needs none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from reconciler.model_plan import PHASES as PHASES
    from reconciler.model_plan import Create as Create
    from reconciler.model_plan import Delete as Delete
    from reconciler.model_plan import DeleteReason as DeleteReason
    from reconciler.model_plan import FieldChange as FieldChange
    from reconciler.model_plan import Kind as Kind
    from reconciler.model_plan import ListedView as ListedView
    from reconciler.model_plan import Operation as Operation
    from reconciler.model_plan import Patch as Patch
    from reconciler.model_plan import RemoteSnapshot as RemoteSnapshot
    from reconciler.model_plan import RemovedView as RemovedView
    from reconciler.model_plan import Replacement as Replacement
    from reconciler.model_plan import Request as Request
    from reconciler.model_plan import ViewError as ViewError
    from reconciler.model_plan import operation_sort_key as operation_sort_key
    from reconciler.model_plan import parse_timestamp as parse_timestamp

#: A mutable field's value as YAML and the API give it.
FieldValue = str | int | bool


@dataclass(frozen=True, order=True, slots=True)
class SnapshotKey:
    """Natural key of a snapshot; fields in resource.KEY_FIELDS order, so sorting is stable."""

    application_id: str
    view_name: str
    device_type: str
    snapshot_name: str

    @property
    def scope(self) -> ViewScope:
        return ViewScope(self.application_id, self.view_name)

    def as_dict(self) -> dict[str, str]:
        return {
            "application_id": self.application_id,
            "view_name": self.view_name,
            "device_type": self.device_type,
            "snapshot_name": self.snapshot_name,
        }

    def __str__(self) -> str:
        return f"{self.view_name} [{self.device_type}] {self.snapshot_name!r}"


@dataclass(frozen=True, order=True, slots=True)
class ViewScope:
    """One managed (application, view): the unit of listing, pruning and safety."""

    application_id: str
    view_name: str

    def __str__(self) -> str:
        return f"{self.application_id} {self.view_name}"


@dataclass(frozen=True, order=True, slots=True)
class SourcePosition:
    """Where something was written: 1-based line and column, as editors count."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True, slots=True)
class Problem:
    """One user-facing problem, printed as `path:line:col: message`."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


@dataclass(frozen=True, slots=True)
class DesiredSnapshot:
    """A snapshot declared in a file. `fields` holds only the managed mutable fields."""

    key: SnapshotKey
    fields: Mapping[str, FieldValue]
    position: SourcePosition


@dataclass(frozen=True, slots=True)
class ManagedView:
    """A view key in a snapshots file: its remote snapshots are reconciled."""

    scope: ViewScope
    position: SourcePosition


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Everything the snapshot files declare, already validated."""

    views: tuple[ManagedView, ...]
    snapshots: tuple[DesiredSnapshot, ...]


#: What `reconciler.model_plan` defines, importable from here.
_PLAN_NAMES: Final = frozenset(
    {
        "Create",
        "Delete",
        "DeleteReason",
        "FieldChange",
        "Kind",
        "ListedView",
        "Operation",
        "PHASES",
        "Patch",
        "RemoteSnapshot",
        "RemovedView",
        "Replacement",
        "Request",
        "ViewError",
        "operation_sort_key",
        "parse_timestamp",
    }
)


if not TYPE_CHECKING:  # hidden from mypy, which checks the names imported above instead

    def __getattr__(name: str) -> Any:
        """The remote-side and plan types, imported on first use (PEP 562)."""
        if name not in _PLAN_NAMES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from reconciler import model_plan

        value = getattr(model_plan, name)
        globals()[name] = value
        return value
