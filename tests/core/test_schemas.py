"""Where the schema files are read from: the installed package's copy first (a wheel ships
them at reconciler/schemas/), else the source checkout's schemas/ folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core import schemas


def test_the_packaged_copy_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / schemas.SNAPSHOTS).write_text('{"packaged": true}')
    monkeypatch.setattr(schemas, "_PACKAGE_DIR", tmp_path)
    assert schemas.schema_text(schemas.SNAPSHOTS) == '{"packaged": true}'


def test_a_source_checkout_reads_its_schemas_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schemas, "_PACKAGE_DIR", tmp_path)  # no reconciler/schemas/ here
    source = Path(schemas.__file__).resolve().parents[2] / "schemas" / schemas.CONFIG
    assert schemas.schema_text(schemas.CONFIG) == source.read_text(encoding="utf-8")
