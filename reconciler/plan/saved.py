"""A saved plan is re-derived, never trusted (SPEC section 5).

`apply PLAN` re-reads the snapshot files, re-lists the plan's own views, recomputes the plan
and its safety, and goes on only when the recomputed operations equal the saved ones (kind,
key, id, fields, and a patch's changes as the reviewer saw them). What is then applied, and
whether it is safe, is the recomputed plan: nothing read from the file decides a request.
The file decides only what to compare with and where to look: its target (refused when it
differs), its `--target` globs and its views (only those still managed are listed, so an
edit to other views does not make it stale, and an unmanaged view is never touched).
The file was masked when written (a name holding a piece of the key reads `***`), so the
recomputed operations are compared as the file sink would have written them; the masked copy
is only compared with, never sent: a masked value matches only a real one that masks to it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass, replace
from typing import Any

from reconciler.api.client import ApiClient
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import DesiredState
from reconciler.core.output import redact_file_text
from reconciler.core.text import plain
from reconciler.plan.engine import Context, compute_plan
from reconciler.plan.operations import Create, Operation, Patch, Replacement
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.targets import UnmatchedTarget

#: How many differences a stale message names before "and N more".
_MAX_NAMED = 5


class StalePlan(ReconcilerError):
    """The world changed since the plan was saved; applying it would not do what it said."""


async def verify_saved_plan(
    saved: PlanDocument, context: Context, client: ApiClient, desired: DesiredState
) -> PlanDocument:
    """The recomputed plan when it equals `saved`; else StalePlan naming what differs."""
    if saved.environment != context.environment:
        made, now = (_environment(name) for name in (saved.environment, context.environment))
        raise _stale([f"it was made for {made}, not {now}"])
    if saved.target_url != context.base_url:
        raise _stale([f"it targets {plain(saved.target_url)}, not {context.base_url}"])
    if saved.errors:
        raise _stale(["some of its views could not be listed when it was made"])
    scopes = [view.scope for view in saved.views]
    try:
        current, _ = await compute_plan(
            context, client, desired, targets=saved.targets, scopes=scopes, fingerprints=True
        )
    except UnmatchedTarget as exc:
        raise _stale([f"its target {plain(exc.target)} matches nothing now"]) from None
    reasons = [f"cannot re-list {error}" for error in current.errors]
    if not reasons:
        reasons = differences(saved, current)
    if reasons:
        raise _stale(reasons)
    warnings = list(current.warnings)
    if saved.git_commit and current.git_commit and saved.git_commit != current.git_commit:
        warnings.append(
            f"this plan was made at commit {saved.git_commit[:12]}; the working tree is at "
            f"{current.git_commit[:12]} (the plan was checked against the files as they are now)"
        )
    return dataclasses.replace(current, warnings=tuple(warnings))


def _environment(name: str | None) -> str:
    return "no environment" if name is None else f"environment {plain(name)}"


def differences(saved: PlanDocument, current: PlanDocument) -> list[str]:
    """What differs between the saved and the recomputed operations, in plan order."""
    before = _by_identity(saved.plan.operations)
    after = _by_identity(tuple(_masked(op) for op in current.plan.operations))
    reasons: list[str] = []
    if len(before) < len(saved.plan.operations):
        reasons.append("it lists an operation more than once")
    for identity, op in before.items():
        now = after.get(identity)
        if now is None:
            reasons.append(f"{_describe(op)} is no longer needed")
        else:
            reasons.extend(f"{_describe(op)}: {change}" for change in _changed(op, now))
    reasons.extend(
        f"{_describe(op)} is needed now and not in the plan"
        for identity, op in after.items()
        if identity not in before
    )
    changed = {v.scope: v for v in current.views}
    for view in saved.views:
        now_view = changed.get(view.scope)
        if reasons and now_view is not None and now_view.fingerprint != view.fingerprint:
            reasons.append(
                f"view {plain(view.scope.view_name)} of application "
                f"{plain(view.scope.application_id)} changed remotely "
                f"({view.snapshot_count} snapshots then, {now_view.snapshot_count} now)"
            )
    return reasons


def _masked(value: Any) -> Any:
    """`value` with every string as the file sink writes it (`redact_file_text`)."""
    if isinstance(value, str):
        return redact_file_text(value)
    if is_dataclass(value) and not isinstance(value, type):
        changed = {
            f.name: _masked(getattr(value, f.name)) for f in dataclass_fields(value) if f.init
        }
        return replace(value, **changed)
    if isinstance(value, Mapping):
        return {_masked(k): _masked(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_masked(item) for item in value)
    return value


def _by_identity(operations: tuple[Operation, ...]) -> dict[tuple[Any, ...], Operation]:
    return {
        (op.kind, op.key, None if isinstance(op, Create) else op.snapshot_id): op
        for op in operations
    }


def _changed(saved: Operation, current: Operation) -> list[str]:
    """Field by field: what the plan says against what is needed now."""
    found: list[str] = []
    if (
        isinstance(saved, Create)
        and isinstance(current, Create)
        and saved.replaces != current.replaces
    ):
        found.append(
            f"it replaces {_replaced(saved.replaces)} in the plan, "
            f"{_replaced(current.replaces)} now"
        )
    if isinstance(saved, Create | Patch) and isinstance(current, Create | Patch):
        found.extend(_field_differences(saved.fields, current.fields))
    if (
        isinstance(saved, Patch)
        and isinstance(current, Patch)
        and not found
        and saved.changes != current.changes
    ):
        then = {c.name: (c.old, c.new) for c in saved.changes}
        now = {c.name: (c.old, c.new) for c in current.changes}
        for name in sorted(set(then) | set(now)):
            if then.get(name) != now.get(name):
                found.append(
                    f"field `{_quote(name)}` was {_pair(then.get(name))} in the plan, "
                    f"{_pair(now.get(name))} now"
                )
    return found  # where a snapshot is declared does not change what is sent


def _field_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    found = []
    for name in sorted(set(saved) | set(current)):
        then, now = saved.get(name), current.get(name)
        if then != now or type(then) is not type(now):
            found.append(f"field `{_quote(name)}` is {_value(then)} in the plan, {_value(now)} now")
    return found


def _replaced(replacement: Replacement | None) -> str:
    if replacement is None:
        return "nothing"
    changes = ", ".join(
        f"`{_quote(c.name)}` {_value(c.old)} -> {_value(c.new)}" for c in replacement.changes
    )
    return f"id={plain(replacement.snapshot_id)} ({changes})"


def _pair(change: tuple[Any, Any] | None) -> str:
    if change is None:
        return "unchanged"
    return f"{_value(change[0])} -> {_value(change[1])}"


def _value(value: Any) -> str:
    return "(unset)" if value is None else _quote(value)


def _quote(value: Any) -> str:
    """A value from the file, quoted so that it stays on one line and reads as data."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


def _describe(op: Operation) -> str:
    """`view /home of application …: delete desktop "promo" id=…`, names made printable."""
    key = op.key
    what = "delete duplicate" if op.kind == "duplicate" else op.kind
    name = json.dumps(key.snapshot_name, ensure_ascii=False)
    text = (
        f"view {plain(key.view_name)} of application {plain(key.application_id)}: "
        f"{what} {plain(key.device_type)} {name}"
    )
    return text if isinstance(op, Create) else f"{text} id={plain(op.snapshot_id)}"


def _stale(reasons: list[str]) -> StalePlan:
    shown = reasons[:_MAX_NAMED]
    more = len(reasons) - len(shown)
    text = "; ".join(shown) + (f"; and {more} more" if more else "")
    return StalePlan(
        f"saved plan is stale: {text}. Nothing was applied; run `reconciler plan` again."
    )
