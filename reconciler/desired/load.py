"""Desired state: load and validate snapshot files into DesiredState plus every Problem.

Per file: YAML (yamlload) -> schema (`schemas`: jsonschema, after the shortcut that vouches
for valid files) -> snapshots from the items that are valid on their own. Across files: the
same natural key twice, or the same (application, view) in two files.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from reconciler.core import resource, schemas
from reconciler.core.files import (
    BudgetExceeded,
    ReadBudget,
    Refused,
    check_link,
    display_path,
    is_within,
    read_regular,
    walk,
)
from reconciler.core.model import (
    DesiredSnapshot,
    DesiredState,
    FieldValue,
    ManagedView,
    Problem,
    SnapshotKey,
    SourcePosition,
    ViewScope,
)
from reconciler.core.schemas import JsonPath, explain, is_valid, quote
from reconciler.core.yamlload import MAX_FILE_BYTES, PosDict, PosList, gc_paused, load_bytes
from reconciler.desired.placement import (
    PlacedFile,
    application_problems,
    is_placed,
    owner_of,
    shown,
)

#: File names searched for in directories.
SNAPSHOT_SUFFIXES: Final = (".yaml", ".yml")
#: The configuration file is not a snapshots file, even inside a searched directory.
CONFIG_NAMES: Final = ("reconciler.yaml", "reconciler.yml")
_ROOT_PHRASE: Final = "a mapping with 'application_id' and 'views'"
#: The keys naming the file's application (and the environments it applies to).
_OWNER_KEYS: Final = ("application_id", "application", "environments")
#: A SnapshotKey's fields, in its order.
Identity = tuple[str, str, str, str]
_first = operator.itemgetter(0)


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What `validate` reports: the state, every problem, and how many files were read."""

    state: DesiredState
    problems: list[Problem]
    files: int
    #: Files naming an application alias or limited to environments (`placement`).
    placed: tuple[PlacedFile, ...] = ()


def load_desired(
    paths: Sequence[str | Path], *, root: str | Path | None = None
) -> tuple[DesiredState, list[Problem]]:
    """Load files and directories (searched recursively for *.yaml / *.yml, sorted), never
    following a link out of `root` (default: the working directory).

    Returns everything valid that could be loaded and ALL problems, sorted."""
    report = load_report(paths, root=root)
    return report.state, report.problems


def load_report(paths: Sequence[str | Path], *, root: str | Path | None = None) -> LoadReport:
    """Like load_desired, with the number of files read. `root` is the repository (default:
    the working directory): links met in it may not lead out of it."""
    files, problems = find_files(paths, root=root)
    loader = _Loader(problems)
    budget = ReadBudget()
    with gc_paused():
        for display, path in files:
            if not loader.load_file(display, path, budget):
                break
    state = DesiredState(
        views=tuple(sorted(loader.views.values(), key=lambda view: view.scope)),
        # By identity: SnapshotKey's order, compared as plain tuples.
        snapshots=tuple(snap for _, snap in sorted(loader.snapshots.items(), key=_first)),
    )
    # Content reached through several aliases would repeat the same problem.
    return LoadReport(state, sorted(set(problems)), len(files), tuple(loader.placed))


def _wanted(name: str) -> bool:
    return name.endswith(SNAPSHOT_SUFFIXES) and name not in CONFIG_NAMES


