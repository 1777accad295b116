"""A plan as a pull-request comment (GitHub-flavoured markdown).

Grouped by application, each with a per-view count table, then its operations: creates
with their fields, replaces with the key field that changes, patches with their field
diffs in a collapsible `<details>`. Inert: every name and message from a file or a server
is a code span (`render.md_code`). Under `MARKDOWN_LIMIT` characters: the head (summary,
errors, warnings, safety) is always shown; operation rows are kept deletes and replaces
first, then patches, then creates, and a line says what was left out.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from reconciler.plan.attribution import LABELS
from reconciler.plan.operations import Create, Delete, Operation, Patch
from reconciler.plan.planfile import PlanDocument
from reconciler.render.common import (
    MARKDOWN_LIMIT,
    changed_outside,
    kept_line,
    md_code,
    shown_operations,
    three_values,
    value_text,
)

_SYMBOL = {"create": "➕", "replace": "➖➕", "patch": "✏️", "delete": "➖", "duplicate": "➖"}
_COUNTED = ("create", "replace", "patch", "delete", "duplicate")
#: Which rows survive truncation first (lower first).
_PRIORITY = {"delete": 0, "duplicate": 0, "replace": 0, "patch": 1, "create": 2}
_OPS_HEAD = ["| | action | view | device | snapshot | details |", "|---|---|---|---|---|---|"]


def render_markdown(
    document: PlanDocument, limit: int = MARKDOWN_LIMIT, *, forced: bool = False
) -> str:
    plan = document.plan
    title = "### reconciler plan"
    if document.environment is not None:
        title += f": environment {md_code(document.environment, in_table=False)}"
    head: list[str] = [title, "", f"**{document.summary()}**", "", *_attribution_head(document)]
    if document.targets:
        shown = ", ".join(md_code(t, in_table=False) for t in document.targets)
        head += [f"Targets: {shown}", ""]
    notes: list[str] = []
    for error in document.errors:
        notes.append(f"> :x: **Error:** {md_code(str(error), in_table=False)}")
    for warning in document.warnings:
        notes.append(f"> :warning: **Warning:** {md_code(warning, in_table=False)}")
    for removed in document.removed_views:
        notes.append(
            f"> :warning: **No longer managed:** {md_code(removed.message, in_table=False)}"
        )
    for reason in plan.unsafe_reasons:
        notes.append(f"> :warning: **Unsafe plan:** {md_code(reason, in_table=False)}")
    if not plan.is_safe and not forced:
        notes.append("> :warning: `apply` will refuse this plan without `--force`.")
    if notes:
        head += [*_fitting(notes, limit // 2), ""]
    kept = kept_line(document)
    if kept:
        head += [kept.replace("ignore", "`ignore`").replace("prune: false", "`prune: false`"), ""]
    operations = shown_operations(document)
    if not operations:
        return "\n".join(head).rstrip("\n") + "\n"

    by_app: dict[str, list[Operation]] = defaultdict(list)
    for op in operations:
        by_app[op.key.application_id].append(op)
    rows = {id(op): _row(op, _attribution_marker(document, op)) for op in operations}
    frames = {
        app: _app_head(app, ops, document.applications.get(app)) for app, ops in by_app.items()
    }

    fixed = len("\n".join(head)) + sum(
        len(f) + len("\n".join(_OPS_HEAD)) + 4 for f in frames.values()
    )
    budget = limit - fixed - len(_note(Counter(_kind(op) for op in operations))) - 16
    chosen: set[int] = set()
    used = 0
    for op in sorted(operations, key=lambda o: _PRIORITY[_kind(o)]):
        cost = len(rows[id(op)]) + 1
        if used + cost > budget:
            break
        chosen.add(id(op))
        used += cost

    out = list(head)
    for app, ops in by_app.items():
        out.append(frames[app])
        shown_rows = [rows[id(op)] for op in ops if id(op) in chosen]
        if shown_rows:
            out += ["", *_OPS_HEAD, *shown_rows]
        out.append("")
    left = Counter(_kind(op) for op in operations if id(op) not in chosen)
    if left:
        out.append(_note(left))
    return "\n".join(out).rstrip("\n") + "\n"


def _fitting(notes: list[str], budget: int) -> list[str]:
    """The notes that fit in `budget` characters (in order: errors, then warnings, then
    safety), and a line counting the others: thousands of failed views must not push the
    comment over the limit."""
    kept: list[str] = []
    used = 0
    for note in notes:
        if used + len(note) + 1 > budget:
            return [*kept, f"> _…{len(notes) - len(kept)} more errors and warnings not shown._"]
        kept.append(note)
        used += len(note) + 1
    return kept


def _kind(op: Operation) -> str:
    return op.kind


def _app_head(app: str, ops: list[Operation], alias: str | None = None) -> str:
    per_view: dict[str, Counter[str]] = defaultdict(Counter)
    for op in ops:
        per_view[op.key.view_name][_kind(op)] += 1
    name = md_code(app, in_table=False)
    if alias is not None:
        name = f"{md_code(alias, in_table=False)} ({name})"
    lines = [
        f"#### Application {name}",
        "",
        "| view | " + " | ".join(_COUNTED) + " |",
        "|---|" + "---:|" * len(_COUNTED),
    ]
    for view in sorted(per_view):
        counts = per_view[view]
        cells = " | ".join(str(counts[kind]) for kind in _COUNTED)
        lines.append(f"| {md_code(view)} | {cells} |")
    return "\n".join(lines)


def _row(op: Operation, marker: tuple[str, str] = ("", "")) -> str:
    key = op.key
    kind = _kind(op)
    action, details = marker
    return (
        f"| {_SYMBOL[kind]} | {kind}{action} | {md_code(key.view_name)} | "
        f"{md_code(key.device_type)} | {md_code(key.snapshot_name)} | {_details(op)}{details} |"
    )


def _fields(op: Create | Patch) -> str:
    return "<br>".join(
        f"{md_code(name)} = {md_code(value_text(v))}" for name, v in op.fields.items()
    )


def _details(op: Operation) -> str:
    if isinstance(op, Create):
        if op.replaces is None:
            return _fields(op)
        changes = "<br>".join(
            f"{md_code(c.name)}: {md_code(value_text(c.old))} → {md_code(value_text(c.new))}"
            for c in op.replaces.changes
        )
        return (
            f"{changes}<br>created first, then id {md_code(op.replaces.snapshot_id)} is deleted"
            f"<details><summary>fields</summary>{_fields(op)}</details>"
        )
    if isinstance(op, Patch):
        names = ", ".join(md_code(c.name) for c in op.changes)
        diffs = "<br>".join(
            f"{md_code(c.name)}: {md_code(value_text(c.old))} → {md_code(value_text(c.new))}"
            for c in op.changes
        )
        return f"<details><summary>changed: {names}</summary>{diffs}</details>"
    assert isinstance(op, Delete)
    reason = "duplicate, a copy is kept" if op.kind == "duplicate" else op.reason
    return f"{reason} (id {md_code(op.snapshot_id)})"


def _note(left: Counter[str]) -> str:
    total = sum(left.values())
    parts = ", ".join(
        f"{left[kind]} {kind}"
        for kind in ("patch", "create", *_COUNTED[3:], "replace")
        if left[kind]
    )
    return (
        f"_…{total} more operations not shown ({parts}): the comment would pass GitHub's size "
        "limit. Run `reconciler show` on the saved plan for all of them._"
    )


# -- drift attribution (`--base`): a count under the summary, a marker in each row ---------

_MARKS = {"change": "", "drift": ":leftwards_arrow_with_hook: ", "conflict": ":warning: "}


def _attribution_head(document: PlanDocument) -> list[str]:
    """`Since base `main` (`0123…`): 1 change, 3 drift, 1 conflict.` and what they mean."""
    attribution = document.attribution
    if attribution is None:
        return []
    counts = attribution.counts(document.plan.operations)
    shown = ", ".join(f"{counts[label]} {label}" for label in LABELS)
    base = f"{md_code(attribution.ref, in_table=False)} ({md_code(attribution.commit[:12])})"
    lines = [f"Since base {base}: **{shown}**."]
    if counts["drift"] or counts["conflict"]:
        lines.append(
            "_drift: merging undoes an edit made in Datadog; conflict: the files and Datadog "
            "both changed the snapshot (the files' values win)._"
        )
    return [*lines, ""]


def _attribution_marker(document: PlanDocument, op: Operation) -> tuple[str, str]:
    """(after the action, after the details) of a row: its label, and for drift and
    conflict what Datadog changed (a conflict's three values too)."""
    labelled = None if document.attribution is None else document.attribution.of(op)
    if labelled is None:
        return ("", "")
    action = f"<br>{_MARKS[labelled.label]}**{labelled.label}**"
    if labelled.label == "change":
        return (action, "")
    details = f"<br>{md_code(changed_outside(labelled))}"
    conflicting = three_values(labelled)
    if conflicting:
        details += f"<br>{md_code(conflicting)}"
    return (action, details)
