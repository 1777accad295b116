"""Drift attribution as the renderers place it: hostile text in what the server and a saved
plan give (a creator's handle, `modified_at`, the ref, field names and values) renders inert
in every format; the github format's own annotations sit at the snapshot's line."""

from __future__ import annotations

import dataclasses
import json

import pytest
from render.test_inert_renders import PATH, hostile_document

from reconciler.plan.attribution import Attribution, FieldAttribution, OperationAttribution
from reconciler.plan.attribution import identity as identity_of
from reconciler.plan.planfile import PlanDocument
from reconciler.render.formats import PLAN_FORMATS, render
from support.hostile_names import EVENT, OTHER_EVENT, commands_in, hostile, printed

HANDLE = hostile("handle-")
WHEN = hostile("2026-")
REF = hostile("ref-")


def attributed() -> PlanDocument:
    """The hostile plan, each operation labelled, with hostile attribution text."""
    document = hostile_document()
    create, replace, patch, delete, duplicate = document.plan.operations
    labels = {
        identity_of(create): OperationAttribution("drift", deleted_remotely=True),
        identity_of(replace): OperationAttribution(
            "conflict", (FieldAttribution(hostile("field-"), "conflict", EVENT, 7, True),), WHEN
        ),
        identity_of(patch): OperationAttribution(
            "conflict",
            (FieldAttribution("event_id", "conflict", hostile("base-"), EVENT, OTHER_EVENT),),
            WHEN,
        ),
        identity_of(delete): OperationAttribution("drift", (), WHEN, HANDLE, created_remotely=True),
        identity_of(duplicate): OperationAttribution("change"),
    }
    return dataclasses.replace(document, attribution=Attribution(REF, "a" * 40, labels))


@pytest.mark.parametrize("output_format", list(PLAN_FORMATS))
def test_hostile_attribution_renders_inert(output_format: str) -> None:
    rendered = render(attributed(), output_format)
    annotations = commands_in(rendered)
    if output_format != "github":
        assert annotations == []
        return
    labelled = [a for a in annotations if a.get("title") in ("drift", "conflict")]
    assert [(a["title"], a.get("file"), a.get("line")) for a in labelled] == [
        ("drift", PATH, "7"),  # the create, at its line
        ("conflict", PATH, "7"),  # the replace
        ("conflict", PATH, "7"),  # the patch (it has no line of its own here: its view's)
        ("drift", PATH, "7"),  # the delete: its view's line
    ]


def test_text_shows_the_hostile_handle_and_values_escaped() -> None:
    text = render(attributed(), "text")
    assert f'created in Datadog by "{printed(HANDLE)}"; modified_at "{printed(WHEN)}"' in text
    assert f'[conflict: "{printed(hostile("base-"))}" at base]' in text
    assert f'since the files at base "{printed(REF)}" (aaaaaaaaaaaa):' in text


def test_json_reads_back_as_the_very_values() -> None:
    document = json.loads(render(attributed(), "json"))
    assert document["attribution"]["base"]["ref"] == REF
    labels = [op["attribution"]["label"] for op in document["operations"]]
    assert labels == ["drift", "conflict", "conflict", "drift", "change"]
    assert document["operations"][3]["attribution"]["created_by_handle"] == HANDLE
    assert document["attribution"]["counts"] == {"change": 1, "drift": 2, "conflict": 2}
    assert PlanDocument.from_dict(document).attribution == attributed().attribution
