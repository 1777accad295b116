"""The shape checks of `reconciler doctor`: sparse attributes, unknown extra ones, timestamp
precision and normalised view names, each named as found, in text fit for one line."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from reconciler.core.model import ViewScope
from reconciler.doctor.report import Finding, Report
from reconciler.doctor.shape import check_shape, normalization_rule, printable
from support.doctorkit import doctor, lines_of, managed_view
from support.factories import APP
from support.workspace import Workspace

SCOPE = ViewScope(APP, "/checkout")


def item(**attributes: Any) -> dict[str, Any]:
    """A listed snapshot with every attribute the engine reads, overridden by `attributes`."""
    complete = {
        "application_id": APP,
        "view_name": "/checkout",
        "device_type": "desktop",
        "snapshot_name": "s",
        "event_id": "e",
        "start": 1,
        "is_device_type_selected_by_user": False,
        "created_at": "2026-01-01T00:00:00.123Z",
        "modified_at": "2026-01-01T00:00:00.456Z",
    }
    return {"id": "x", "type": "snapshots", "attributes": complete | attributes}


def findings(*items: dict[str, Any], scope: ViewScope = SCOPE) -> list[Finding]:
    report = Report("t", 1)
    check_shape({scope: list(items)}, report)
    return report.findings


# ---- in one line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain name", "plain name"),
        ("a\x1b[2Jb", "a?[2Jb"),
        ("line\nbreak\r", "line?break?"),
        ("bidi\u202eevil", "bidi?evil"),
        ("c1\x85", "c1?"),
        ("x" * 12, "x" * 12),
        ("x" * 13, "x" * 9 + "..."),
    ],
)
def test_server_text_is_printed_inert_and_bounded(text: str, shown: str) -> None:
    assert printable(text, 12) == shown


# ---- items ---------------------------------------------------------------------------------


def test_no_items_cannot_be_inspected() -> None:
    assert findings() == [
        Finding("unknown", "items", "no snapshots in the managed views to inspect")
    ]


def test_complete_items_hold() -> None:
    assert findings(item(), item()) == [
        Finding("ok", "items", "complete: every attribute on all 2 listed snapshots"),
        Finding("ok", "timestamps", "fixed precision: 3 fraction digits"),
        Finding("ok", "view names", "listed as sent (no normalisation seen)"),
    ]


def test_a_null_attribute_counts_as_missing() -> None:
    [first, *_] = findings(item(start=None), item())
    assert first == Finding(
        "differs", "items", "sparse: the API returned no `start` for 1 of 2 listed snapshots"
    )


def test_unknown_attributes_are_a_note_with_inert_names() -> None:
    found = findings(item(zeta=1, alpha=2, **{"\x1b[31mred": 3}))
    assert Finding(
        "note", "items", "unknown extra attributes (ignored): ?[31mred, alpha, zeta"
    ) in (found)


# ---- timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [("yesterday", "'yesterday'"), (5, "5"), ("2026-01-01 00:00:00", "'2026-01-01 00:00:00'")],
)
def test_a_timestamp_that_is_not_iso_8601_differs(value: object, shown: str) -> None:
    found = findings(item(modified_at=value))
    assert Finding("differs", "timestamps", f"`modified_at` {shown} is not ISO-8601") in found


def test_offsets_and_whole_seconds_are_iso_8601_too() -> None:
    found = findings(
        item(created_at="2026-01-01T00:00:00+01:00", modified_at="2026-01-01T00:00:00-0530")
    )
    assert Finding("ok", "timestamps", "fixed precision: 0 fraction digits") in found


def test_mixed_precision_is_named_with_the_digits_seen() -> None:
    found = findings(item(), item(created_at="2026-01-01T00:00:00.5Z"))
    assert (
        Finding(
            "differs",
            "timestamps",
            "variable precision: 1, 3 fraction digits seen; order by parsed time, not text",
        )
        in found
    )


def test_absent_timestamps_say_nothing_of_precision() -> None:
    found = findings(item(created_at=None, modified_at=None))
    assert [f.topic for f in found] == ["items", "view names"]


# ---- view names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "listed", "rule"),
    [
        ("/Shop", "/shop", "lower case"),
        ("/shop/", "/shop", "trailing slash stripped"),
        ("/a//", "/a", "trailing slash stripped"),
        (unicodedata.normalize("NFD", "/café"), "/café", "Unicode NFC"),
        ("/Shop/Cart/", "/shop/cart", "lower case + trailing slash stripped"),
        (
            unicodedata.normalize("NFD", "/Café/"),
            "/café",
            "Unicode NFC + lower case + trailing slash stripped",
        ),
        ("/shop", "/store", "a rule not recognised"),
    ],
)
def test_the_smallest_rule_that_explains_a_listed_name_is_named(
    sent: str, listed: str, rule: str
) -> None:
    assert normalization_rule(sent, listed) == rule


def test_a_renamed_view_is_named_once_with_its_listed_name_inert() -> None:
    found = findings(item(view_name="/other\x1b[0m"), item(view_name="/else"))
    assert found[-1] == Finding(
        "differs",
        "view names",
        "normalised on write: '/checkout' is listed as '/other\\x1b[0m' (rule seen: a rule "
        "not recognised)",
    )
    assert [f.topic for f in found].count("view names") == 1


# ---- through the command -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "settings", "code", "finding"),
    [
        pytest.param(
            "/checkout",
            {"sparse_items": ["start", "application_id"]},
            1,
            "differs  items: sparse: the API returned no `application_id` for 3 of 3, "
            "no `start` for 3 of 3 listed snapshots",
            id="sparse items",
        ),
        pytest.param(
            "/Shop/Cart/",
            {"normalize_view_names": True},
            1,
            "differs  view names: normalised on write: '/Shop/Cart/' is listed as '/shop/cart' "
            "(rule seen: lower case + trailing slash stripped)",
            id="normalisation, with the rule seen",
        ),
        pytest.param(
            "/checkout",
            {"extra_attributes": True},
            0,
            "note     items: unknown extra attributes (ignored): heatmap_type, is_archived, "
            "metadata, revision",
            id="extra attributes: a note",
        ),
    ],
)
def test_an_open_behaviour_is_named(
    view: str, settings: dict[str, object], code: int, finding: str, ws: Workspace
) -> None:
    ws.configure(**settings)
    managed_view(ws, view)
    result = doctor(ws)
    assert result.code == code, result.out
    assert finding in result.out


def test_variable_precision_is_named(ws: Workspace) -> None:
    managed_view(ws, count=8)
    ws.configure(timestamp_precision="variable")
    result = doctor(ws)
    assert result.code == 1
    [line] = [line for line in lines_of(result, "differs") if "timestamps" in line]
    assert line.startswith("differs  timestamps: variable precision: ")
    assert line.endswith(" fraction digits seen; order by parsed time, not text")
