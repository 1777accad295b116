"""What every rendering of a plan shares: its titles, value texts, the lines about what was
kept or targeted, and markdown's inert code spans.

Every name, id, value and message that comes from a file or a server is made inert by
`core.text` where it is placed. In markdown it is also a code span (`md_code`), where
markdown forms no HTML, link, image, mention, emphasis or heading.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from reconciler.core.model import FieldValue
from reconciler.core.text import inert_json, plain, printable, quoted
from reconciler.plan.attribution import Attribution, FieldAttribution, OperationAttribution
from reconciler.plan.operations import Create, Operation
from reconciler.plan.planfile import PlanDocument

#: GitHub refuses comments over 65,536 characters; leave room for a wrapper.
MARKDOWN_LIMIT = 65_000


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
    """A field value as JSON would write it: strings quoted (inert), booleans lower-case."""
    return "(unset)" if value is None else inert_json(json.dumps(value, ensure_ascii=False))


def operation_title(
    op: Operation, verb: str | None = None, names: Mapping[str, str] | None = None
) -> str:
    """`create /checkout desktop "hero" (application …)`, with `verb` in place of the phase;
    a duplicate's delete says `delete duplicate`; an application with an alias in `names`
    (id -> alias) is named by it."""
    key = op.key
    name = quoted(key.snapshot_name)
    shown = verb or ("delete duplicate" if op.kind == "duplicate" else op.phase)
    title = f"{shown} {plain(key.view_name)} {plain(key.device_type)} {name}"
    application = (names or {}).get(key.application_id, key.application_id)
    return f"{title} (application {plain(application)})"


#: Runs of spaces, written as one (markdown shows them as one in any case).
_SPACES = re.compile(" {2,}")
_BACKTICKS = re.compile(r"`+")


def md_code(text: str, *, in_table: bool = True) -> str:
    """`text` as one inert markdown code span, whatever it holds: inside a code span
    markdown forms no HTML, link, image, mention or emphasis. One line, each character
    that does not print (line breaks, controls, bidi) and `##[` shown by its escape
    (`core.text.printable`: the action prints this file into the job log), runs of spaces
    as one. The fence is longer than any run of backticks inside; `|` is escaped in a
    table (GFM splits cells first)."""
    flat = _SPACES.sub(" ", printable(text))
    if in_table:
        flat = flat.replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    # A space pads content that starts or ends with a backtick or a space (CommonMark strips
    # one space from each end when both are there).
    if not flat or flat[0] in "` " or flat[-1] in "` ":
        flat = f" {flat} "
    return f"{fence}{flat}{fence}"


def base_text(attribution: Attribution) -> str:
    """`main (0123456789ab)`: the ref of `--base` and the commit it named."""
    return f"{plain(attribution.ref)} ({plain(attribution.commit[:12])})"


def field_label(found: FieldAttribution | None) -> str:
    """`[change]`, `[drift]`, or `[conflict: 1700 at base]` (a conflict's third value: the
    line shows Datadog's and the files')."""
    if found is None:
        return ""
    if found.label == "conflict":
        return f"[conflict: {value_text(found.base)} at base]"
    return f"[{found.label}]"


def changed_in_datadog(
    document: PlanDocument,
) -> list[tuple[Operation, OperationAttribution, str]]:
    """The shown operations labelled drift or conflict (`--base`), each with its label and
    title: what applying would undo of an edit made in Datadog."""
    attribution = document.attribution
    if attribution is None:
        return []
    found = []
    for op in shown_operations(document):
        labelled = attribution.of(op)
        if labelled is None or labelled.label == "change":
            continue
        verb = "replace" if isinstance(op, Create) and op.replaces is not None else None
        found.append((op, labelled, operation_title(op, verb, document.applications)))
    return found


def changed_outside(labelled: OperationAttribution) -> str:
    """What Datadog changed since the base, for an operation labelled drift or conflict:
    `created in Datadog by …`, `deleted in Datadog`, or each field `base -> Datadog`; with
    the listing's `modified_at`."""
    parts: list[str] = []
    if labelled.created_remotely:
        parts.append(
            "created in Datadog"
            + (
                ""
                if labelled.created_by_handle is None
                else f" by {plain(labelled.created_by_handle)}"
            )
        )
    elif labelled.deleted_remotely:
        parts.append("deleted in Datadog")
    else:
        edits = [
            f"{plain(f.name)} {value_text(f.base)} -> {value_text(f.remote)}"
            for f in labelled.fields
            if f.label != "change"
        ]
        parts.append("edited in Datadog: " + ", ".join(edits))
    if labelled.modified_at is not None:
        parts.append(f"modified_at {plain(labelled.modified_at)}")
    return "; ".join(parts)


def three_values(labelled: OperationAttribution) -> str:
    """A conflict's fields with the three values: `start 1700 at base, 1650 in Datadog,
    1600 in the files` (a value absent on a side is `(unset)`)."""
    return ", ".join(
        f"{plain(f.name)} {value_text(f.base)} at base, {value_text(f.remote)} in Datadog, "
        f"{value_text(f.desired)} in the files"
        for f in labelled.fields
        if f.label == "conflict"
    )
