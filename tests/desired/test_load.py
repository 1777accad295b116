"""What load_desired returns for valid files, and the schema plumbing behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core import schemas
from reconciler.core.model import SnapshotKey, SourcePosition, ViewScope
from reconciler.desired import load as desired

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
TEXT = f"""\
application_id: {APP}
views:
  /b:
    - snapshot_name: Second
      device_type: mobile
      event_id: ev-2
      start: 2.0
      session_id: s-1
      view_id: v-1
      is_device_type_selected_by_user: true
    - snapshot_name: First
      device_type: desktop
      event_id: "0042"
      start: 10
  /a: []
"""


def test_state_holds_managed_fields_with_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "app.yaml").write_text(TEXT)
    state, problems = desired.load_desired(["snapshots"])
    assert problems == []
    assert [view.scope for view in state.views] == [ViewScope(APP, "/a"), ViewScope(APP, "/b")]
    assert state.views[1].position == SourcePosition("snapshots/app.yaml", 3, 3)
    first, second = state.snapshots  # sorted by natural key
    assert first.key == SnapshotKey(APP, "/b", "desktop", "First")
    assert dict(first.fields) == {
        "event_id": "0042",
        "start": 10,
        "is_device_type_selected_by_user": False,
    }
    assert first.position == SourcePosition("snapshots/app.yaml", 11, 7)
    assert dict(second.fields) == {
        "event_id": "ev-2",
        "start": 2,
        "is_device_type_selected_by_user": True,
        "session_id": "s-1",
        "view_id": "v-1",
    }
    assert type(second.fields["start"]) is int


def test_valid_items_of_a_file_with_problems_are_still_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.yaml").write_text(TEXT.replace("start: 10", "start: ten"))
    state, problems = desired.load_desired([Path("f.yaml")])
    assert [str(p) for p in problems] == ["f.yaml:14:14: 'start' must be an integer, got 'ten'"]
    assert [snap.key.snapshot_name for snap in state.snapshots] == ["Second"]


def test_schemas_are_found_in_a_source_checkout() -> None:
    assert schemas.load_schema(schemas.SNAPSHOTS)["$defs"]["snapshot"]["required"] == [
        "snapshot_name",
        "device_type",
        "event_id",
        "start",
    ]
    assert "safety" in schemas.load_schema(schemas.CONFIG)["properties"]


def test_schema_agrees_with_resource_facts() -> None:
    from reconciler.core import resource

    snapshot = schemas.load_schema(schemas.SNAPSHOTS)["$defs"]["snapshot"]
    assert snapshot["properties"]["device_type"]["enum"] == list(resource.DEVICE_TYPES)
    key_fields = set(resource.KEY_FIELDS) - {"application_id", "view_name"}
    assert set(snapshot["properties"]) == key_fields | set(resource.MUTABLE_FIELDS)
