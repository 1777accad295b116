"""The one listing authority (`remote.RemoteReader`) against servers the emulator cannot be:
repeated ids, sparse items, normalised names and timestamps of any precision (page caps:
test_listing_caps.py). Each test asserts what is planned (or refused) and how many requests
it took."""

from __future__ import annotations

import pytest

from reconciler.core.model import ViewError, ViewScope, parse_timestamp
from reconciler.plan.diff import diff
from reconciler.plan.planner import build_plan
from support.factories import APP, key, want
from support.listingkit import SCOPE, FakeApi, item, listing, only

# -- repeated ids (finding 5: the only copy was deleted) ----------------------------------


def test_the_same_id_twice_with_the_same_content_counts_once() -> None:
    api = FakeApi([item("a", "hero"), item("a", "hero")])
    [result] = listing(api)
    snapshots = only(result)
    assert not isinstance(snapshots, ViewError)
    assert [s.id for s in snapshots] == ["a"]
    # declared once, listed twice: nothing to do (today: a "duplicate" delete of the only copy)
    plan = build_plan(diff([want(key("hero"))], result.snapshots), result.counts)
    assert plan.operations == ()


def test_the_same_id_with_different_content_is_a_view_error_never_a_delete() -> None:
    api = FakeApi([item("a", "hero"), item("a", "hero renamed")])
    [result] = listing(api)
    assert result.snapshots == {}
    [error] = result.errors
    assert "holds id 'a' twice with different content" in error.message
    assert diff([want(key("hero"))], result.snapshots) == []


# -- timestamps (finding 6) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.1Z"),  # as text, ".1Z" < "Z"
        ("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00.500001Z"),
        ("2026-01-01T01:00:00+02:00", "2026-01-01T00:00:00Z"),  # 23:00 UTC the day before
        ("2026-01-01T00:00:00.123456+00:00", "2026-01-01T00:00:01Z"),
    ],
)
def test_the_oldest_copy_is_kept_by_instant_not_by_text(older: str, newer: str) -> None:
    api = FakeApi(
        [
            item("z-older", "hero", start=1, created_at=older),
            item("a-newer", "hero", start=2, created_at=newer),
        ]
    )
    [result] = listing(api)
    ops = diff([want(key("hero"))], result.snapshots)
    assert sorted((op.phase, getattr(op, "snapshot_id", "")) for op in ops) == [
        ("delete", "a-newer"),
        ("patch", "z-older"),
    ]


def test_timestamps_parse_with_0_to_6_fraction_digits_and_reject_the_rest() -> None:
    for digits in range(7):
        fraction = "." + "1" * digits if digits else ""
        assert parse_timestamp(f"2026-03-04T05:06:07{fraction}Z") is not None
    for bad in ("2026-03-04T05:06:07.1234567Z", "2026-03-04T05:06:07", "yesterday", ""):
        assert parse_timestamp(bad) is None


# -- sparse items (issue 12, 2) ------------------------------------------------------------


def test_missing_application_id_is_accepted_because_it_was_filtered_on() -> None:
    [result] = listing(FakeApi([item("a", "hero")], sparse=("application_id",)))
    assert result.errors == ()
    [listed] = result.snapshots[SCOPE]
    assert listed.key == key("hero")
    assert diff([want(key("hero"))], result.snapshots) == []


@pytest.mark.parametrize("snapshot_id", [".", ".."])
def test_an_id_that_is_a_dot_segment_is_a_view_error_never_a_write(snapshot_id: str) -> None:
    """A write to `snapshots/..` would reach the API's parent path, keys and all."""
    [result] = listing(FakeApi([item(snapshot_id, "hero")]))
    assert result.errors[0].message == (
        f"malformed listing: snapshot id {snapshot_id!r} cannot be addressed "
        "(a URL's dot segment); the view is not planned"
    )
    assert result.snapshots.get(SCOPE) is None


@pytest.mark.parametrize("name", ["view_name", "snapshot_name", "device_type"])
def test_a_missing_key_field_is_a_view_error(name: str) -> None:
    [result] = listing(FakeApi([item("a", "hero")], sparse=(name,)))
    assert result.errors[0].message == (
        f"malformed listing: snapshot 'a' has no `{name}`; the view is not planned"
    )


def test_a_missing_required_field_is_not_compared_and_reported_once_per_run() -> None:
    api = FakeApi([item("a", "hero", start=1), item("b", "other")], sparse=("start",))
    first, second = listing(api, repeat=2)
    desired = [want(key("hero"), start=2000), want(key("other"))]
    assert diff(desired, first.snapshots) == []  # never a patch on every run
    assert first.warnings == (
        "the API returned no `start` for 2 snapshots; `start` is not compared for them",
    )
    assert second.warnings == ()


# -- normalised names (issue 12, 4) ------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "rule"),
    [
        ("/checkout/", "letter case"),
        ("/Checkout", "trailing slash"),
        ("/checkout", "letter case and trailing slash"),
    ],
)
def test_a_normalised_view_name_is_reported_never_a_create_loop(stored: str, rule: str) -> None:
    scope = ViewScope(APP, "/Checkout/")

    def normalise(name: str) -> str:
        return name.casefold().rstrip("/")

    api = FakeApi([item("a", "hero", view=stored)], normalise=normalise)
    [result] = listing(api, scopes=[scope])
    assert result.snapshots == {}
    [error] = result.errors
    assert f"the server normalises names ({rule})" in error.message
    assert f"write '{stored}' in the snapshots file" in error.message
    assert diff([want(key("hero", view="/Checkout/"))], result.snapshots) == []
