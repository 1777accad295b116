"""Exported YAML, warnings and merge notes pass the key redactor, like every output."""

from __future__ import annotations

import pytest

from support.export_helpers import export
from support.workspace import API_KEY, APP, Workspace, remote_attributes

MERGE_FILE = f"""\
application_id: {APP}
views:
  /checkout:
    - snapshot_name: gone
      device_type: desktop
      event_id: evt-1
      start: 1
"""


@pytest.fixture
def echoed(ws: Workspace) -> Workspace:
    """A server that put the API key it received into a name and an event id."""
    ws.seed(
        remote_attributes(f"leak {API_KEY}", event_id=API_KEY),
        remote_attributes(f"dup {API_KEY}"),
        remote_attributes(f"dup {API_KEY}"),
    )
    return ws


def test_exported_yaml_and_warnings_mask_the_key(echoed: Workspace) -> None:
    result = export(echoed, "/checkout")
    assert result.code == 0
    assert API_KEY not in result.out + result.err
    assert "snapshot_name: leak ***" in result.out
    assert "warning: duplicate remote snapshots /checkout desktop" in result.err


def test_written_and_merged_files_mask_the_key(echoed: Workspace) -> None:
    assert export(echoed, "/checkout", output="snapshots/new.yaml").code == 0
    assert API_KEY not in (echoed.root / "snapshots" / "new.yaml").read_text()
    path = echoed.write("snapshots/old.yaml", MERGE_FILE)
    result = export(echoed, "/checkout", merge="snapshots/old.yaml")
    assert result.code == 0
    assert API_KEY not in path.read_text() + result.err
    assert 'removed: /checkout desktop "gone"' in result.err
