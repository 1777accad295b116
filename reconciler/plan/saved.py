"""A saved plan is re-derived, never trusted (SPEC section 5).

`apply PLAN` re-reads the snapshot files, re-lists the plan's own views, recomputes the plan
and its safety, and goes on only when the recomputed operations equal the saved ones (kind,
key, id, fields, and a patch's changes as the reviewer saw them). What is then applied, and
whether it is safe, is the recomputed plan: nothing read from the file decides a request.
The file decides only what to compare with and where to look: its target (refused when it
differs), its `--target` globs and its views (only those still managed are listed, so an
edit to other views does not make it stale, and an unmanaged view is never touched).
A plan made with `--base REF` carries its attribution (`plan.attribution`) and the commit REF
named: the attribution is recomputed against that commit's files and compared like the
operations (a label, a value or a `modified_at` that differs makes the plan stale).
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
from reconciler.desired.baseref import desired_at
from reconciler.plan.attribution import Attribution
from reconciler.plan.engine import Context, compute_plan
from reconciler.plan.operations import Create, Delete, FieldChange, Operation, Patch, Replacement
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
    base = None
    if saved.attribution is not None:  # the commit, not the ref: a branch moves
        given = saved.attribution
        found = desired_at(
            given.commit,
            context.settings.snapshots,
            context.environment,
            context.application_aliases,
        )
        base = dataclasses.replace(found, ref=given.ref)
    try:
        current, _ = await compute_plan(
            context,
            client,
            desired,
            targets=saved.targets,
            scopes=scopes,
            fingerprints=True,
            base=base,
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
    then = {identity: _compared(op) for identity, op in before.items()}
    now = {identity: _compared(op) for identity, op in after.items()}
    differing = [
        identity
        for identity in {**then, **now}
        if _exact(then.get(identity)) != _exact(now.get(identity))
    ]
    if differing:
        reasons.extend(_explained(differing, before, after, then, now))
    if saved.attribution is not None:
        reasons.extend(_attributed(saved.attribution, current.attribution, before, after))
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


def _attributed(
    saved: Attribution,
    current: Attribution | None,
    before: Mapping[Identity, Operation],
    after: Mapping[Identity, Operation],
) -> list[str]:
    """Operations in both plans whose attribution differs (as the file sink writes it)."""
    now_labels = {} if current is None else current.operations
    labels_now = {_masked(k): _masked(v) for k, v in now_labels.items()}
    reasons: list[str] = []
    for identity in [identity for identity in before if identity in after]:
        then, now = saved.operations.get(identity), labels_now.get(identity)
        if then == now:
            continue
        was = "unlabelled" if then is None else then.label
        is_now = "unlabelled" if now is None else now.label
        described = _describe(before[identity])
        if was != is_now:
            reasons.append(f"{described}: it was {was} in the plan, {is_now} now")
        else:
            reasons.append(f"{described}: its attribution changed ({is_now}: Datadog changed)")
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


Identity = tuple[Any, ...]


def _by_identity(operations: tuple[Operation, ...]) -> dict[Identity, Operation]:
    return {
        (op.kind, op.key, None if isinstance(op, Create) else op.snapshot_id): op
        for op in operations
    }


def _compared(op: Operation) -> dict[str, Any]:
    """What is compared of an operation, in JSON form (the values the file holds): the
    fields it sends, a patch's changes as the reviewer saw them, what a create replaces.
    Not where it is declared, nor what derives from these (its request, its reason); its
    kind, key and id are its identity."""
    form: dict[str, Any] = {"fields": {} if isinstance(op, Delete) else dict(op.fields)}
    if isinstance(op, Patch):
        form["changes"] = _changes(op.changes)
    if isinstance(op, Create) and op.replaces is not None:
        form["replaces"] = {
            "snapshot_id": op.replaces.snapshot_id,
            "changes": _changes(op.replaces.changes),
        }
    return form


def _changes(changes: tuple[FieldChange, ...]) -> dict[str, list[Any]]:
    return {change.name: [change.old, change.new] for change in changes}


def _exact(form: dict[str, Any] | None) -> str:
    """A form as text, for a cheap check that tells types apart (`2000` is not `2000.0`,
    `1` is not `true`), as the API does."""
    return json.dumps(form, sort_keys=True)


def _explained(
    differing: list[Identity],
    before: Mapping[Identity, Operation],
    after: Mapping[Identity, Operation],
    then: Mapping[Identity, dict[str, Any]],
    now: Mapping[Identity, dict[str, Any]],
) -> list[str]:
    """Each difference named, as DeepDiff finds them between the two lists' forms (those
    that differ only: it costs far more than the check). Imported here: an unchanged saved
    plan never loads it."""
    from deepdiff import DeepDiff

    numbered = dict(enumerate(differing))
    tree = DeepDiff(
        {n: then[i] for n, i in numbered.items() if i in then},
        {n: now[i] for n, i in numbered.items() if i in now},
        view="tree",
        threshold_to_diff_deeper=0,  # an operation's own fields, never "all of it changed"
    )
    paths: dict[Identity, list[list[Any]]] = {}
    for levels in tree.values():
        for level in levels:
            number, *inside = level.path(output_format="list")
            paths.setdefault(numbered[number], []).append(inside)
    reasons: list[str] = []
    for identity, op in before.items():
        if identity not in paths:
            continue
        current = after.get(identity)
        if current is None:
            reasons.append(f"{_describe(op)} is no longer needed")
        else:
            reasons.extend(
                f"{_describe(op)}: {change}" for change in _changed(op, current, paths[identity])
            )
    reasons.extend(
        f"{_describe(op)} is needed now and not in the plan"
        for identity, op in after.items()
        if identity in paths and identity not in before
    )
    return reasons


def _changed(saved: Operation, current: Operation, paths: list[list[Any]]) -> list[str]:
    """What the plan says against what is needed now, for the parts of the operation's
    form DeepDiff found different (`paths`: each a list of keys inside the form)."""
    found: list[str] = []
    parts = {path[0] for path in paths}
    if "replaces" in parts and isinstance(saved, Create) and isinstance(current, Create):
        found.append(
            f"it replaces {_replaced(saved.replaces)} in the plan, "
            f"{_replaced(current.replaces)} now"
        )
    if isinstance(saved, Create | Patch) and isinstance(current, Create | Patch):
        for name in sorted({str(path[1]) for path in paths if path[0] == "fields"}):
            then, now = saved.fields.get(name), current.fields.get(name)
            found.append(f"field `{_quote(name)}` is {_value(then)} in the plan, {_value(now)} now")
    if isinstance(saved, Patch) and isinstance(current, Patch) and not found:
        was, wanted = _changes(saved.changes), _changes(current.changes)
        for name in sorted({str(path[1]) for path in paths if path[0] == "changes"}):
            found.append(
                f"field `{_quote(name)}` was {_pair(was.get(name))} in the plan, "
                f"{_pair(wanted.get(name))} now"
            )
    return found  # where a snapshot is declared does not change what is sent


def _replaced(replacement: Replacement | None) -> str:
    if replacement is None:
        return "nothing"
    changes = ", ".join(
        f"`{_quote(c.name)}` {_value(c.old)} -> {_value(c.new)}" for c in replacement.changes
    )
    return f"id={plain(replacement.snapshot_id)} ({changes})"


def _pair(change: list[Any] | None) -> str:
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
