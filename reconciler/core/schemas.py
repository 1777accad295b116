"""The JSON Schemas in top-level `schemas/`: the single description of our file formats.

Installed from a wheel they live at `reconciler/schemas/` (hatch force-include); in a
source checkout or editable install they are read from the repository's `schemas/` folder.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Final

SNAPSHOTS: Final = "snapshots.schema.json"
CONFIG: Final = "config.schema.json"

#: The `reconciler` package folder, where a wheel ships the schemas (pyproject's force-include).
_PACKAGE_DIR: Final = Path(__file__).resolve().parent.parent
_SOURCE_DIR: Final = _PACKAGE_DIR.parent / "schemas"


def schema_text(name: str) -> str:
    """The schema file's text, from the installed package if it ships one."""
    packaged = _PACKAGE_DIR / "schemas" / name
    if packaged.is_file():  # an installed wheel: the package is a folder on disk
        return packaged.read_text(encoding="utf-8")
    if not (_SOURCE_DIR / name).is_file():
        # Neither on disk (a package imported from an archive): ask the import system.
        from importlib import resources

        resource = resources.files("reconciler").joinpath("schemas", name)
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    return (_SOURCE_DIR / name).read_text(encoding="utf-8")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema; cached, so callers must not mutate it."""
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema
