"""Plans as people read them on a terminal or in a CI log, like Terraform's."""

from __future__ import annotations

import click

from reconciler.core.text import plain, printable
from reconciler.plan.operations import Create, Operation, Patch
from reconciler.plan.planfile import PlanDocument
from reconciler.render.common import (
    kept_line,
    operation_title,
    shown_operations,
    targets_line,
    value_text,
)

_SYMBOL = {"create": "+", "patch": "~", "delete": "-"}
_COLOUR = {"create": "green", "patch": "yellow", "delete": "red"}


def render_text(document: PlanDocument, *, color: bool = False, forced: bool = False) -> str:
    def style(text: str, colour: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=colour, bold=bold) if color else text

    lines: list[str] = []
    for op in shown_operations(document):
        if isinstance(op, Create) and op.replaces is not None:
            symbol = style("-/+", "magenta", bold=True)
            title = operation_title(op, "replace", document.applications)
            lines.append(f"{symbol} {title} id={plain(op.replaces.snapshot_id)}")
        else:
            symbol = style(_SYMBOL[op.phase], _COLOUR[op.phase], bold=True)
            suffix = "" if isinstance(op, Create) else f" id={plain(op.snapshot_id)}"
            lines.append(f"{symbol} {operation_title(op, names=document.applications)}{suffix}")
        lines.extend(f"    {line}" for line in _detail_lines(op))
    if lines:
        lines.append("")
    for error in document.errors:
        lines.append(style(f"Error: {printable(str(error))}", "red", bold=True))
    for warning in document.warnings:
        lines.append(style(f"Warning: {printable(warning)}", "yellow", bold=True))
    for removed in document.removed_views:
        lines.append(style(f"Warning: {printable(removed.message)}", "yellow", bold=True))
    for reason in document.plan.unsafe_reasons:
        lines.append(style(f"Warning: unsafe plan: {printable(reason)}", "yellow", bold=True))
    if not document.plan.is_safe and not forced:
        lines.append(
            style("Warning: apply will refuse this plan without --force.", "yellow", bold=True)
        )
    for extra in (kept_line(document), targets_line(document)):
        if extra:
            lines.append(extra)
    lines.append(style(document.summary(), bold=True))
    return "\n".join(lines) + "\n"


def _detail_lines(op: Operation) -> list[str]:
    if isinstance(op, Create):
        changes = () if op.replaces is None else op.replaces.changes
        names = [c.name for c in changes] + list(op.fields)
        width = max((len(name) for name in names), default=0)
        return [
            f"{c.name:<{width}} : {value_text(c.old)} -> {value_text(c.new)}" for c in changes
        ] + [f"{name:<{width}} = {value_text(value)}" for name, value in op.fields.items()]
    if isinstance(op, Patch):
        width = max(len(change.name) for change in op.changes)
        return [
            f"{change.name:<{width}} : {value_text(change.old)} -> {value_text(change.new)}"
            for change in op.changes
        ]
    if op.kind == "duplicate":
        return ["reason: duplicate (a copy with the same key is kept)"]
    return [f"reason: {op.reason}"]
