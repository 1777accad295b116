"""The value types shared by the pipeline: how each is written for people, how they sort,
and timestamps compared as instants, never as text."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime

import pytest

from reconciler.core.model import (
    Problem,
    RemoteSnapshot,
    RemovedView,
    SnapshotKey,
    SourcePosition,
    ViewError,
    ViewScope,
    parse_timestamp,
)
from support.factories import APP, have, key


def test_a_key_is_written_view_device_and_quoted_name() -> None:
    hero = SnapshotKey(APP, "/checkout", "mobile", "Hero 'main'")
    assert str(hero) == "/checkout [mobile] \"Hero 'main'\""
    assert hero.as_dict() == {
        "application_id": APP,
        "view_name": "/checkout",
        "device_type": "mobile",
        "snapshot_name": "Hero 'main'",
    }
    assert list(hero.as_dict()) == ["application_id", "view_name", "device_type", "snapshot_name"]
    assert hero.scope == ViewScope(APP, "/checkout")
    assert str(hero.scope) == f"{APP} /checkout"


def test_keys_sort_by_application_view_device_then_name() -> None:
    keys = [
        SnapshotKey("b", "/a", "desktop", "a"),
        SnapshotKey("a", "/b", "desktop", "a"),
        SnapshotKey("a", "/a", "mobile", "a"),
        SnapshotKey("a", "/a", "desktop", "b"),
        SnapshotKey("a", "/a", "desktop", "a"),
    ]
    assert sorted(keys) == keys[::-1]


def test_values_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        key("hero").snapshot_name = "other"  # type: ignore[misc]


def test_positions_and_problems_are_written_as_editors_read_them() -> None:
    assert str(SourcePosition("snapshots/a.yaml", 3, 7)) == "snapshots/a.yaml:3:7"
    problem = Problem("snapshots/a.yaml", 3, 7, "unknown field 'colour'")
    assert str(problem) == "snapshots/a.yaml:3:7: unknown field 'colour'"


def test_problems_sort_by_file_line_column_then_message() -> None:
    problems = [
        Problem("b.yaml", 1, 1, "a"),
        Problem("a.yaml", 10, 1, "a"),
        Problem("a.yaml", 2, 5, "a"),
        Problem("a.yaml", 2, 1, "b"),
        Problem("a.yaml", 2, 1, "a"),
    ]
    assert sorted(problems) == problems[::-1]


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-03-04T05:06:07Z", datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ("2026-03-04T05:06:07.5Z", datetime(2026, 3, 4, 5, 6, 7, 500_000, tzinfo=UTC)),
        ("2026-03-04T05:06:07.123456z", datetime(2026, 3, 4, 5, 6, 7, 123_456, tzinfo=UTC)),
        ("2026-03-04 05:06:07.25Z", datetime(2026, 3, 4, 5, 6, 7, 250_000, tzinfo=UTC)),
        ("2026-03-04t05:06:07+02:00", datetime(2026, 3, 4, 3, 6, 7, tzinfo=UTC)),
        ("2026-03-04T05:06:07-0530", datetime(2026, 3, 4, 10, 36, 7, tzinfo=UTC)),
        ("2026-03-04T05:06:07+23:59", datetime(2026, 3, 3, 5, 7, 7, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_as_the_instant_they_name(text: str, instant: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == instant
    assert parsed is not None
    assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-03-04T05:06:07",  # no zone: not an instant
        "2026-03-04T05:06:07.1234567Z",  # more than microseconds
        "2026-03-04T05:06:07.Z",
        "2026-02-30T00:00:00Z",  # no such day
        "2026-03-04T24:00:00Z",
        "2026-03-04T05:06:07+24:00",  # no such offset
        " 2026-03-04T05:06:07Z",
        "2026-03-04T05:06:07Z\n",
        "\uff12\uff10\uff12\uff16-03-04T05:06:07Z",  # full-width digits
        "2026-03-04T05:06:07.\u0661Z",  # an Arabic-Indic digit in the fraction
    ],
)
def test_anything_else_is_not_a_timestamp(text: str) -> None:
    assert parse_timestamp(text) is None


def test_a_timestamp_that_is_not_text_is_none() -> None:
    assert parse_timestamp(1700000000) is None  # type: ignore[arg-type]


def test_instants_order_where_text_would_not() -> None:
    half = parse_timestamp("2026-01-01T00:00:00.5Z")
    quarter = parse_timestamp("2026-01-01T00:00:00.25Z")
    assert half is not None
    assert quarter is not None
    assert quarter < half  # as text, ".5Z" < ".25Z" would say the opposite
    assert parse_timestamp("2026-01-01T01:00:00+01:00") == parse_timestamp("2026-01-01T00:00:00Z")


def test_a_listed_snapshot_knows_when_it_was_created() -> None:
    assert have(key("hero"), "id", created_at="2026-01-01T00:00:00Z").created == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    assert have(key("hero"), "id", created_at="").created is None


def test_a_view_error_names_the_view_and_its_application() -> None:
    error = ViewError(ViewScope(APP, "/checkout"), "listing failed: 503")
    assert str(error) == f"view /checkout of application {APP}: listing failed: 503"


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (None, "it could not be listed; its snapshots stay in Datadog"),
        (0, "0 snapshots stay in Datadog"),
        (1, "1 snapshot stays in Datadog"),
        (2, "2 snapshots stay in Datadog"),
    ],
)
def test_a_removed_view_says_what_stays_and_how_to_delete_it(count: int | None, said: str) -> None:
    removed = RemovedView(ViewScope(APP, "/old"), count)
    assert removed.message == (
        f"view /old of application {APP} is no longer managed: {said}; declare `/old: []` to "
        "delete them"
    )


def test_copies_order_by_the_instant_they_were_created_undated_last() -> None:
    def copy(snapshot_id: str, created_at: str) -> RemoteSnapshot:
        return RemoteSnapshot(snapshot_id, key("hero"), {}, created_at)

    copies = [
        copy("a", ""),
        copy("b", "2026-01-01T00:00:00.5Z"),
        copy("c", "2026-01-01T00:00:00Z"),  # "Z" sorts after "." as text
        copy("d", "2026-01-01T01:00:00+02:00"),  # an hour before c, as an instant
    ]
    assert [c.id for c in sorted(copies, key=lambda c: c.age_order)] == ["d", "c", "b", "a"]
