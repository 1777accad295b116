"""apply's line per operation, like Terraform's: sign, verb, what, [id=…], how long it took,
and why when it failed or was skipped; coloured only when asked."""

from __future__ import annotations

import re

import pytest

from reconciler.apply.executor import OperationResult
from reconciler.core.model import SnapshotKey
from reconciler.plan.operations import Create, Delete, FieldChange, Patch
from reconciler.render.apply import operation_line

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
HERO = SnapshotKey(APP, "/home", "desktop", "Hero")
CREATE = Create(HERO, {"event_id": "e", "start": 1})
PATCH = Patch(HERO, "id-1", (FieldChange("start", 1500, 1600),))
DELETE = Delete(HERO, "id-2")
DUPLICATE = Delete(HERO, "id-3", "duplicate")


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (
            OperationResult(CREATE, "done", "", "id-9", 0.31),
            '+ created /home desktop "Hero" (application storefront) [id=id-9] 0.3s',
        ),
        (
            OperationResult(PATCH, "done", "", "id-1", 0.04),
            '~ patched /home desktop "Hero" (application storefront) [id=id-1] 0.0s',
        ),
        (
            OperationResult(DELETE, "done", "already deleted", "id-2", 1.25),
            '- deleted /home desktop "Hero" (application storefront) [id=id-2] 1.2s: '
            "already deleted",
        ),
        (
            OperationResult(DUPLICATE, "done", "", "id-3", 0.1),
            '- deleted duplicate /home desktop "Hero" (application storefront) [id=id-3] 0.1s',
        ),
        (
            OperationResult(PATCH, "failed", "PATCH /x: 400 Bad Request: no", None, 2.0),
            '! failed patch /home desktop "Hero" (application storefront) 2.0s: '
            "PATCH /x: 400 Bad Request: no",
        ),
        (
            OperationResult(DELETE, "skipped", "skipped: a create or patch failed"),
            '= skipped delete /home desktop "Hero" (application storefront): '
            "a create or patch failed",
        ),
    ],
)
def test_each_outcome_has_its_line(result: OperationResult, line: str) -> None:
    assert operation_line(result, {APP: "storefront"}) == line


def test_without_an_alias_the_application_is_its_id() -> None:
    line = operation_line(OperationResult(CREATE, "done", "", "id-9", 0.3))
    assert line == f'+ created /home desktop "Hero" (application {APP}) [id=id-9] 0.3s'


def test_colour_only_when_asked_and_the_words_stay_the_same() -> None:
    result = OperationResult(PATCH, "failed", "refused", None, 2.0)
    plain = operation_line(result)
    coloured = operation_line(result, color=True)
    assert "\x1b" not in plain
    assert coloured.startswith("\x1b[31m\x1b[1m!\x1b[0m ")  # a failure's sign is red
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
