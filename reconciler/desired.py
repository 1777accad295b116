"""Desired state: load and validate snapshot files into DesiredState plus every Problem.

Per file: YAML (yamlload) -> schema (fast compiled check; jsonschema only for files that
fail, for complete messages) -> snapshots from the items that are valid on their own. Across
files: the same natural key twice, or the same (application, view) in two files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from reconciler import resource, schemas
from reconciler.model import (
    DesiredSnapshot,
    DesiredState,
    FieldValue,
    ManagedView,
    Problem,
    SnapshotKey,
    SourcePosition,
    ViewScope,
)
from reconciler.schemacheck import Check, JsonPath, compile_schema, explain, quote
from reconciler.yamlload import PosDict, PosList, gc_paused, load_bytes, read_file

#: File names searched for in directories.
SNAPSHOT_SUFFIXES: Final = (".yaml", ".yml")
#: The configuration file is not a snapshots file, even inside a searched directory.
CONFIG_NAMES: Final = ("reconciler.yaml", "reconciler.yml")
_ROOT_PHRASE: Final = "a mapping with 'application_id' and 'views'"


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What `validate` reports: the state, every problem, and how many files were read."""

    state: DesiredState
    problems: list[Problem]
    files: int


def load_desired(paths: Sequence[str | Path]) -> tuple[DesiredState, list[Problem]]:
    """Load files and directories (searched recursively for *.yaml / *.yml, sorted).

    Returns everything valid that could be loaded and ALL problems, sorted."""
    report = load_report(paths)
    return report.state, report.problems


def load_report(paths: Sequence[str | Path]) -> LoadReport:
    files, problems = find_files(paths)
    checks = _checks()
    loader = _Loader(problems)
    with gc_paused():
        for display, path in files:
            loader.load_file(display, path, checks)
    state = DesiredState(
        views=tuple(sorted(loader.views.values(), key=lambda view: view.scope)),
        snapshots=tuple(sorted(loader.snapshots.values(), key=lambda snap: snap.key)),
    )
    # Content reached through several aliases would repeat the same problem.
    return LoadReport(state, sorted(set(problems)), len(files))


def display_path(path: str | Path) -> str:
    """The path as the user would write it: relative to the cwd when under it."""
    text = os.fspath(path)
    absolute = os.path.abspath(text)
    cwd = os.getcwd()
    if absolute == cwd or absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, cwd)
    return text


def find_files(paths: Sequence[str | Path]) -> tuple[list[tuple[str, Path]], list[Problem]]:
    """(display path, path) of every file to load, sorted and unique, plus missing paths."""
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        display = display_path(given)
        if path.is_dir():
            for file in _walk(path, problems):
                found.setdefault(display_path(file), file)
        elif os.path.lexists(path):
            found.setdefault(display, path)
        else:
            problems.append(Problem(display, 1, 1, "no such file or directory"))
    return sorted(found.items()), problems


def _walk(top: Path, problems: list[Problem]) -> Iterator[Path]:
    """Snapshot files under `top`: follows directory symlinks once (no loops), skips hidden
    directories (.git, .venv) and the configuration file."""
    visited: set[tuple[int, int]] = set()

    def on_error(exc: OSError) -> None:
        where = display_path(exc.filename or top)
        problems.append(Problem(where, 1, 1, f"cannot read directory: {exc.strerror or exc}"))

    for root, dirs, names in os.walk(top, onerror=on_error, followlinks=True):
        try:
            stat = os.stat(root)
        except OSError:
            dirs[:] = []
            continue
        if (stat.st_dev, stat.st_ino) in visited:
            dirs[:] = []
            continue
        visited.add((stat.st_dev, stat.st_ino))
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(names):
            if name.endswith(SNAPSHOT_SUFFIXES) and name not in CONFIG_NAMES:
                yield Path(root, name)


@dataclass(frozen=True, slots=True)
class _Checks:
    document: Check
    application_id: Check
    snapshot: Check


def _checks() -> _Checks:
    schema = schemas.load_schema(schemas.SNAPSHOTS)
    return _Checks(
        document=compile_schema(schema),
        application_id=compile_schema(schema, schema["properties"]["application_id"]),
        snapshot=compile_schema(schema, schema["$defs"]["snapshot"]),
    )


