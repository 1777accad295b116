"""Plans as people read them: text like Terraform's, markdown for pull-request comments,
and JSON (the plan document itself). Rendering works from a PlanDocument, so `plan` and
`show` print the same bytes for the same plan.

Markdown is inert: every name and message that comes from a file or a server is written as
a code span (`md_code`), where markdown forms no HTML, link, image, mention, emphasis or
heading; its whitespace is collapsed to one line and control characters are dropped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping

import click

from reconciler.model import Create, FieldValue, Operation, Patch
from reconciler.planfile import PlanDocument

#: GitHub refuses comments over 65,536 characters; leave room for a wrapper.
MARKDOWN_LIMIT = 65_000

_SYMBOL = {"create": "+", "patch": "~", "delete": "-"}
_COLOUR = {"create": "green", "patch": "yellow", "delete": "red"}


def render(
    document: PlanDocument, output_format: str, *, color: bool = False, forced: bool = False
) -> str:
    """The plan in `output_format`. `forced`: apply runs with --force, so the warning that
    apply would refuse the plan without it does not apply and is not printed."""
    if output_format == "json":
        return document.to_json()
    if output_format == "markdown":
        from reconciler.render_markdown import render_markdown

        return render_markdown(document, forced=forced)
    if output_format == "github":
        from reconciler.render_github import render_github

        return render_github(document, forced=forced)
    return render_text(document, color=color, forced=forced)


def targets_line(document: PlanDocument) -> str | None:
    """`Targets: app:…, /home` when the plan was restricted with --target."""
    if not document.targets:
        return None
    return "Targets: " + ", ".join(plain(target) for target in document.targets)


def kept_line(document: PlanDocument) -> str | None:
    """What was not deleted on purpose: kept by `ignore`, left out by `prune: false`."""
    parts = []
    if document.ignored:
        noun = "snapshot" if document.ignored == 1 else "snapshots"
        parts.append(f"{document.ignored} {noun} kept by ignore")
    if document.unpruned:
        noun = "delete" if document.unpruned == 1 else "deletes"
        parts.append(f"{document.unpruned} {noun} left out (prune: false)")
    return "Not deleted: " + ", ".join(parts) + "." if parts else None


def shown_operations(document: PlanDocument) -> list[Operation]:
    """The operations as people review them: the delete half of a replace is part of its
    replace, not a line of its own."""
    return [op for op in document.plan.operations if op.kind != "replaced"]


def value_text(value: FieldValue | None) -> str:
    """A field value as JSON would write it: strings quoted, booleans lower-case."""
    return "(unset)" if value is None else json.dumps(value, ensure_ascii=False)


def operation_title(
    op: Operation, verb: str | None = None, names: Mapping[str, str] | None = None
) -> str:
    """`create /checkout desktop "hero" (application …)`, with `verb` in place of the phase;
    a duplicate's delete says `delete duplicate`; an application with an alias in `names`
    (id -> alias) is named by it."""
    key = op.key
    name = json.dumps(key.snapshot_name, ensure_ascii=False)
    shown = verb or ("delete duplicate" if op.kind == "duplicate" else op.phase)
    title = f"{shown} {plain(key.view_name)} {plain(key.device_type)} {name}"
    application = (names or {}).get(key.application_id, key.application_id)
    return f"{title} (application {plain(application)})"


def printable(text: str) -> str:
    """`text` with each character that does not print (escape sequences, line breaks)
    written as an escape: a message quoting a server stays one inert line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else json.dumps(char)[1:-1] for char in text)


def plain(text: str) -> str:
    """`text` as is when every character prints, else JSON-quoted: a name from a server
    cannot move the cursor, clear the terminal or fake a line."""
    if text.isprintable():
        return text
    return json.dumps(text, ensure_ascii=False)


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


#: Characters that break a line or hide text: collapsed to a space / dropped in markdown.
_LINE_BREAKS = re.compile(r"[\s\u0085\u2028\u2029]+")
_BACKTICKS = re.compile(r"`+")


def md_code(text: str, *, in_table: bool = True) -> str:
    """`text` as one inert markdown code span, whatever it holds: inside a code span
    markdown forms no HTML, link, image, mention or emphasis. The fence is longer than any
    run of backticks inside; `|` is escaped in a table (GFM splits cells first)."""
    flat = _LINE_BREAKS.sub(" ", text)
    flat = "".join(
        char for char in flat if unicodedata.category(char) not in ("Cc", "Cf", "Co", "Cs")
    )
    if in_table:
        flat = flat.replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    # A space pads content that starts or ends with a backtick or a space (CommonMark strips
    # one space from each end when both are there).
    if not flat or flat[0] in "` " or flat[-1] in "` ":
        flat = f" {flat} "
    return f"{fence}{flat}{fence}"
