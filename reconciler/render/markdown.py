"""A plan as a pull-request comment (GitHub-flavoured markdown), read at a glance.

The head (`_head`): the title, the summary, where it was planned (site or API host,
environment, commit), then the errors grouped by application and reason, and the warnings,
each a list item of its own. Then per application a per-view count table and its
operations: creates with their fields, replaces and patches with each field's
`old → new` inline (collapsed in a `<details>` only past `COLLAPSE_AFTER` characters).

Inert: every name, value and message from a file or a server is a code span
(`render.common.md_code`); the commit is shown only when it is hexadecimal. Under
`MARKDOWN_LIMIT` characters whatever the plan holds: the head is always shown (its errors
and warnings within half the limit), then what `_kept_first` keeps of the count tables and
the operation rows, and a line says what was left out.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit

from reconciler.core import resource
from reconciler.core.model import ViewError
from reconciler.plan.attribution import LABELS
from reconciler.plan.operations import Create, Delete, FieldChange, Operation, Patch
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

#: A row's field changes longer than this (markdown characters) are collapsed in a
#: `<details>`. A patch of all five mutable fields with UUID-long ids and a millisecond
#: start is about 400 characters: every patch of ordinary values is shown inline; only
#: values hundreds of characters long (which would stretch one row over a screen) fold.
COLLAPSE_AFTER = 600
#: One line of grouped errors lists views up to about this many characters, then a count.
_VIEWS_PER_LINE = 600
#: What a commit may be to be shown: a full SHA-1 or SHA-256, nothing else.
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def render_markdown(
    document: PlanDocument,
    limit: int = MARKDOWN_LIMIT,
    *,
    forced: bool = False,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The comment; `environ` (default: this process's) gives GITHUB_SHA, the commit shown
    when the plan records none."""
    head = _head(document, forced, limit, os.environ if environ is None else environ)
    operations = shown_operations(document)
    if not operations:
        return _joined(head)

    by_app: dict[str, list[Operation]] = defaultdict(list)
    for op in operations:
        by_app[op.key.application_id].append(op)
    rows = {id(op): _row(op, _attribution_marker(document, op)) for op in operations}
    counts = _view_counts(operations)
    # The notes are reserved at their longest: what they count can only be less.
    reserved = _cost([_note(Counter(_kind(op) for op in operations)), _views_note(len(counts))])
    kept = _kept_first(document, operations, counts, rows, limit - _cost(head) - reserved)

    out = list(head)
    for app, ops in by_app.items():
        if app not in kept.applications:
            continue
        views = sorted(view for a, view in kept.views if a == app)
        out += _app_head(app, document.applications.get(app))
        out += [_count_row(view, counts[app, view]) for view in views]
        shown_rows = [rows[id(op)] for op in ops if id(op) in kept.operations]
        if shown_rows:
            out += ["", *_OPS_HEAD, *shown_rows]
        out.append("")
    left_views = len(counts) - len(kept.views)
    if left_views:
        out.append(_views_note(left_views))
    left = Counter(_kind(op) for op in operations if id(op) not in kept.operations)
    if left:
        out.append(_note(left))
    return _joined(out)


def _joined(lines: Sequence[str]) -> str:
    return "\n".join(lines).rstrip("\n") + "\n"


def _cost(lines: Sequence[str]) -> int:
    """The characters `lines` take in the comment, a line break after each: `_joined` never
    makes more."""
    return sum(len(line) + 1 for line in lines)


@dataclass(frozen=True, slots=True)
class _Kept:
    """What of the operations part fits: applications, (application, view) count rows and
    operation rows (by `id`)."""

    applications: set[str]
    views: set[tuple[str, str]]
    operations: set[int]


def _kept_first(
    document: PlanDocument,
    operations: Sequence[Operation],
    counts: Mapping[tuple[str, str], Counter[str]],
    rows: Mapping[int, str],
    budget: int,
) -> _Kept:
    """The one place deciding what is kept when the plan does not fit in `budget`
    characters (the head is already counted: it always comes first). The count tables take
    at most half, the views with the most operations first (with their application's
    heading); then operation rows of the views shown, deletes and replaces first, then
    patches, then creates, in what is left."""
    kept = _Kept(set(), set(), set())
    order = {app: index for index, app in enumerate(dict.fromkeys(app for app, _ in counts))}
    used = 0
    for app, view in sorted(
        counts, key=lambda key: (-sum(counts[key].values()), order[key[0]], key[1])
    ):
        cost = _cost([_count_row(view, counts[app, view])])
        if app not in kept.applications:
            cost += _cost([*_app_head(app, document.applications.get(app)), ""])
        if used + cost > budget // 2:
            break
        kept.applications.add(app)
        kept.views.add((app, view))
        used += cost
    with_rows: set[str] = set()
    for op in sorted(operations, key=lambda o: _PRIORITY[_kind(o)]):
        app = op.key.application_id
        if (app, op.key.view_name) not in kept.views:
            continue
        cost = _cost([rows[id(op)]]) + (0 if app in with_rows else _cost(["", *_OPS_HEAD]))
        if used + cost > budget:
            break
        with_rows.add(app)
        kept.operations.add(id(op))
        used += cost
    return kept


