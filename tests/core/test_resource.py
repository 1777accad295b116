"""The facts of the one resource kind: paths (a server's id escaped), list queries, and the
bodies of create and update, from a key and managed fields."""

from __future__ import annotations

import pytest

from reconciler.core import resource
from support.factories import APP, key_attributes

FIELDS = {
    "event_id": "e",
    "start": 0,
    "is_device_type_selected_by_user": False,
    "session_id": "s",
    "view_id": "v",
}


@pytest.mark.parametrize(
    ("snapshot_id", "path"),
    [
        ("0f8f2c1a-2f0b", "/api/v2/replay/heatmap/snapshots/0f8f2c1a-2f0b"),
        ("../../../v1/org", "/api/v2/replay/heatmap/snapshots/..%2F..%2F..%2Fv1%2Forg"),
        ("a?b#c d", "/api/v2/replay/heatmap/snapshots/a%3Fb%23c%20d"),
        ("é%", "/api/v2/replay/heatmap/snapshots/%C3%A9%25"),
        # A dot segment would address the collection or its parent.
        (".", "/api/v2/replay/heatmap/snapshots/%2E"),
        ("..", "/api/v2/replay/heatmap/snapshots/%2E%2E"),
        ("...", "/api/v2/replay/heatmap/snapshots/..."),
    ],
)
def test_an_item_path_escapes_the_id_into_one_segment(snapshot_id: str, path: str) -> None:
    assert resource.item_path(snapshot_id) == path


def test_a_listing_query_names_the_view_the_application_and_the_limit() -> None:
    assert resource.list_params(APP, "/a&b=c", 100) == {
        "filter[view_name]": "/a&b=c",
        "filter[application_id]": APP,
        "page[limit]": "100",
    }
    assert resource.list_params(APP, "/a", 5, device_type="tablet") == {
        "filter[view_name]": "/a",
        "filter[application_id]": APP,
        "page[limit]": "5",
        "filter[device_type]": "tablet",
    }


def test_a_create_sends_the_key_and_the_managed_fields_only() -> None:
    keys = key_attributes("hero") | {"extra": "dropped"}
    managed = {"event_id": "e", "start": 0, "is_device_type_selected_by_user": True, "x": 1}
    assert resource.create_body(keys, managed) == {
        "data": {
            "type": "snapshots",
            "attributes": {
                "application_id": APP,
                "view_name": "/checkout",
                "device_type": "desktop",
                "snapshot_name": "hero",
                "event_id": "e",
                "start": 0,
                "is_device_type_selected_by_user": True,
            },
        }
    }
    assert list(resource.create_attributes(keys, FIELDS)) == [
        *resource.KEY_FIELDS,
        *resource.MUTABLE_FIELDS,
    ]


def test_an_update_sends_the_mutable_fields_only_under_the_id() -> None:
    assert resource.update_body("id-1", FIELDS | key_attributes("hero")) == {
        "data": {"id": "id-1", "type": "snapshots", "attributes": FIELDS}
    }
    assert resource.update_attributes({"start": 2, "snapshot_name": "x"}) == {"start": 2}


def test_the_field_lists_agree_with_each_other() -> None:
    assert set(resource.KEY_FIELDS).isdisjoint(resource.MUTABLE_FIELDS)
    assert resource.REQUIRED_MUTABLE_FIELDS + resource.OPTIONAL_MUTABLE_FIELDS == (
        resource.MUTABLE_FIELDS
    )
    assert tuple(resource.MUTABLE_FIELD_TYPES) == resource.MUTABLE_FIELDS
    assert set(resource.DEFAULTS) <= set(resource.REQUIRED_MUTABLE_FIELDS)
    assert set(resource.TIMESTAMP_FIELDS) <= set(resource.SERVER_FIELDS)
    assert set(resource.SERVER_FIELDS).isdisjoint({*resource.KEY_FIELDS, *resource.MUTABLE_FIELDS})
    assert all(
        isinstance(value, resource.MUTABLE_FIELD_TYPES[name])
        for name, value in resource.DEFAULTS.items()
    )
