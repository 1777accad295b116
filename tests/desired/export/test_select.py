"""Choosing what to export: one view's listed snapshots -> the entries a file declares,
sorted; one entry per natural key (the oldest expressible copy); what a file cannot express
skipped or left unmanaged, each with a warning."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.model import FieldValue, RemoteSnapshot, SnapshotKey, ViewScope
from reconciler.desired.export import (
    FIELD_ORDER,
    ExportedView,
    ExportError,
    check_application_id,
    describe,
    export_view,
    remote_by_view,
)
from support.factories import APP

VIEW = "/checkout"
WHERE = '/checkout desktop "hero"'


def remote(
    snapshot_id: str,
    name: str = "hero",
    device: str = "desktop",
    created_at: str = "2026-01-01T00:00:00.000Z",
    **fields: Any,
) -> RemoteSnapshot:
    # A None in `fields` stands for an attribute listed as null.
    managed: dict[str, FieldValue] = {
        "event_id": "e",
        "start": 1,
        "is_device_type_selected_by_user": False,
    }
    managed.update(fields)
    return RemoteSnapshot(
        id=snapshot_id,
        key=SnapshotKey(APP, VIEW, device, name),
        fields=managed,
        created_at=created_at,
    )


def test_entries_are_sorted_by_name_then_device_with_fields_in_order() -> None:
    view = export_view(
        VIEW,
        [
            remote("1", "b", "mobile", view_id="v", session_id="s"),
            remote("2", "b", "desktop", is_device_type_selected_by_user=True),
            remote("3", "a", "tablet"),
        ],
    )
    assert view.warnings == ()
    assert [list(entry.items()) for entry in view.entries] == [
        [("snapshot_name", "a"), ("device_type", "tablet"), ("event_id", "e"), ("start", 1)],
        [
            ("snapshot_name", "b"),
            ("device_type", "desktop"),
            ("event_id", "e"),
            ("start", 1),
            ("is_device_type_selected_by_user", True),
        ],
        [
            ("snapshot_name", "b"),
            ("device_type", "mobile"),
            ("event_id", "e"),
            ("start", 1),
            ("session_id", "s"),
            ("view_id", "v"),
        ],
    ]
    assert all(list(entry) == [f for f in FIELD_ORDER if f in entry] for entry in view.entries)


def test_of_duplicates_the_oldest_is_exported_and_the_others_named() -> None:
    view = export_view(
        VIEW,
        [
            remote("b-new", created_at="2026-03-01T00:00:00.000Z", start=3),
            remote("c-old", created_at="2026-01-01T00:00:00.000Z", start=1),
            remote("a-old", created_at="2026-01-01T00:00:00.000Z", start=2),  # same time: by id
        ],
    )
    assert [entry["start"] for entry in view.entries] == [2]
    assert view.warnings == (
        f"warning: duplicate remote snapshots {WHERE}: ids a-old, c-old, b-new; exported a-old "
        "(the oldest); plan will delete the others as duplicates",
    )


def test_an_oldest_copy_that_cannot_be_expressed_gives_way_to_the_next() -> None:
    view = export_view(
        VIEW,
        [
            remote("old", created_at="2026-01-01T00:00:00.000Z", event_id=""),
            remote("new", created_at="2026-02-01T00:00:00.000Z", start=9),
        ],
    )
    assert [entry["start"] for entry in view.entries] == [9]
    assert view.warnings[0].startswith(f"warning: skipped {WHERE} (id old): it has no event_id")
    assert view.warnings[1].startswith(f"warning: duplicate remote snapshots {WHERE}: ids old, new")


@pytest.mark.parametrize(
    ("snapshot", "why"),
    [
        (remote("x", name=""), "its snapshot_name is empty"),
        (remote("x", device="watch"), 'device_type "watch" is not one of the allowed'),
        (remote("x", event_id=None), "it has no event_id"),
        (remote("x", event_id=7), "it has no event_id"),
        (remote("x", start=-1), "it has no start that is an integer >= 0"),
        (remote("x", start=True), "it has no start that is an integer >= 0"),
        (remote("x", start="1"), "it has no start that is an integer >= 0"),
        (remote("x", start=2**63), "it has no start that is an integer >= 0"),
    ],
)
def test_a_snapshot_a_file_cannot_express_is_skipped_with_why(
    snapshot: RemoteSnapshot, why: str
) -> None:
    view = export_view(VIEW, [snapshot])
    assert view.entries == ()
    where = describe(VIEW, snapshot.key.device_type, snapshot.key.snapshot_name)
    assert view.warnings == (
        f"warning: skipped {where} (id x): {why}, which a snapshots file cannot express; its "
        "view is managed, so plan would delete it",
    )


def test_the_largest_start_is_expressible() -> None:
    [entry] = export_view(VIEW, [remote("x", start=2**63 - 1)]).entries
    assert entry["start"] == 2**63 - 1


def test_fields_a_file_cannot_declare_are_left_out_with_a_note() -> None:
    view = export_view(
        VIEW, [remote("x", is_device_type_selected_by_user=None, session_id="", view_id=None)]
    )
    assert view.entries == (
        {"snapshot_name": "hero", "device_type": "desktop", "event_id": "e", "start": 1},
    )
    assert view.warnings == (
        f"warning: {WHERE}: is_device_type_selected_by_user is not set remotely; plan will "
        "set false",
        f'warning: {WHERE}: session_id "" cannot be declared; left unmanaged',
        f"warning: {WHERE}: view_id null cannot be declared; left unmanaged",
    )


def test_a_snapshot_is_described_as_plan_names_it() -> None:
    assert describe("/v", "mobile", 'say "hi" é\n') == '/v mobile "say \\"hi\\" é\\n"'


def test_each_named_view_is_exported_even_when_nothing_was_listed() -> None:
    listing = {ViewScope(APP, VIEW): [remote("x")], ViewScope(APP, "/unnamed"): [remote("y")]}
    views = remote_by_view(listing, ["/empty", VIEW])
    assert [view.view_name for view in views] == ["/empty", VIEW]
    assert views[0] == ExportedView("/empty", (), ())
    assert len(views[1].entries) == 1


@pytest.mark.parametrize("application_id", [APP, APP.upper()])
def test_an_application_id_must_be_a_uuid(application_id: str) -> None:
    check_application_id(application_id)


@pytest.mark.parametrize(
    "application_id", ["", "shop", APP + "0", APP[:-1], f" {APP}", f"{APP}\n", APP.replace("-", "")]
)
def test_anything_but_a_uuid_is_refused(application_id: str) -> None:
    with pytest.raises(ExportError) as raised:
        check_application_id(application_id)
    assert str(raised.value) == f"--application-id {application_id!r} is not a UUID"


def test_the_oldest_duplicate_is_the_oldest_instant_not_the_smallest_text() -> None:
    def copy(snapshot_id: str, created_at: str, start: int) -> RemoteSnapshot:
        fields: dict[str, FieldValue] = {
            "event_id": "e",
            "start": start,
            "is_device_type_selected_by_user": False,
        }
        return RemoteSnapshot(
            snapshot_id, SnapshotKey(APP, "/v", "desktop", "hero"), fields, created_at
        )

    view = export_view(
        "/v", [copy("newer", "2026-01-01T00:00:00.5Z", 2), copy("older", "2026-01-01T00:00:00Z", 1)]
    )
    assert [entry["start"] for entry in view.entries] == [1]