# -- the head ----------------------------------------------------------------------------


def _head(
    document: PlanDocument, forced: bool, limit: int, environ: Mapping[str, str]
) -> list[str]:
    """Title, summary, where and at which commit, errors, warnings, what was kept."""
    title = "### reconciler plan"
    if document.environment is not None:
        title += f": environment {md_code(document.environment, in_table=False)}"
    head = [
        title,
        "",
        f"**{document.summary()}**",
        "",
        _planned_against(document, environ),
        "",
        *_attribution_head(document),
    ]
    if document.targets:
        head += [f"Targets: {_listed(document.targets)}", ""]
    notes = _error_lines(document) + _warning_lines(document, forced)
    if notes:
        head += [*_fitting(notes, limit // 2), ""]
    kept = kept_line(document)
    if kept:
        head += [kept.replace("ignore", "`ignore`").replace("prune: false", "`prune: false`"), ""]
    return head


def _planned_against(document: PlanDocument, environ: Mapping[str, str]) -> str:
    """`Planned against site `datadoghq.eu` at commit 0123…`: the site, or the API's host
    (never its path or query, where a proxy URL could carry a secret)."""
    if document.site is not None:
        target = f"site {md_code(document.site, in_table=False)}"
    else:
        host = urlsplit(document.target_url).netloc.rpartition("@")[2]
        target = f"API host {md_code(host, in_table=False)}"
    commit, source = review_commit(document, environ)
    if commit is None:
        return f"Planned against {target}, commit unknown."
    # A hexadecimal SHA cannot form markup; left bare, GitHub links it to the commit.
    via = "" if source == "git" else " (from GITHUB_SHA)"
    return f"Planned against {target} at commit {commit}{via}."


def review_commit(
    document: PlanDocument, environ: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """The commit the plan was made at, and where it came from: the working directory's
    HEAD as the plan recorded it (the files planned are that commit's), else GITHUB_SHA (a
    checkout without `.git`); either only when it is a full hexadecimal SHA."""
    if document.git_commit is not None and _COMMIT.fullmatch(document.git_commit):
        return document.git_commit, "git"
    from_ci = environ.get("GITHUB_SHA", "")
    if _COMMIT.fullmatch(from_ci):
        return from_ci, "GITHUB_SHA"
    return None, None


#: A line of the head's notes, and how many errors or warnings it tells (0: a heading).
_Note = tuple[str, int]


def _error_lines(document: PlanDocument) -> list[_Note]:
    """The views that could not be listed, grouped by application, then by reason: fourteen
    views failing alike read as one line."""
    if not document.errors:
        return []
    count = len(document.errors)
    noun = "view" if count == 1 else "views"
    lines: list[_Note] = [(f"❌ **{count} {noun} could not be listed** (not planned):", 0)]
    lines.append(("", 0))
    by_app: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for error in sorted(document.errors):
        by_app[error.scope.application_id][view_error_reason(error)].append(error.scope.view_name)
    for app, reasons in by_app.items():
        lines.append((f"- application {_application(app, document.applications)}", 0))
        for reason, views in reasons.items():
            lines.append((f"  - {_views(views)}: {md_code(reason, in_table=False)}", len(views)))
    return lines


def view_error_reason(error: ViewError) -> str:
    """A view error's message without the request line the client puts first (`GET
    /api/v2/…?filter[view_name]=…&page[limit]=1000: 503 …`): the comment names the
    application and the view already."""
    params = resource.list_params(error.scope.application_id, error.scope.view_name, 0)
    del params[resource.PAGE_LIMIT]  # its value varies: matched below
    # As `api.client` writes the request's target: urlencoded, then unquoted.
    query = re.escape(unquote(urlencode(params)))
    request = re.compile(
        rf"GET {re.escape(resource.COLLECTION_PATH)}\?{query}"
        rf"&{re.escape(resource.PAGE_LIMIT)}=\d+"
        rf"(?:&{re.escape(resource.FILTER_DEVICE_TYPE)}=[a-z]+)?: "
    )
    found = request.match(error.message)
    return error.message[found.end() :] if found else error.message


def _application(app: str, names: Mapping[str, str]) -> str:
    alias = names.get(app)
    code = md_code(app, in_table=False)
    return code if alias is None else f"{md_code(alias, in_table=False)} ({code})"


def _views(views: Sequence[str]) -> str:
    """`view `/a`` or `views `/a`, `/b``, as `_listed`."""
    return ("view " if len(views) == 1 else "views ") + _listed(views)


def _listed(names: Sequence[str]) -> str:
    """`` `/a`, `/b` ``; past `_VIEWS_PER_LINE` characters, a count of the others."""
    shown: list[str] = []
    used = 0
    for name in names:
        code = md_code(name, in_table=False)
        if shown and used + len(code) > _VIEWS_PER_LINE:
            break
        shown.append(code)
        used += len(code) + 2
    text = ", ".join(shown)
    if len(shown) < len(names):
        text += f" and {len(names) - len(shown)} more"
    return text


def _warning_lines(document: PlanDocument, forced: bool) -> list[_Note]:
    """Each warning its own list item: the server's, views no longer managed, the safety
    checks', and whether apply would refuse the plan."""
    items = [md_code(warning, in_table=False) for warning in document.warnings]
    items += [
        f"**No longer managed:** {md_code(removed.message, in_table=False)}"
        for removed in document.removed_views
    ]
    plan = document.plan
    items += [
        f"**Unsafe plan:** {md_code(reason, in_table=False)}" for reason in plan.unsafe_reasons
    ]
    if not plan.is_safe and not forced:
        items.append("`apply` will refuse this plan without `--force`.")
    if not items:
        return []
    heading: list[_Note] = [("", 0)] if document.errors else []
    heading += [("⚠️ **Warnings:**", 0), ("", 0)]
    return heading + [(f"- {item}", 1) for item in items]


def _fitting(notes: list[_Note], budget: int) -> list[str]:
    """The lines of errors and warnings that fit in `budget` characters, in order, and a
    line counting the errors and warnings of the others: thousands of failed views must not
    push the comment over the limit."""
    kept: list[str] = []
    used = 0
    for index, (line, _) in enumerate(notes):
        if used + len(line) + 1 > budget:
            left = sum(told for _, told in notes[index:])
            return [*kept, "", f"_…{left} more errors and warnings not shown._"]
        kept.append(line)
        used += len(line) + 1
    return kept


# -- the operations ----------------------------------------------------------------------


def _kind(op: Operation) -> str:
    return op.kind


def _view_counts(operations: Sequence[Operation]) -> dict[tuple[str, str], Counter[str]]:
    """(application, view) -> how many operations of each kind."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for op in operations:
        counts[op.key.application_id, op.key.view_name][_kind(op)] += 1
    return counts


def _app_head(app: str, alias: str | None = None) -> list[str]:
    """An application's heading and the head of its per-view count table."""
    name = md_code(app, in_table=False)
    if alias is not None:
        name = f"{md_code(alias, in_table=False)} ({name})"
    return [
        f"#### Application {name}",
        "",
        "| view | " + " | ".join(_COUNTED) + " |",
        "|---|" + "---:|" * len(_COUNTED),
    ]


def _count_row(view: str, counts: Counter[str]) -> str:
    cells = " | ".join(str(counts[kind]) for kind in _COUNTED)
    return f"| {md_code(view)} | {cells} |"


def _row(op: Operation, marker: tuple[str, str] = ("", "")) -> str:
    """One operation's table row: the one place a row is made. `marker`: the attribution's
    text after the action and after the details."""
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


def _changes(changes: Sequence[FieldChange]) -> str:
    """Each change `name`: `old` → `new`, inline; past `COLLAPSE_AFTER` characters in a
    `<details>` whose summary names the fields."""
    inline = "<br>".join(
        f"{md_code(c.name)}: {md_code(value_text(c.old))} → {md_code(value_text(c.new))}"
        for c in changes
    )
    if len(inline) <= COLLAPSE_AFTER:
        return inline
    names = ", ".join(md_code(c.name) for c in changes)
    return f"<details><summary>changed: {names}</summary>{inline}</details>"


def _details(op: Operation) -> str:
    if isinstance(op, Create):
        if op.replaces is None:
            return _fields(op)
        return (
            f"{_changes(op.replaces.changes)}<br>created first, then id "
            f"{md_code(op.replaces.snapshot_id)} is deleted"
            f"<details><summary>fields</summary>{_fields(op)}</details>"
        )
    if isinstance(op, Patch):
        return _changes(op.changes)
    assert isinstance(op, Delete)
    reason = "duplicate, a copy is kept" if op.kind == "duplicate" else op.reason
    return f"{reason} (id {md_code(op.snapshot_id)})"


def _views_note(left: int) -> str:
    noun = "view" if left == 1 else "views"
    return (
        f"_…{left} more {noun} not shown, nor their operations: the comment would pass "
        "GitHub's size limit._"
    )


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

_MARKS = {"change": "", "drift": "\u21a9\ufe0f ", "conflict": "\u26a0\ufe0f "}


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