def _name(path: JsonPath) -> str:
    """How messages call the value at a path of a snapshots file."""
    if not path:
        return "the file"
    if len(path) == 2:
        return f"view {quote(str(path[1]))}" if path[1] else "a view name"
    if len(path) == 3:
        return "a snapshot"
    return f"'{path[-1]}'"


def _expected(path: JsonPath, json_type: str) -> str | None:
    if path == ("views",):
        return "a mapping of view name to a list of snapshots"
    if len(path) == 2:
        return "a list of snapshots"
    return None


class _Loader:
    """Accumulates valid views and snapshots across files, reporting clashes."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.views: dict[ViewScope, ManagedView] = {}
        self.snapshots: dict[SnapshotKey, DesiredSnapshot] = {}

    def load_file(self, display: str, path: Path, checks: _Checks) -> None:
        data, unreadable = read_file(path)
        if unreadable is not None or data is None:
            assert unreadable is not None
            self.add(display, unreadable.line, unreadable.col, unreadable.message)
            return
        document = load_bytes(data)
        for found in document.problems:
            self.add(display, found.line, found.col, found.message)
        value = document.value
        if value is None:
            if not document.problems:
                self.add(display, 1, 1, f"file is empty; expected {_ROOT_PHRASE}")
            return
        if not isinstance(value, PosDict):
            line, col = value.pos if isinstance(value, PosList) else (1, 1)
            got = "a list" if isinstance(value, PosList) else "a single value"
            self.add(display, line, col, f"a snapshots file must be {_ROOT_PHRASE}, got {got}")
            return
        if not checks.document(value):
            for line, col, message in explain(
                schemas.SNAPSHOTS, value, namer=_name, expected=_expected
            ):
                self.add(display, line, col, message)
        self.collect(display, value, checks)

    def collect(self, display: str, document: PosDict, checks: _Checks) -> None:
        """Keep what is valid on its own; report natural keys and views declared twice."""
        application_id = document.get("application_id")
        views = document.get("views")
        if not checks.application_id(application_id) or not isinstance(views, PosDict):
            return
        assert isinstance(application_id, str)  # the schema check says so
        for view_name, items in views.items():
            if not view_name or not isinstance(items, PosList):
                continue
            line, col = views.key_pos[view_name]
            scope = ViewScope(application_id, view_name)
            first_view = self.views.get(scope)
            if first_view is None:
                self.views[scope] = ManagedView(scope, SourcePosition(display, line, col))
            else:
                self.add(
                    display,
                    line,
                    col,
                    f"view {quote(view_name)} of application {application_id} is managed in"
                    f" two files (first declared at {first_view.position})",
                )
            for item, (item_line, item_col) in zip(items, items.item_pos, strict=True):
                if checks.snapshot(item):
                    position = SourcePosition(display, item_line, item_col)
                    self.add_snapshot(_snapshot(application_id, view_name, item, position))

    def add_snapshot(self, snapshot: DesiredSnapshot) -> None:
        first = self.snapshots.get(snapshot.key)
        if first is None:
            self.snapshots[snapshot.key] = snapshot
            return
        where = snapshot.position
        self.add(
            where.path,
            where.line,
            where.col,
            f"duplicate snapshot {snapshot.key} (first declared at {first.position})",
        )

    def add(self, path: str, line: int, col: int, message: str) -> None:
        self.problems.append(Problem(path, line, col, message))


def _snapshot(
    application_id: str, view_name: str, item: dict[str, Any], position: SourcePosition
) -> DesiredSnapshot:
    """A schema-valid item -> DesiredSnapshot holding only the managed mutable fields."""
    key = SnapshotKey(application_id, view_name, item["device_type"], item["snapshot_name"])
    fields: dict[str, FieldValue] = {}
    for name in resource.REQUIRED_MUTABLE_FIELDS:
        fields[name] = item[name] if name in item else resource.DEFAULTS[name]
    for name in resource.OPTIONAL_MUTABLE_FIELDS:
        if name in item:
            fields[name] = item[name]
    # The schema's "integer" admits 1500.0; the API wants an int.
    fields["start"] = int(fields["start"])
    return DesiredSnapshot(key, fields, position)
