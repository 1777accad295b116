"""Merging exported views into an existing snapshots file: the named views change (values in
place, new snapshots appended, gone ones removed, each removal noted); comments, quoting
styles and every other view stay as they were."""

from __future__ import annotations

import pytest

from reconciler.desired.export import Entry, ExportedView, ExportError, merge_document
from support.factories import APP

FILE = f"""\
# top comment
application_id: {APP}
views:
  # the checkout
  /checkout:  # on the view's line
    # before hero
    - snapshot_name: hero   # hero's name
      device_type: desktop
      event_id: 'evt-1'
      start: 1  # start comment
    # before gone
    - snapshot_name: gone
      device_type: desktop
      event_id: evt-1
      start: 1
  /other:
    - snapshot_name: untouched
      device_type: desktop
      event_id: e
      start: 1
# trailing comment
"""


def entry(name: str, **fields: str | int | bool) -> Entry:
    return {"snapshot_name": name, "device_type": "desktop", "event_id": "evt-1", "start": 1} | (
        fields
    )


def merged(
    text: str, *views: ExportedView, alias: str | None = None
) -> tuple[str, tuple[str, ...]]:
    result = merge_document(text, APP, views, path="snapshots/a.yaml", alias=alias)
    return result.text, result.notes


def test_a_view_is_updated_in_place_keeping_comments_and_quoting() -> None:
    text, notes = merged(
        FILE,
        ExportedView(
            "/checkout",
            (
                entry("hero", event_id="evt-2", start=2, is_device_type_selected_by_user=True),
                entry("new one", event_id="yes"),
            ),
            (),
        ),
    )
    assert text == (
        f"""\
# top comment
application_id: {APP}
views:
  # the checkout
  /checkout:  # on the view's line
    # before hero
    - snapshot_name: hero   # hero's name
      device_type: desktop
      event_id: 'evt-2'
      start: 2  # start comment
      is_device_type_selected_by_user: true
    - snapshot_name: new one
      device_type: desktop
      event_id: "yes"
      start: 1
  /other:
    - snapshot_name: untouched
      device_type: desktop
      event_id: e
      start: 1
# trailing comment
"""
    )
    assert notes == ('removed: /checkout desktop "gone" (no longer exists remotely)',)


def test_nothing_changed_leaves_every_byte() -> None:
    same = ExportedView("/checkout", (entry("hero"), entry("gone")), ())
    assert merged(FILE, same) == (FILE, ())
    assert merged(FILE) == (FILE, ())  # no view named


def test_new_views_come_after_the_others_and_before_the_closing_comments() -> None:
    text, notes = merged(FILE, ExportedView("/added", (entry("x"),), ()))
    assert text == FILE.replace(
        "# trailing comment\n",
        "  /added:\n"
        "    - snapshot_name: x\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 1\n"
        "# trailing comment\n",
    )
    assert notes == ()


def test_a_view_emptied_remotely_becomes_an_empty_list() -> None:
    text, notes = merged(FILE, ExportedView("/checkout", (), ()))
    assert text == (
        f"""\
# top comment
application_id: {APP}
views:
  # the checkout
  /checkout: [] # on the view's line
  /other:
    - snapshot_name: untouched
      device_type: desktop
      event_id: e
      start: 1
# trailing comment
"""
    )
    assert notes == (
        'removed: /checkout desktop "hero" (no longer exists remotely)',
        'removed: /checkout desktop "gone" (no longer exists remotely)',
    )


def test_an_empty_view_that_gains_snapshots_becomes_a_block_list() -> None:
    before = f"application_id: {APP}\nviews:\n  /v: []  # to fill\n  /w: []\n"
    text, _ = merged(before, ExportedView("/v", (entry("a", start=5),), ()))
    assert text == (
        f"application_id: {APP}\n"
        "views:\n"
        "  /v:     # to fill\n"
        "    - snapshot_name: a\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 5\n"
        "  /w: []\n"
    )


def test_optional_fields_stay_unmanaged_unless_the_file_declares_them() -> None:
    before = (
        f"application_id: {APP}\n"
        "views:\n"
        "  /v:\n"
        "    - snapshot_name: a\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 1\n"
        "      session_id: s-1  # gone remotely\n"
        "    - snapshot_name: b\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 1\n"
        "      view_id: v-1\n"
    )
    remote = (entry("a", view_id="v-9"), entry("b", view_id="v: 2", session_id="s-9"))
    text, _ = merged(before, ExportedView("/v", remote, ()))
    assert text == (
        f"application_id: {APP}\n"
        "views:\n"
        "  /v:\n"
        "    - snapshot_name: a\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 1\n"
        "    - snapshot_name: b\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 1\n"
        '      view_id: "v: 2"\n'
    )


def test_a_flag_set_remotely_is_written_at_its_place_among_the_fields() -> None:
    before = (
        f"application_id: {APP}\n"
        "views:\n"
        "  /v:\n"
        "    - snapshot_name: a\n"
        "      device_type: desktop\n"
        "      event_id: evt-1\n"
        "      start: 1\n"
        "      session_id: s-1\n"
    )
    remote = entry("a", is_device_type_selected_by_user=True, session_id="s-1")
    text, _ = merged(before, ExportedView("/v", (remote,), ()))
    assert text.endswith(
        "      start: 1\n      is_device_type_selected_by_user: true\n      session_id: s-1\n"
    )
    unset = before.replace(
        "      session_id", "      is_device_type_selected_by_user: true\n      session_id"
    )
    text, _ = merged(unset, ExportedView("/v", (entry("a", session_id="s-1"),), ()))
    assert "is_device_type_selected_by_user: false\n" in text  # declared: kept, now false


def test_a_single_quoted_value_keeps_its_quotes_when_it_changes() -> None:
    before = (
        f"application_id: {APP}\n"
        "views:\n"
        "  /v:\n"
        "    - snapshot_name: a\n"
        "      device_type: desktop\n"
        "      event_id: '1'\n"
        "      start: 1\n"
    )
    assert merged(before, ExportedView("/v", (entry("a", event_id="1"),), ())) == (before, ())
    text, _ = merged(before, ExportedView("/v", (entry("a", event_id="2"),), ()))
    assert text == before.replace("event_id: '1'", "event_id: '2'")


def test_a_file_named_by_its_alias_merges_under_that_alias() -> None:
    before = "application: shop\nviews: {}\n"
    text, _ = merged(before, ExportedView("/v", (entry("a"),), ()), alias="shop")
    assert text.startswith("application: shop\nviews:\n  /v:\n    - snapshot_name: a\n")


@pytest.mark.parametrize(
    ("text", "alias", "message"),
    [
        ("a: [", None, "snapshots/a.yaml: cannot be read as YAML: "),
        ("- 1\n", None, "snapshots/a.yaml: not a snapshots file (no 'views' mapping)"),
        (
            f"application_id: {APP}\nviews: []\n",
            None,
            "snapshots/a.yaml: not a snapshots file (no 'views' mapping)",
        ),
        (
            "application_id: other\nviews: {}\n",
            None,
            f"snapshots/a.yaml is for application other, not {APP}; export into another file "
            "instead",
        ),
        (
            "application: shop\nviews: {}\n",
            None,
            f"snapshots/a.yaml is for application shop, not {APP}; export into another file "
            "instead",
        ),
        (
            "application: shop\nviews: {}\n",
            "eu",
            f"snapshots/a.yaml is for application shop, not eu ({APP}); export into another "
            "file instead",
        ),
        (
            f"application_id: {APP}\nviews:\n  /v: 3\n",
            None,
            "snapshots/a.yaml: view /v is not a list of snapshots",
        ),
    ],
)
def test_a_file_that_does_not_fit_is_refused(text: str, alias: str | None, message: str) -> None:
    with pytest.raises(ExportError) as raised:
        merged(text, ExportedView("/v", (entry("a"),), ()), alias=alias)
    assert str(raised.value).startswith(message)


def test_merge_keeps_every_other_byte_of_a_file_whose_items_indent_past_the_dash() -> None:
    text = (
        f"application_id: {APP}\nviews:\n  /v:\n  -   snapshot_name: a\n"
        "      device_type: desktop\n      event_id: evt-1\n      start: 1\n"
        "  /other:\n  -   snapshot_name: b\n      device_type: desktop\n"
        "      event_id: e\n      start: 1\n"
    )
    same: Entry = {"snapshot_name": "a", "device_type": "desktop", "event_id": "evt-1", "start": 1}
    merged = merge_document(text, APP, [ExportedView("/v", (same,), ())], path="a.yaml")
    assert merged.text == text
