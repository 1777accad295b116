"""Lean loading (positions only where a value is a collection) gives the same values and
the same problems as a full load; invalid files are explained from a full load."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.yamlload import PosDict, load_bytes
from support.cli_runner import CORPUS

FILES = sorted((CORPUS / "good").glob("*.y*ml")) + sorted((CORPUS / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_lean_and_full_loads_agree(path: Path) -> None:
    data = path.read_bytes()
    lean, full = load_bytes(data, lean=True), load_bytes(data)
    assert repr(lean.value) == repr(full.value)
    assert lean.problems == full.problems


def test_lean_keeps_positions_of_collections_only() -> None:
    data = b"a: 1\nviews:\n  /x:\n    - {n: 1}\n"
    lean = load_bytes(data, lean=True).value
    full = load_bytes(data).value
    assert isinstance(lean, PosDict)
    assert lean.key_pos == {"views": (2, 1)}
    assert full.key_pos == {"a": (1, 1), "views": (2, 1)}
    assert lean["views"].key_pos == full["views"].key_pos == {"/x": (3, 3)}
    assert lean["views"]["/x"].item_pos == [(4, 7)]
    assert lean["views"]["/x"][0].key_pos == {}


def test_a_duplicate_key_in_a_lean_load_is_explained_in_full() -> None:
    data = b"a: 1\na: 2\n"
    assert load_bytes(data, lean=True) == load_bytes(data)
    assert [p.message for p in load_bytes(data, lean=True).problems] == [
        "duplicate key 'a' (first defined at line 1)"
    ]
