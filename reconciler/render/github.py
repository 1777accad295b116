"""`plan --format github`: GitHub Actions workflow commands, one line each.

`::error` for views that could not be listed; `::warning` for safety warnings, deletes,
views no longer managed (`--base`) and what the server returned oddly; `::notice` for
replaces and the summary. Each at `file=...,line=...` where the plan knows it (a view key,
the line of a replacing snapshot). Each line is built by `core.text.annotation`, which
makes every part inert and escapes it by GitHub's rules (`%`, CR and LF in the message;
also `:` and `,` in properties): the only lines the sinks let begin with `::`.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.core.model import SourcePosition, ViewScope
from reconciler.core.text import annotation as workflow_annotation
from reconciler.core.text import plain
from reconciler.plan.operations import Create, Delete
from reconciler.plan.planfile import PlanDocument
from reconciler.render.common import (
    changed_in_datadog,
    changed_outside,
    kept_line,
    operation_title,
    shown_operations,
    targets_line,
    three_values,
    value_text,
)


def annotation(level: str, message: str, *, title: str, where: SourcePosition | None = None) -> str:
    """`::level file=F,line=L,title=T::message`, at `where` when the plan knows it."""
    if where is None:
        return workflow_annotation(level, message, title=title)
    return workflow_annotation(level, message, file=where.path, line=where.line, title=title)


def render_github(document: PlanDocument, *, forced: bool = False) -> str:
    plan = document.plan
    sources = document.sources
    names = document.applications

    def titled(title: str) -> str:
        """An annotation's title, naming the environment when there is one."""
        return title if document.environment is None else f"{document.environment}: {title}"

    def at(scope: ViewScope) -> SourcePosition | None:
        return sources.get(scope)

    lines: list[str] = []
    for extra in (targets_line(document), kept_line(document)):
        if extra:
            lines.append(extra)
    for error in document.errors:
        lines.append(
            annotation("error", str(error), title=titled("view not listed"), where=at(error.scope))
        )
    for warning in document.warnings:
        lines.append(annotation("warning", warning, title=titled("reconciler")))
    for removed in document.removed_views:
        lines.append(
            annotation(
                "warning",
                removed.message,
                title=titled("no longer managed"),
                where=removed.position,
            )
        )
    for index, reason in enumerate(plan.unsafe_reasons):
        scope = plan.unsafe_scopes[index] if index < len(plan.unsafe_scopes) else None
        lines.append(
            annotation(
                "warning",
                reason,
                title=titled("unsafe plan"),
                where=None if scope is None else at(scope),
            )
        )
    if not plan.is_safe and not forced:
        lines.append(
            annotation(
                "warning",
                "apply will refuse this plan without --force",
                title=titled("unsafe plan"),
            )
        )
    for op in shown_operations(document):
        if isinstance(op, Create) and op.replaces is not None:
            changes = ", ".join(
                f"{c.name} {value_text(c.old)} -> {value_text(c.new)}" for c in op.replaces.changes
            )
            message = (
                f"{operation_title(op, 'replace', names)} id={plain(op.replaces.snapshot_id)}: "
                f"{changes}"
                " (created first, then the old one is deleted)"
            )
            lines.append(
                annotation(
                    "notice",
                    message,
                    title=titled("replace"),
                    where=op.position or at(op.key.scope),
                )
            )
        elif isinstance(op, Delete):
            title = operation_title(op, names=names)
            message = f"{title} id={plain(op.snapshot_id)}: {op.reason}"
            lines.append(
                annotation("warning", message, title=titled(op.kind), where=at(op.key.scope))
            )
    lines.extend(_attribution_annotations(document, titled))
    lines.append(annotation("notice", document.summary(), title=titled("reconciler plan")))
    return "\n".join(lines) + "\n"


def _attribution_annotations(document: PlanDocument, titled: Callable[[str], str]) -> list[str]:
    """A warning per operation labelled drift or conflict (`--base`), at the snapshot's line
    (a delete's: its view's): applying would undo an edit made in Datadog."""
    lines = []
    for op, labelled, title in changed_in_datadog(document):
        if not isinstance(op, Create):
            title += f" id={plain(op.snapshot_id)}"
        what = changed_outside(labelled)
        if labelled.label == "drift":
            message = f"{title}: {what}; applying this plan undoes it"
        else:
            conflicting = three_values(labelled)
            message = f"{title}: {what}; the files changed it too" + (
                f" ({conflicting})" if conflicting else ""
            )
        where = None if isinstance(op, Delete) else op.position
        lines.append(
            annotation(
                "warning",
                message,
                title=titled(labelled.label),
                where=where or document.sources.get(op.key.scope),
            )
        )
    return lines
