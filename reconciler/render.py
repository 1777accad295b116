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
    """`create /checkout desktop "hero" (application …)`, with `verb` in place of the phase;
    a duplicate's delete says `delete duplicate`."""
    key = op.key
    name = json.dumps(key.snapshot_name, ensure_ascii=False)
    shown = verb or ("delete duplicate" if op.kind == "duplicate" else op.phase)
    title = f"{shown} {plain(key.view_name)} {plain(key.device_type)} {name}"
    return f"{title} (application {plain(key.application_id)})"


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


def render_text(document: PlanDocument, *, color: bool = False) -> str:
    def style(text: str, colour: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=colour, bold=bold) if color else text

    lines: list[str] = []
    for op in document.plan.operations:
        symbol = style(_SYMBOL[op.phase], _COLOUR[op.phase], bold=True)
        suffix = "" if isinstance(op, Create) else f" id={plain(op.snapshot_id)}"
        lines.append(f"{symbol} {operation_title(op)}{suffix}")
        lines.extend(f"    {line}" for line in _detail_lines(op))
    if lines:
        lines.append("")
    for error in document.errors:
        lines.append(style(f"Error: {printable(str(error))}", "red", bold=True))
    for warning in document.warnings:
        lines.append(style(f"Warning: {printable(warning)}", "yellow", bold=True))
    for reason in document.plan.unsafe_reasons:
        lines.append(style(f"Warning: unsafe plan: {printable(reason)}", "yellow", bold=True))
    if not document.plan.is_safe:
        lines.append(
            style("Warning: apply will refuse this plan without --force.", "yellow", bold=True)
        )
    lines.append(style(document.summary(), bold=True))
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


def _markdown_details(op: Operation) -> str:
    if isinstance(op, Patch):
        return "<br>".join(
            f"{md_code(c.name)}: {md_code(value_text(c.old))} → {md_code(value_text(c.new))}"
            for c in op.changes
        )
    if isinstance(op, Delete):
        reason = "duplicate, a copy is kept" if op.kind == "duplicate" else op.reason
        return f"{reason} (id {md_code(op.snapshot_id)})"
    return "new"


def render_markdown(document: PlanDocument, limit: int = MARKDOWN_LIMIT) -> str:
    plan = document.plan
    head: list[str] = ["### reconciler plan", "", f"**{document.summary()}**", ""]
    for error in document.errors:
        head.append(f"> :x: **Error:** {md_code(str(error), in_table=False)}")
    for warning in document.warnings:
        head.append(f"> :warning: **Warning:** {md_code(warning, in_table=False)}")
    for reason in plan.unsafe_reasons:
        head.append(f"> :warning: **Unsafe plan:** {md_code(reason, in_table=False)}")
    if not plan.is_safe:
        head.append("> :warning: `apply` will refuse this plan without `--force`.")
    if document.errors or document.warnings or plan.unsafe_reasons:
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
        f"| {symbol} | {op.kind} | {md_code(key.view_name)} | {md_code(key.device_type)} | "
        f"{md_code(key.snapshot_name)} | {_markdown_details(op)} | "
        f"{md_code(key.application_id)} |"
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
