"""Which application a snapshots file means in each environment, and whether it applies
there at all.

A file names its application by id (`application_id:`) or by alias (`application:`), and may
be limited to some environments (`environments: [staging]`). The loader cannot resolve an
alias (it knows no environment), so it files such views and snapshots under an *owner*: the
alias behind `@`, or the id, followed by `|` and the environments the file is limited to.
Neither mark can occur in a UUID, so an owner never collides with a real id, and two files
limited to different environments never clash at load time. `for_environment` turns the
loaded state into the plain state of one environment (ids only), where clashes are checked
again, per environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, NamedTuple

from reconciler.core.model import (
    DesiredSnapshot,
    DesiredState,
    ManagedView,
    Problem,
    SnapshotKey,
    ViewScope,
)
from reconciler.core.schemas import quote
from reconciler.core.yamlload import PosDict, load_bytes, read_file

ALIAS: Final = "@"
LIMIT: Final = "|"


class PlacedFile(NamedTuple):
    """A snapshots file that uses an alias or is limited to environments."""

    display: str  # as problems name it
    path: Path  # what was read (for the positions of a problem)
    owner: str


class Owner(NamedTuple):
    application_id: str | None
    alias: str | None
    environments: tuple[str, ...] | None

    def applies_to(self, environment: str) -> bool:
        return self.environments is None or environment in self.environments


def owner_of(
    application_id: str | None, alias: str | None, environments: Sequence[str] | None
) -> str:
    name = ALIAS + alias if alias is not None else (application_id or "")
    if environments is None:
        return name
    return name + LIMIT + ",".join(sorted(environments))


def parse_owner(owner: str) -> Owner:
    name, _, limit = owner.partition(LIMIT)
    environments = tuple(limit.split(",")) if LIMIT in owner else None
    if name.startswith(ALIAS):
        return Owner(None, name[len(ALIAS) :], environments)
    return Owner(name, None, environments)


def is_placed(owner: str) -> bool:
    """Does `owner` need an environment to mean an application id?"""
    return owner.startswith(ALIAS) or LIMIT in owner


def shown(owner: str) -> str:
    """An owner as messages name the application: its alias, or its id."""
    parsed = parse_owner(owner)
    return parsed.alias if parsed.alias is not None else (parsed.application_id or "")


def without_environments(placed: Sequence[PlacedFile]) -> list[Problem]:
    """Files that need environments, when reconciler.yaml declares none."""
    problems = []
    for file in placed:
        parsed = parse_owner(file.owner)
        if parsed.alias is not None:
            line, col = _position(file, "application")
            message = (
                f"application alias {quote(parsed.alias)} needs `environments:` with "
                "`applications:` in reconciler.yaml; or write application_id"
            )
            problems.append(Problem(file.display, line, col, message))
        if parsed.environments is not None:
            line, col = _position(file, "environments")
            message = "'environments' needs `environments:` in reconciler.yaml"
            problems.append(Problem(file.display, line, col, message))
    return problems


def unknown_environments(placed: Sequence[PlacedFile], known: Sequence[str]) -> list[Problem]:
    """Files limited to an environment reconciler.yaml does not declare."""
    problems = []
    for file in placed:
        for name in parse_owner(file.owner).environments or ():
            if name not in known:
                line, col = _position(file, "environments")
                message = (
                    f"unknown environment {quote(name)} in 'environments' "
                    f"(reconciler.yaml declares: {', '.join(known)})"
                )
                problems.append(Problem(file.display, line, col, message))
    return problems


def for_environment(
    state: DesiredState,
    placed: Sequence[PlacedFile],
    environment: str,
    applications: Mapping[str, str],
) -> tuple[DesiredState, list[Problem]]:
    """The state of one environment: aliases resolved to its ids, files limited to other
    environments left out; a missing alias, or one view managed by two files there, is a
    problem."""
    problems: list[Problem] = []
    resolved: dict[str, str | None] = {}
    for file in placed:
        parsed = parse_owner(file.owner)
        if not parsed.applies_to(environment):
            resolved[file.owner] = None
        elif parsed.alias is None:
            resolved[file.owner] = parsed.application_id
        elif parsed.alias in applications:
            resolved[file.owner] = applications[parsed.alias]
        else:
            resolved[file.owner] = None
            line, col = _position(file, "application")
            problems.append(
                Problem(
                    file.display,
                    line,
                    col,
                    f"application alias {quote(parsed.alias)} is not defined in environment "
                    f"{quote(environment)} (add it to environments.{environment}.applications "
                    "in reconciler.yaml)",
                )
            )

    def scope_of(scope: ViewScope) -> ViewScope | None:
        if not is_placed(scope.application_id):
            return scope
        application_id = resolved.get(scope.application_id)
        return None if application_id is None else ViewScope(application_id, scope.view_name)

    views: dict[ViewScope, ManagedView] = {}
    for view in sorted(state.views, key=lambda view: view.position):  # first in file order
        scope = scope_of(view.scope)
        if scope is None:
            continue
        first = views.setdefault(scope, ManagedView(scope, view.position))
        if first.position != view.position:
            problems.append(
                Problem(
                    view.position.path,
                    view.position.line,
                    view.position.col,
                    f"view {quote(scope.view_name)} of application {scope.application_id} is "
                    f"managed in two files in environment {quote(environment)} (first "
                    f"declared at {first.position})",
                )
            )
    snapshots: list[DesiredSnapshot] = []
    for snapshot in state.snapshots:
        scope = scope_of(snapshot.key.scope)
        if scope is None:
            continue
        key = SnapshotKey(
            scope.application_id,
            scope.view_name,
            snapshot.key.device_type,
            snapshot.key.snapshot_name,
        )
        snapshots.append(DesiredSnapshot(key, snapshot.fields, snapshot.position))
    resolved_state = DesiredState(
        views=tuple(sorted(views.values(), key=lambda view: view.scope)),
        snapshots=tuple(sorted(snapshots, key=lambda snap: snap.key)),
    )
    return resolved_state, sorted(set(problems))


def _position(file: PlacedFile, key: str) -> tuple[int, int]:
    """Where `key`'s value is written in `file` (read again: loads of valid files keep no
    positions of plain values, and a problem here is rare)."""
    data, _ = read_file(file.path)
    value = load_bytes(data).value if data is not None else None
    if isinstance(value, PosDict) and key in value.value_pos:
        return value.value_pos[key]
    return 1, 1


#: The keys that name a file's application: exactly one of them.
_APPLICATION_KEYS: Final = ("application_id", "application")


def application_problems(document: PosDict) -> list[tuple[int, int, str]]:
    """What the schema cannot say of a file's application: exactly one of `application_id`
    and `application`; `environments` not empty and without repeats."""
    problems = []
    given = [name for name in _APPLICATION_KEYS if name in document]
    if len(given) == 2:
        line, col = document.key_pos.get("application", document.pos)
        problems.append(
            (line, col, "'application_id' and 'application' cannot both be given: use one")
        )
    elif not given and not _misspelled(document, _APPLICATION_KEYS):
        line, col = document.pos
        problems.append((line, col, "missing required field 'application_id'"))
    environments = document.get("environments")
    if isinstance(environments, list):
        line, col = document.value_pos.get("environments", document.pos)
        if not environments:
            problems.append((line, col, "'environments' must name at least one environment"))
        elif len(set(map(str, environments))) != len(environments):
            problems.append((line, col, "'environments' names an environment twice"))
    return problems


def _misspelled(document: PosDict, names: Sequence[str]) -> bool:
    """Does a key of `document` look like one of `names` (the schema's "did you mean"
    message then stands for the missing field)?"""
    import difflib  # only for a file that names no application: not on the fast start

    return any(
        key not in names and difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        for key in document
    )
