"""Plans as people read them: text like Terraform's, markdown for pull-request comments,
and JSON (the plan document itself). Rendering works from a PlanDocument, so `plan` and
`show` print the same bytes for the same plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import click

from reconciler.model import Create, Delete, FieldValue, Operation, Patch
from reconciler.planfile import PlanDocument

#: GitHub refuses comments over 65,536 characters; leave room for a wrapper.
MARKDOWN_LIMIT = 65_000

_SYMBOL = {"create": "+", "patch": "~", "delete": "-"}
_COLOUR = {"create": "green", "patch": "yellow", "delete": "red"}


def render(document: PlanDocument, output_format: str, *, color: bool = False) -> str:
    if output_format == "json":
        return document.to_json()
    if output_format == "markdown":
        return render_markdown(document)
    return render_text(document, color=color)


def value_text(value: FieldValue | None) -> str:
    """A field value as JSON would write it: strings quoted, booleans lower-case."""
    return "(unset)" if value is None else json.dumps(value, ensure_ascii=False)


def operation_title(op: Operation, verb: str | None = None) -> str:
    """`create /checkout desktop "hero" (application …)`, with `verb` in place of the phase."""
    key = op.key
    name = json.dumps(key.snapshot_name, ensure_ascii=False)
    title = f"{verb or op.phase} {key.view_name} {key.device_type} {name}"
    return f"{title} (application {key.application_id})"


def render_text(document: PlanDocument, *, color: bool = False) -> str:
    def style(text: str, colour: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=colour, bold=bold) if color else text

    lines: list[str] = []
    for op in document.plan.operations:
        symbol = style(_SYMBOL[op.phase], _COLOUR[op.phase], bold=True)
        suffix = "" if isinstance(op, Create) else f" id={op.snapshot_id}"
        lines.append(f"{symbol} {operation_title(op)}{suffix}")
        lines.extend(f"    {line}" for line in _detail_lines(op))
    if lines:
        lines.append("")
    for error in document.errors:
        lines.append(style(f"Error: {error}", "red", bold=True))
    for reason in document.plan.unsafe_reasons:
        lines.append(style(f"Warning: unsafe plan: {reason}", "yellow", bold=True))
    if not document.plan.is_safe:
        lines.append(
            style("Warning: apply will refuse this plan without --force.", "yellow", bold=True)
        )
    lines.append(style(document.plan.summary(), bold=True))
    return "\n".join(lines) + "\n"


def _detail_lines(op: Operation) -> list[str]:
    if isinstance(op, Create):
        width = max((len(name) for name in op.fields), default=0)
        return [f"{name:<{width}} = {value_text(value)}" for name, value in op.fields.items()]
    if isinstance(op, Patch):
        width = max(len(change.name) for change in op.changes)
        return [
            f"{change.name:<{width}} : {value_text(change.old)} -> {value_text(change.new)}"
            for change in op.changes
        ]
    return [f"reason: {op.reason}"]


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown_details(op: Operation) -> str:
    if isinstance(op, Patch):
        return "<br>".join(
            f"`{c.name}`: `{_cell(value_text(c.old))}` → `{_cell(value_text(c.new))}`"
            for c in op.changes
        )
    if isinstance(op, Delete):
        return op.reason + f" (id `{op.snapshot_id}`)"
    return "new"


def render_markdown(document: PlanDocument, limit: int = MARKDOWN_LIMIT) -> str:
    plan = document.plan
    head: list[str] = ["### reconciler plan", "", f"**{plan.summary()}**", ""]
    for error in document.errors:
        head.append(f"> :x: **Error:** {_cell(str(error))}")
    for reason in plan.unsafe_reasons:
        head.append(f"> :warning: **Unsafe plan:** {_cell(reason)}")
    if not plan.is_safe:
        head.append("> :warning: `apply` will refuse this plan without `--force`.")
    if document.errors or plan.unsafe_reasons:
        head.append("")
    if not plan.operations:
        return "\n".join(head).rstrip("\n") + "\n"

    head += [
        "| | action | view | device | snapshot | details | application |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [_markdown_row(op) for op in plan.operations]
    return _fit(head, rows, limit, lambda shown: _truncation_note(shown, len(rows)))


def _markdown_row(op: Operation) -> str:
    symbol = {"create": "➕", "patch": "✏️", "delete": "➖"}[op.phase]
    key = op.key
    return (
        f"| {symbol} | {op.phase} | `{_cell(key.view_name)}` | {key.device_type} | "
        f"{_cell(key.snapshot_name)} | {_markdown_details(op)} | `{key.application_id}` |"
    )


def _truncation_note(shown: int, total: int) -> str:
    return (
        f"\n_…{total - shown} more operations not shown: the comment would pass GitHub's size "
        "limit. Run `reconciler show` on the saved plan for all of them._"
    )


def _fit(head: list[str], rows: list[str], limit: int, note: Callable[[int], str]) -> str:
    """Head plus as many rows as fit under `limit` characters, with a note when cut."""
    text = "\n".join(head) + "\n"
    budget = limit - len(text) - len(note(0)) - 1
    used = 0
    for shown, row in enumerate(rows):
        if used + len(row) + 1 > budget:
            return text + "\n".join(rows[:shown]) + "\n" + note(shown) + "\n"
        used += len(row) + 1
    return text + "\n".join(rows) + "\n"
