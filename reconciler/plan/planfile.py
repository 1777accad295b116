"""The plan document: what `plan --format json` prints, `plan --out` saves, and `show` and
`apply PLAN` read back. One versioned JSON shape, described by schemas/plan.schema.json.

Saved plans hold no keys: only the target URL, the git commit, fingerprints and the
operations with their values. A saved plan is never trusted: `apply PLAN` recomputes it
(`saved_plan`); what is read here is for showing and comparing. Each operation's `request`
is written for people to read (derived from its values by `request_of`) and never read back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from reconciler import __version__
from reconciler.core import resource
from reconciler.core.errors import ReconcilerError
from reconciler.core.files import Refused, read_regular
from reconciler.core.model import (
    FieldValue,
    ListedView,
    RemovedView,
    SnapshotKey,
    SourcePosition,
    ViewError,
    ViewScope,
)
from reconciler.plan.attribution import (
    LABELS,
    Attribution,
    FieldAttribution,
    OperationAttribution,
    identity,
)
from reconciler.plan.operations import (
    Create,
    Delete,
    DeleteReason,
    FieldChange,
    Operation,
    Patch,
    Replacement,
    Request,
)
from reconciler.plan.planner import Plan

#: 2: operations carry values only (`request` is display), patches carry every managed
#: field, plus `status`, `git`, `warnings` and the `duplicate` count.
#: 3: `environment` (the environment of reconciler.yaml planned, or null) and
#: `applications` (application id -> alias, for display). Format 2 is still read.
FORMAT_VERSION = 3
#: The formats `apply PLAN` and `show` read.
READ_VERSIONS = (2, 3)

#: A saved plan larger than this is refused unread (100,000 operations take about 60 MB).
MAX_PLAN_BYTES = 256 * 1024 * 1024

#: How much of a schema error (which quotes the offending value) is shown.
_MAX_SCHEMA_MESSAGE = 300


@dataclass(frozen=True, slots=True)
class PlanDocument:
    plan: Plan
    target_url: str
    site: str | None
    #: None when not computed (text and markdown plans do not show it).
    desired_fingerprint: str | None
    views: tuple[ListedView, ...]
    #: Views that could not be listed: the plan is incomplete.
    errors: tuple[ViewError, ...] = ()
    #: `--target` globs the plan was restricted to (empty: everything).
    targets: tuple[str, ...] = ()
    #: What the server returned that people should know (sparse fields, ...).
    warnings: tuple[str, ...] = ()
    #: The git commit of the working directory when the plan was made, if any.
    git_commit: str | None = None
    #: Remote snapshots kept by an `ignore` glob; deletes left out because prune is off.
    ignored: int = 0
    unpruned: int = 0
    #: With `--base REF`: views managed at REF and no longer.
    removed_views: tuple[RemovedView, ...] = ()
    #: Where each managed view is declared (annotations); not saved.
    sources: Mapping[ViewScope, SourcePosition] = field(default_factory=dict)
    #: The environment of reconciler.yaml this plan is for (None: none declared).
    environment: str | None = None
    #: application id -> alias of the environment, for display.
    applications: Mapping[str, str] = field(default_factory=dict)
    #: `--target`s that matched nothing here (several environments: checked across all).
    unmatched: tuple[str, ...] = ()
    #: With `--base REF`: who made each operation's difference (`plan.attribution`).
    attribution: Attribution | None = None

    def application_name(self, application_id: str) -> str:
        """`storefront (1111…)` when the id has an alias, else the id."""
        alias = self.applications.get(application_id)
        return application_id if alias is None else f"{alias} ({application_id})"

    @property
    def complete(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """The plan's summary line; an incomplete plan says so, never "No changes."."""
        if self.complete:
            return self.plan.summary()
        failed = len(self.errors)
        text = (
            f"Plan incomplete: {failed} of {failed + len(self.views)} views could not be "
            "listed and were not planned."
        )
        if self.views:
            others = self.plan.counts_text() if self.plan.has_changes else "no changes"
            text += f" In the listed views: {others}."
        return text

    def to_dict(self) -> dict[str, Any]:
        plan = self.plan
        if self.desired_fingerprint is None or any(v.fingerprint is None for v in self.views):
            raise ValueError("a plan document without fingerprints cannot be serialised")
        kinds = Counter(op.kind for op in plan.operations)
        return {
            "format_version": FORMAT_VERSION,
            "generator": f"reconciler {__version__}",
            "status": "complete" if self.complete else "incomplete",
            "environment": self.environment,
            "applications": dict(sorted(self.applications.items())),
            "target": {"url": self.target_url, "site": self.site},
            "git": {"commit": self.git_commit},
            "desired_fingerprint": self.desired_fingerprint,
            "targets": list(self.targets),
            "views": [
                {
                    "application_id": view.scope.application_id,
                    "view_name": view.scope.view_name,
                    "snapshot_count": view.snapshot_count,
                    "fingerprint": view.fingerprint,
                }
                for view in sorted(self.views)
            ],
            "errors": [
                {
                    "application_id": error.scope.application_id,
                    "view_name": error.scope.view_name,
                    "message": error.message,
                }
                for error in sorted(self.errors)
            ],
            "warnings": list(self.warnings),
            "safe": plan.is_safe and self.complete,
            "unsafe_reasons": list(plan.unsafe_reasons),
            "summary": {
                "create": kinds["create"],
                "patch": kinds["patch"],
                "delete": kinds["delete"],
                "duplicate": kinds["duplicate"],
                "replace": kinds["replace"],
                "text": self.summary(),
            },
            "kept": {"ignored": self.ignored, "unpruned": self.unpruned},
            "removed_views": [
                {
                    "application_id": removed.scope.application_id,
                    "view_name": removed.scope.view_name,
                    "snapshot_count": removed.snapshot_count,
                    "message": removed.message,
                }
                for removed in sorted(self.removed_views)
            ],
            "operations": [_operation_to_dict(op, self.attribution) for op in plan.operations],
        } | self._attribution_dict()

    def _attribution_dict(self) -> dict[str, Any]:
        """`attribution` at the top level, only with `--base` (else the document is as
        before attribution existed, byte for byte)."""
        found = self.attribution
        if found is None:
            return {}
        counts = found.counts(self.plan.operations)
        return {
            "attribution": {
                "base": {"ref": found.ref, "commit": found.commit},
                "counts": {label: counts[label] for label in LABELS},
                "drift_only": found.drift_only(self.plan.operations),
            }
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str = "plan") -> PlanDocument:
        _check_schema(data, source)
        operations = tuple(_operation_from_dict(item) for item in data["operations"])
        views = tuple(
            ListedView(
                ViewScope(v["application_id"], v["view_name"]),
                v["snapshot_count"],
                v["fingerprint"],
            )
            for v in data["views"]
        )
        errors = tuple(
            ViewError(ViewScope(e["application_id"], e["view_name"]), e["message"])
            for e in data["errors"]
        )
        kept = data.get("kept", {"ignored": 0, "unpruned": 0})
        removed = tuple(
            RemovedView(ViewScope(r["application_id"], r["view_name"]), r["snapshot_count"])
            for r in data.get("removed_views", [])
        )
        return cls(
            attribution=_attribution_from_dict(data, operations),
            plan=Plan(operations, tuple(data["unsafe_reasons"])),
            target_url=data["target"]["url"],
            site=data["target"]["site"],
            desired_fingerprint=data["desired_fingerprint"],
            views=views,
            errors=errors,
            targets=tuple(data["targets"]),
            warnings=tuple(data["warnings"]),
            git_commit=data["git"]["commit"],
            ignored=kept["ignored"],
            unpruned=kept["unpruned"],
            removed_views=removed,
            environment=data.get("environment"),
            applications=dict(data.get("applications", {})),
        )

    @classmethod
    def read(cls, path: str) -> PlanDocument:
        try:
            size = Path(path).stat().st_size
            if size > MAX_PLAN_BYTES:
                raise ReconcilerError(
                    f"{path}: not a saved plan: {size} bytes, more than the "
                    f"{MAX_PLAN_BYTES} a plan may have"
                )
            # Never a device or a FIFO: /dev/zero would be read until memory runs out.
            text = read_regular(path, MAX_PLAN_BYTES).decode("utf-8")
        except Refused as exc:
            reason = str(exc).removeprefix("cannot read file: ")
            raise ReconcilerError(f"{path}: cannot read saved plan: {reason}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ReconcilerError(f"{path}: cannot read saved plan: {_reason(exc)}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReconcilerError(
                f"{path}:{exc.lineno}:{exc.colno}: not a saved plan: invalid JSON: {exc.msg}"
            ) from None
        except RecursionError:
            raise ReconcilerError(f"{path}: not a saved plan: JSON nested too deeply") from None
        return cls.from_dict(data, source=path)

    def write(self, path: str) -> None:
        """Atomically, never through a symbolic link: a failed write keeps the old plan."""
        from reconciler.core.files import atomic_write

        try:
            atomic_write(path, self.to_json())
        except Refused as exc:
            raise ReconcilerError(f"{path}: cannot write saved plan: {exc}") from None


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "not UTF-8 text"


def request_of(op: Operation) -> Request:
    """The HTTP request `op` sends, derived from its values (for display; the executor
    sends the same bodies through `resource`)."""
    if isinstance(op, Create):
        body = resource.create_body(op.key.as_dict(), op.fields)
        return Request("POST", resource.COLLECTION_PATH, body)
    if isinstance(op, Patch):
        path = resource.item_path(op.snapshot_id)
        return Request("PATCH", path, resource.update_body(op.snapshot_id, op.fields))
    return Request("DELETE", resource.item_path(op.snapshot_id), None)


def _operation_to_dict(op: Operation, attribution: Attribution | None) -> dict[str, Any]:
    item: dict[str, Any] = {"action": op.phase, **op.key.as_dict()}
    item["snapshot_id"] = None if isinstance(op, Create) else op.snapshot_id
    item["reason"] = op.reason
    item["fields"] = {} if isinstance(op, Delete) else dict(op.fields)
    labelled = None if attribution is None else attribution.of(op)

    def change(c: FieldChange) -> dict[str, Any]:
        found = None if labelled is None else labelled.field(c.name)
        labels = {} if found is None else {"attribution": found.label}
        return {"field": c.name, "old": c.old, "new": c.new, **labels}

    item["changes"] = [change(c) for c in op.changes] if isinstance(op, Patch) else []
    if isinstance(op, Create) and op.replaces is not None:
        item["replaces"] = {
            "snapshot_id": op.replaces.snapshot_id,
            "changes": [change(c) for c in op.replaces.changes],
        }
    if labelled is not None:
        item["attribution"] = {
            "label": labelled.label,
            "modified_at": labelled.modified_at,
            "created_by_handle": labelled.created_by_handle,
            "deleted_remotely": labelled.deleted_remotely,
            "created_remotely": labelled.created_remotely,
            "fields": [
                {
                    "field": f.name,
                    "label": f.label,
                    "base": f.base,
                    "remote": f.remote,
                    "desired": f.desired,
                }
                for f in labelled.fields
            ],
        }
    position = None if isinstance(op, Delete) else op.position
    item["source"] = (
        None
        if position is None
        else {"path": position.path, "line": position.line, "col": position.col}
    )
    request = request_of(op)
    item["request"] = {"method": request.method, "path": request.path, "body": request.body}
    return item


def _operation_from_dict(item: dict[str, Any]) -> Operation:
    """An operation as the file says it; `request` is never read (display only)."""
    key = SnapshotKey(
        item["application_id"], item["view_name"], item["device_type"], item["snapshot_name"]
    )
    source = item["source"]
    position = (
        None if source is None else SourcePosition(source["path"], source["line"], source["col"])
    )
    action = item["action"]
    fields = cast(dict[str, FieldValue], item["fields"])
    if action == "create":
        replaces = item.get("replaces")
        replacement = (
            None
            if replaces is None
            else Replacement(
                replaces["snapshot_id"],
                tuple(FieldChange(c["field"], c["old"], c["new"]) for c in replaces["changes"]),
            )
        )
        return Create(key=key, fields=fields, position=position, replaces=replacement)
    if action == "patch":
        changes = tuple(FieldChange(c["field"], c["old"], c["new"]) for c in item["changes"])
        return Patch(
            key=key,
            snapshot_id=item["snapshot_id"],
            changes=changes,
            fields=fields,
            position=position,
        )
    reasons: dict[str, DeleteReason] = {"duplicate": "duplicate", "replaced": "replaced"}
    reason = reasons.get(item["reason"], "not declared")
    return Delete(key=key, snapshot_id=item["snapshot_id"], delete_reason=reason)


def _attribution_from_dict(
    data: dict[str, Any], operations: tuple[Operation, ...]
) -> Attribution | None:
    """The attribution as the file says it (shown by `show`; `apply PLAN` recomputes it and
    compares, `saved.verify_saved_plan`)."""
    found = data.get("attribution")
    if found is None:
        return None
    items = data["operations"]
    labelled: dict[Any, OperationAttribution] = {}
    for index, op in enumerate(operations):
        given = items[index].get("attribution")
        if given is None:
            continue
        labelled[identity(op)] = OperationAttribution(
            given["label"],
            tuple(
                FieldAttribution(f["field"], f["label"], f["base"], f["remote"], f["desired"])
                for f in given["fields"]
            ),
            given["modified_at"],
            given["created_by_handle"],
            given["deleted_remotely"],
            given["created_remotely"],
        )
    return Attribution(found["base"]["ref"], found["base"]["commit"], labelled)


def _check_schema(data: Any, source: str) -> None:
    """A saved plan is input like any other: check it fully before reading a byte of it."""
    from jsonschema import Draft202012Validator

    from reconciler.core.schemas import load_schema

    version = data.get("format_version") if isinstance(data, dict) else None
    if type(version) is int and version not in READ_VERSIONS:
        raise ReconcilerError(
            f"{source}: not a valid saved plan: format {version} is not supported (this "
            f"reconciler reads formats {', '.join(map(str, READ_VERSIONS))}); make it again "
            "with `reconciler plan --out`"
        )
    if isinstance(data, dict) and "environments" in data and "operations" not in data:
        raise ReconcilerError(
            f"{source}: not a saved plan: it holds the plans of several environments (the "
            "output of `plan --format json`); save one per environment with "
            "`plan --out PATH` (with {env} in PATH for several)"
        )

    validator = Draft202012Validator(load_schema("plan.schema.json"))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(part) for part in first.absolute_path) or "(top level)"
        message = first.message
        if len(message) > _MAX_SCHEMA_MESSAGE:  # it quotes the value, which may be huge
            message = message[: _MAX_SCHEMA_MESSAGE - 1] + "…"
        raise ReconcilerError(f"{source}: not a valid saved plan: at {where}: {message}")
