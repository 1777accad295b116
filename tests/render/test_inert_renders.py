"""Every renderer makes what it places inert by itself, before any sink (issue 22): a plan,
validation problems and apply's lines whose every name, id, value, path and message holds
workflow commands, `##[`, CR, LF, ESC/OSC, C1 and bidi characters render, in every format,
to lines that print, hold no `##[` and begin no workflow command (but the github format's
own annotations, at the right file and line); JSON still reads back as the very values.

The sinks (`core.output`) check again; these tests call the renderers alone, so that each
renderer's own escaping is what they show.
"""

from __future__ import annotations

import json
import os

import pytest

from reconciler.apply.executor import ApplyResult, OperationResult
from reconciler.apply.run import Outcome
from reconciler.core.model import (
    ListedView,
    Problem,
    RemovedView,
    SnapshotKey,
    SourcePosition,
    ViewError,
    ViewScope,
)
from reconciler.plan.operations import Create, Delete, FieldChange, Patch, Replacement
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import Plan
from reconciler.render import apply as apply_render
from reconciler.render.common import md_code
from reconciler.render.formats import PLAN_FORMATS, render, render_all
from reconciler.render.problems import PROBLEM_FORMATS, Summary
from reconciler.render.problems import render as render_problems
from support.factories import APP
from support.hostile_names import (
    EVENT,
    EXACT_FILE,
    FOLDER,
    GONE,
    KEEP,
    NEW,
    OLD,
    OTHER_EVENT,
    RENAMED,
    VIEW,
    assert_inert,
    commands_in,
    hostile,
    printed,
)

PATH = os.path.join(FOLDER, EXACT_FILE)  # GitHub carries it exactly
WHERE = SourcePosition(PATH, 7, 3)
SCOPE = ViewScope(APP, VIEW)
ID = hostile("id-")
FINGERPRINT = "sha256:" + "0" * 64


def hostile_document(environment: str | None = None) -> PlanDocument:
    """A plan holding hostile text in every field a renderer shows."""
    key = SnapshotKey(APP, VIEW, "desktop", KEEP)
    operations = (
        Create(SnapshotKey(APP, VIEW, "desktop", NEW), {"event_id": EVENT, "start": 1}, WHERE),
        Create(
            SnapshotKey(APP, VIEW, "desktop", RENAMED),
            {"event_id": EVENT},
            WHERE,
            Replacement(ID, (FieldChange("snapshot_name", OLD, RENAMED),)),
        ),
        Patch(key, ID, (FieldChange("event_id", EVENT, OTHER_EVENT),), {"event_id": OTHER_EVENT}),
        Delete(SnapshotKey(APP, VIEW, "desktop", GONE), ID),
        Delete(key, ID, "duplicate"),
    )
    return PlanDocument(
        Plan(operations, (hostile("unsafe "),), (SCOPE,)),
        hostile("http://127.0.0.1:9/"),
        None,
        FINGERPRINT,
        (ListedView(SCOPE, 3, FINGERPRINT),),
        errors=(ViewError(ViewScope(APP, hostile("/failed")), hostile("server says ")),),
        targets=(hostile("view:"),),
        warnings=(hostile("warning "),),
        removed_views=(RemovedView(ViewScope(APP, hostile("/removed")), 2, WHERE),),
        sources={SCOPE: WHERE},
        environment=environment,
        applications={APP: hostile("alias-")},
    )


@pytest.mark.parametrize("output_format", list(PLAN_FORMATS))
def test_a_hostile_plan_renders_inert(output_format: str) -> None:
    rendered = render(hostile_document(), output_format, color=True)
    if output_format == "text":  # its own colour codes aside
        rendered = rendered.replace("\x1b[0m", "").replace("\x1b[1m", "")
        for code in ("31", "32", "33", "35"):
            rendered = rendered.replace(f"\x1b[{code}m", "")
    annotations = commands_in(rendered)
    if output_format != "github":
        assert annotations == []
        return
    # Each annotation at the view key or the replacing snapshot: the file, exactly.
    assert {(a.get("file"), a.get("line")) for a in annotations} == {(PATH, "7"), (None, None)}


def test_text_shows_each_hostile_name_with_its_escapes() -> None:
    text = render(hostile_document(), "text")
    assert f'- delete "{printed(VIEW)}" desktop "{printed(GONE)}"' in text
    assert f'(application "{printed(hostile("alias-"))}") id="{printed(ID)}"' in text
    assert f'    event_id : "{printed(EVENT)}" -> "{printed(OTHER_EVENT)}"' in text
    assert f"Warning: {printed(hostile('warning '))}" in text


def test_a_hostile_plan_in_json_reads_back_as_its_values() -> None:
    document = json.loads(render(hostile_document(), "json"))
    assert {op["snapshot_name"] for op in document["operations"]} == {NEW, RENAMED, KEEP, GONE}
    assert document["warnings"] == [hostile("warning ")]


@pytest.mark.parametrize("output_format", list(PLAN_FORMATS))
def test_hostile_environments_render_inert_in_sections(output_format: str) -> None:
    documents = [hostile_document(hostile("env-")), hostile_document("prod")]
    rendered = render_all(documents, output_format)
    annotations = commands_in(rendered)
    assert (output_format == "github") == bool(annotations)
    if output_format == "json":
        environments = json.loads(rendered)["environments"]
        assert [e["environment"] for e in environments] == [hostile("env-"), "prod"]


PROBLEMS = [
    Problem(PATH, 3, 5, f"duplicate snapshot {VIEW} [desktop] {KEEP!r}"),
    Problem(hostile("b/"), 1, 1, hostile("message ")),
]


@pytest.mark.parametrize("output_format", list(PROBLEM_FORMATS))
def test_hostile_problems_render_inert(output_format: str) -> None:
    rendered = render_problems(PROBLEMS, output_format, Summary(1, 1, 1, PATH))
    annotations = commands_in(rendered)
    if output_format == "github":
        assert [(a["file"], a["line"], a["col"]) for a in annotations] == [
            (PATH, "3", "5"),  # the right file, exactly: GitHub decodes %0A, %0D, %3A
            (printed(hostile("b/")).replace("\\r", "\r").replace("\\n", "\n"), "1", "1"),
        ]
        return
    assert annotations == []
    if output_format == "text":
        assert rendered.splitlines()[0].startswith(
            "./::add-mask::Plan/a,b%:c\\r\\n::error::d.yaml:3:5: "
        )
        assert len(rendered.splitlines()) == len(PROBLEMS)
    else:
        assert json.loads(rendered)["problems"][0]["path"] == PATH


def test_a_hostile_summary_renders_inert() -> None:
    for output_format in PROBLEM_FORMATS:
        assert_inert(render_problems([], output_format, Summary(1, 1, 1, PATH)))


def test_apply_lines_of_a_hostile_server_render_inert() -> None:
    document = hostile_document()
    results = tuple(
        OperationResult(op, "failed", hostile("server says "), ID)
        for op in document.plan.operations
    )
    lines = [apply_render.operation_line(result, document.applications) for result in results]
    residual = PlanDocument(Plan(()), "http://127.0.0.1:9", None, None, (), errors=document.errors)
    lines += apply_render.convergence_lines(Outcome(ApplyResult(results), residual))
    unconverged = Outcome(ApplyResult(results), document)
    lines += apply_render.convergence_lines(unconverged, document.applications)
    lines.append(apply_render.environment_heading(hostile("env-"), hostile("http://x/")))
    for line in lines:
        assert_inert(line)
        assert "\n" not in line
    assert lines[0].endswith(f' [id="{printed(ID)}"]: {printed(hostile("server says "))}')


@pytest.mark.parametrize("text", [hostile("x"), "##[error]", "a\r\nb", "\u202e\x9b\x1b[2J"])
def test_markdown_code_spans_show_hostile_characters_escaped(text: str) -> None:
    span = md_code(text)
    assert_inert(span)
    assert "\n" not in span
    assert span == f"`{printed(text)}`".replace("|", "\\|")