def find_files(
    paths: Sequence[str | Path], *, root: str | Path | None = None
) -> tuple[list[tuple[str, Path]], list[Problem]]:
    """(display path, real path) of every file to load, sorted, each file once, plus the
    problems of the paths themselves (missing, empty folder, a link out of the repository).

    A path inside the repository must stay inside it, links included; a path outside it
    (given on the command line or by the environment) is confined to itself."""
    repository = os.path.abspath(os.getcwd() if root is None else root)
    repository_real = os.path.realpath(repository)
    found: dict[str, tuple[str, Path]] = {}
    problems: list[Problem] = []

    def on_problem(path: Path, message: str) -> None:
        problems.append(Problem(display_path(path), 1, 1, message))

    for given in paths:
        display = display_path(given)
        absolute = os.path.abspath(given)
        if not os.path.lexists(absolute):
            problems.append(Problem(display, 1, 1, f"no such file or directory: {absolute}"))
            continue
        if is_within(absolute, repository):
            real = check_link(absolute, repository_real)
        else:
            real = check_link(absolute, os.path.realpath(absolute))
        if isinstance(real, Refused):
            problems.append(Problem(display, 1, 1, str(real)))
            continue
        if not os.path.isdir(real):
            found.setdefault(real, (display, Path(real)))
            continue
        confinement = repository_real if is_within(absolute, repository) else real
        before = (len(found), len(problems))
        for path, file_real in walk(Path(given), confinement, _wanted, on_problem):
            found.setdefault(file_real, (display_path(path), Path(file_real)))
        if (len(found), len(problems)) == before:
            message = f"no snapshot files (*.yaml, *.yml) in this folder: {absolute}"
            problems.append(Problem(display, 1, 1, message))
    return sorted(found.values()), problems


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
        #: By identity, SnapshotKey's fields as a tuple (hashed and compared in C).
        self.snapshots: dict[Identity, DesiredSnapshot] = {}
        #: Where each identity was first declared, valid snapshot or not.
        self.identities: dict[Identity, SourcePosition] = {}
        self.placed: list[PlacedFile] = []

    def load_file(self, display: str, path: Path, budget: ReadBudget) -> bool:
        """Load one file; False once the run's read budget is spent (stop reading)."""
        try:
            data = read_regular(path, MAX_FILE_BYTES, budget)
        except BudgetExceeded as exc:
            self.add(display, 1, 1, str(exc))
            return False
        except Refused as exc:
            self.add(display, 1, 1, str(exc))
            return True
        self.load_document(display, data, path)
        return True

    def load_document(self, display: str, data: bytes, path: Path | None = None) -> None:
        document = load_bytes(data, lean=True)
        valid = (
            isinstance(document.value, PosDict)
            and is_valid(schemas.SNAPSHOTS, document.value)
            and not application_problems(document.value)
        )
        if isinstance(document.value, PosDict) and not valid:
            document = load_bytes(data)  # again with every position, for the messages
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
        if not valid:
            for line, col, message in explain(
                schemas.SNAPSHOTS, value, namer=_name, expected=_expected
            ):
                self.add(display, line, col, message)
            for line, col, message in application_problems(value):
                self.add(display, line, col, message)
        self.collect(display, value, valid, path)

    def collect(
        self, display: str, document: PosDict, valid: bool, path: Path | None = None
    ) -> None:
        """Keep what is valid on its own; report natural keys and views declared twice.

        Identities are checked for every item whose key fields are valid, even when other
        fields (or the application id) are not, so duplicates show in the same run. A
        `valid` document (checked whole) is not checked again item by item."""
        views = document.get("views")
        if not isinstance(views, PosDict):
            return
        owner = self.owner(document, valid)
        valid_application = owner is not None
        if owner is None:  # an invalid application still names one inside this file
            owner = f"\0invalid application of {display}"
        elif is_placed(owner):
            self.placed.append(PlacedFile(display, path or Path(display), owner))
        for view_name, items in views.items():
            if not view_name or not isinstance(items, PosList):
                continue
            if valid_application:
                self.add_view(display, ViewScope(owner, view_name), views.key_pos[view_name])
            for item, (item_line, item_col) in zip(items, items.item_pos, strict=True):
                identity = _identity(owner, view_name, item)
                if identity is None:
                    continue
                position = SourcePosition(display, item_line, item_col)
                first = self.identities.setdefault(identity, position)
                if first is not position:
                    key = SnapshotKey(*identity)
                    message = f"duplicate snapshot {key} (first declared at {first})"
                    self.add(display, item_line, item_col, message)
                elif valid or (valid_application and _valid_snapshot(item)):
                    self.snapshots[identity] = _snapshot(SnapshotKey(*identity), item, position)
            # Nothing reads the loaded items again: dropping them as each view is done keeps
            # a 100,000-snapshot file from being held twice (as YAML values and snapshots).
            views[view_name] = None

    def owner(self, document: PosDict, valid: bool) -> str | None:
        """Who the file's views belong to (`placement`), None when that is invalid (a
        valid file was checked whole)."""
        if not valid and (application_problems(document) or not _valid_owner(document)):
            return None
        return owner_of(
            document.get("application_id"),
            document.get("application"),
            document.get("environments"),
        )

    def add_view(self, display: str, scope: ViewScope, where: tuple[int, int]) -> None:
        first_view = self.views.get(scope)
        if first_view is None:
            self.views[scope] = ManagedView(scope, SourcePosition(display, *where))
            return
        self.add(
            display,
            *where,
            f"view {quote(scope.view_name)} of application {shown(scope.application_id)} is managed"
            f" in two files (first declared at {first_view.position})",
        )

    def add(self, path: str, line: int, col: int, message: str) -> None:
        self.problems.append(Problem(path, line, col, message))


def _valid_owner(document: PosDict) -> bool:
    """Are the keys naming the file's application (and environments) valid?"""
    return all(
        key not in document or is_valid(schemas.SNAPSHOTS, document[key], "properties", key)
        for key in _OWNER_KEYS
    )


def _valid_snapshot(item: Any) -> bool:
    return is_valid(schemas.SNAPSHOTS, item, "$defs", "snapshot")


def _identity(application_id: str, view_name: str, item: Any) -> Identity | None:
    """The natural key of an item whose key fields are valid, whatever its other fields."""
    if not isinstance(item, dict):
        return None
    name, device = item.get("snapshot_name"), item.get("device_type")
    if type(name) is not str or not name or device not in resource.DEVICE_TYPES:
        return None
    assert isinstance(device, str)
    return (application_id, view_name, device, name)


def _snapshot(key: SnapshotKey, item: dict[str, Any], position: SourcePosition) -> DesiredSnapshot:
    """A schema-valid item -> DesiredSnapshot holding only the managed mutable fields."""
    fields: dict[str, FieldValue] = {}
    for name in resource.REQUIRED_MUTABLE_FIELDS:
        fields[name] = item[name] if name in item else resource.DEFAULTS[name]
    for name in resource.OPTIONAL_MUTABLE_FIELDS:
        if name in item:
            fields[name] = item[name]
    # The schema's "integer" admits 1500.0; the API wants an int.
    fields["start"] = int(fields["start"])
    return DesiredSnapshot(key, fields, position)
