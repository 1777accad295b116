"""Plans as people read them on a terminal or in a CI log, like Terraform's."""

from __future__ import annotations

import click

from reconciler.core.text import plain, printable
from reconciler.plan.attribution import LABELS, OperationAttribution
from reconciler.plan.operations import Create, Operation, Patch
from reconciler.plan.planfile import PlanDocument
from reconciler.render.common import (
    base_text,
    changed_in_datadog,
    changed_outside,
    field_label,
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

    attribution = document.attribution
    lines: list[str] = _outside_section(document)
    operations = shown_operations(document)
    for op in operations:
        labelled = None if attribution is None else attribution.of(op)
        label = "" if labelled is None else "  " + style(f"[{labelled.label}]", bold=True)
        if isinstance(op, Create) and op.replaces is not None:
            symbol = style("-/+", "magenta", bold=True)
            title = operation_title(op, "replace", document.applications)
            lines.append(f"{symbol} {title} id={plain(op.replaces.snapshot_id)}{label}")
        else:
            symbol = style(_SYMBOL[op.phase], _COLOUR[op.phase], bold=True)
            suffix = "" if isinstance(op, Create) else f" id={plain(op.snapshot_id)}"
            title = operation_title(op, names=document.applications)
            lines.append(f"{symbol} {title}{suffix}{label}")
        lines.extend(f"    {line}" for line in _detail_lines(op, labelled))
    if operations:
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
    if attribution is not None:
        counts = attribution.counts(document.plan.operations)
        shown = ", ".join(f"{counts[label]} {label}" for label in LABELS)
        lines.append(f"Since base {base_text(attribution)}: {shown}.")
    lines.append(style(document.summary(), bold=True))
    return "\n".join(lines) + "\n"


def _outside_section(document: PlanDocument) -> list[str]:
    """Like Terraform's "Objects have changed outside of Terraform": what Datadog changed
    since the base, per snapshot, before the plan that would undo it."""
    lines = [
        f"  [{labelled.label}] {title}: {changed_outside(labelled)}"
        for _, labelled, title in changed_in_datadog(document)
    ]
    if not lines or document.attribution is None:  # without --base there are no lines
        return []
    base = base_text(document.attribution)
    return [
        f"Objects have changed in Datadog since the files at base {base}:",
        *lines,
        "Applying this plan undoes these changes (drift); where the files changed the same "
        "snapshot too (conflict), the files' values win.",
        "",
    ]


def _with_label(line: str, labelled: OperationAttribution | None, name: str) -> str:
    found = None if labelled is None else labelled.field(name)
    return line if found is None else f"{line}  {field_label(found)}"


def _detail_lines(op: Operation, labelled: OperationAttribution | None = None) -> list[str]:
    if isinstance(op, Create):
        changes = () if op.replaces is None else op.replaces.changes
        names = [c.name for c in changes] + list(op.fields)
        width = max((len(name) for name in names), default=0)
        return [
            _with_label(
                f"{c.name:<{width}} : {value_text(c.old)} -> {value_text(c.new)}", labelled, c.name
            )
            for c in changes
        ] + [
            _with_label(f"{name:<{width}} = {value_text(value)}", labelled, name)
            for name, value in op.fields.items()
        ]
    if isinstance(op, Patch):
        width = max(len(change.name) for change in op.changes)
        return [
            _with_label(
                f"{change.name:<{width}} : {value_text(change.old)} -> {value_text(change.new)}",
                labelled,
                change.name,
            )
            for change in op.changes
        ]
    if op.kind == "duplicate":
        return ["reason: duplicate (a copy with the same key is kept)"]
    return [f"reason: {op.reason}"]
