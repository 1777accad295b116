"""Settings: command-line option > environment > reconciler.yaml > default.

Each value records where it came from (`Settings.source`). The target (`site`, `api_url`) is
one setting as far as precedence goes: a target given at a higher level replaces any target
from a lower one, so `--site` beats a file's `api_url`. An `api_url` written in the file must
also pass the target policy (`api.sites.check_file_api_url`), whether it is used or not.

Credentials are deliberately absent: they come only from DD_API_KEY / DD_APP_KEY, read by
the HTTP client, never from a file in the repository.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from reconciler.config import sites
from reconciler.core import schemas
from reconciler.core.errors import InvalidInput, UsageProblem
from reconciler.core.files import Refused, check_link, display_path, is_within
from reconciler.core.model import Problem
from reconciler.core.schemas import JsonPath, explain, is_valid, quote
from reconciler.core.yamlload import PosDict, PosList, load_bytes, read_file

DEFAULT_CONFIG: Final = "reconciler.yaml"

#: Keys that look like credentials get a pointed message instead of "unknown field".
_CREDENTIAL_KEY: Final = re.compile(
    r"(api|app|application)[_-]?key|secret|token|password|credential", re.IGNORECASE
)
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class Settings:
    site: str = "datadoghq.com"
    api_url: str | None = None
    snapshots: str = "snapshots"  # folder, relative to the cwd unless absolute
    prune: bool = True
    page_limit: int = 1000
    #: The page size the API is assumed to cap at: a listing this full may be cut.
    server_page_cap: int = 1000
    #: Hard maximum of requests in flight; None: adapt to the server's rate-limit headers.
    parallelism: int | None = None
    max_delete_fraction: float = 0.3
    max_update_fraction: float = 0.3
    min_existing: int = 10
    ignore: tuple[str, ...] = ()
    config_path: str | None = None  # the reconciler.yaml that was read, if any
    #: Where each value came from: "option", "environment" or "file" (absent: "default").
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def source(self, name: str) -> str:
        return self.sources.get(name, sites.DEFAULT)

    @property
    def repository_root(self) -> str:
        """The folder of the reconciler.yaml in use, else the working directory: files read
        from it (snapshots, links in it) may not lead out of it."""
        return os.path.dirname(self.config_path or "") or os.curdir


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrides:
    """Settings given on the command line, the layer over every other; None: not given."""

    site: str | None = None
    api_url: str | None = None
    snapshots: str | None = None
    prune: bool | None = None
    page_limit: int | None = None
    server_page_cap: int | None = None
    parallelism: int | None = None

    def given(self) -> dict[str, object]:
        """The settings given, by their names in `Settings`."""
        values = {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}
        return {name: value for name, value in values.items() if value is not None}


#: Settings that together say where the keys go.
_TARGET: Final = ("site", "api_url")
#: The key of reconciler.yaml holding the environments, and what a section holds besides
#: settings (read by `reconciler.config.environments`).
ENVIRONMENTS: Final = "environments"
ENVIRONMENT_ONLY: Final = ("api_key_env", "app_key_env", "applications")


def load_settings(
    config_path: str | None,
    overrides: Overrides,
    environ: Mapping[str, str],
    *,
    environment: str | None = None,
) -> Settings:
    """Merge the four layers. Raises InvalidInput for a bad reconciler.yaml (positioned
    problems) and UsageProblem for a bad environment variable or a missing --config file.

    With `environment`, the settings of that section of `environments:` come between the
    file's top level and the environment variables, its target replacing the file's; the
    environment variables of the target (DD_SITE, RECONCILER_API_URL) are not read: one
    variable would send the keys of every environment to one host."""
    path = find_config(config_path)
    file_values: dict[str, Any] = {}
    section: dict[str, Any] = {}
    if path is not None:
        file_values, problems = read_config(path)
        if problems:
            raise InvalidInput(problems)
        _check_file_target(path, file_values, environ)
        sections = file_values.pop(ENVIRONMENTS, {})
        if environment is not None:
            section = _flatten(dict(sections[environment]))
            for name in ENVIRONMENT_ONLY:
                section.pop(name, None)
            _check_file_target(path, section, environ, (ENVIRONMENTS, environment))
    from_environment = settings_from_environment(environ)
    if environment is not None:
        for name in _TARGET:
            from_environment.pop(name, None)
    layers = (
        (sites.FILE, file_values),
        (sites.FILE, section),
        (sites.ENVIRONMENT, from_environment),
        (sites.OPTION, overrides.given()),
    )
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        if any(name in layer for name in _TARGET):
            # A target given here replaces the whole target of a lower level.
            for name in _TARGET:
                values.pop(name, None)
                sources.pop(name, None)
        values.update(layer)
        sources.update(dict.fromkeys(layer, source))
    if "snapshots" not in values and path is not None:
        # The default folder sits next to the reconciler.yaml, as a folder it names would.
        values["snapshots"] = os.path.join(os.path.dirname(path), Settings.snapshots)
    if "ignore" in values:
        values["ignore"] = tuple(values["ignore"])
    return Settings(**values, config_path=path, sources=sources)


def _check_file_target(
    path: str, values: Mapping[str, Any], environ: Mapping[str, str], within: Sequence[str] = ()
) -> None:
    problems = file_target_problems(path, values, environ, within)
    if problems:
        raise InvalidInput(problems)


def file_target_problems(
    path: str, values: Mapping[str, Any], environ: Mapping[str, str], within: Sequence[str] = ()
) -> list[Problem]:
    """The target policy on the file's `api_url` (at the top level, or in the mapping at
    `within`), as a problem at its place in the file."""
    api_url = values.get("api_url")
    if not isinstance(api_url, str):
        return []
    try:
        sites.check_file_api_url(api_url, environ)
    except UsageProblem as exc:
        line, col = setting_position(path, "api_url", within)
        return [Problem(display_path(path), line, col, str(exc))]
    return []


def setting_position(path: str, name: str, within: Sequence[str] = ()) -> tuple[int, int]:
    """Line and column of a setting's value in a (valid) reconciler.yaml: at the top level,
    or in the mapping at the keys `within` (e.g. ("environments", "staging"))."""
    data, _ = read_file(Path(path))
    value = load_bytes(data).value if data is not None else None
    for key in within:
        value = value.get(key) if isinstance(value, PosDict) else None
    if isinstance(value, PosDict) and name in value.value_pos:
        return value.value_pos[name]
    return 1, 1


def find_config(config_path: str | None) -> str | None:
    """The explicit path (which must exist), else ./reconciler.yaml when present (which may
    not be a link out of the working directory: it is the repository's file)."""
    if config_path is not None:
        problem = _config_file_problem(config_path)
        if problem is not None:
            raise UsageProblem(problem)
        return config_path
    if not os.path.lexists(DEFAULT_CONFIG):
        return None
    leads_to = check_link(os.path.abspath(DEFAULT_CONFIG), os.path.realpath(os.curdir))
    if isinstance(leads_to, Refused):
        raise InvalidInput([Problem(DEFAULT_CONFIG, 1, 1, str(leads_to))])
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None


def _config_file_problem(path: str) -> str | None:
    """Why `--config PATH` names no file to read, or None."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return f"config file not found: {path}"
        return f"cannot read config file {path}: {exc.strerror or exc}"  # too long, no access
    if stat.S_ISDIR(info.st_mode):
        return f"config file not found: {path} is a directory (name the reconciler.yaml in it)"
    if not stat.S_ISREG(info.st_mode):
        return f"config file not found: {path} is not a regular file"
    return None


def settings_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Settings given by environment variables; empty variables count as unset."""
    values: dict[str, Any] = {}
    for variable, name in (
        ("DD_SITE", "site"),
        ("RECONCILER_API_URL", "api_url"),
        ("RECONCILER_SNAPSHOTS", "snapshots"),
    ):
        if environ.get(variable, "").strip():
            values[name] = environ[variable].strip()
    api_url = values.get("api_url")
    if api_url is not None and not re.match(r"https?://", api_url):
        raise UsageProblem(
            f"RECONCILER_API_URL must be an http:// or https:// URL, got {api_url!r}"
        )
    prune = environ.get("RECONCILER_PRUNE", "").strip()
    if prune:
        if prune.lower() not in _TRUE | _FALSE:
            raise UsageProblem(f"RECONCILER_PRUNE must be true or false, got {prune!r}")
        values["prune"] = prune.lower() in _TRUE
    for variable, name, largest in (
        ("RECONCILER_PAGE_LIMIT", "page_limit", None),
        ("RECONCILER_SERVER_PAGE_CAP", "server_page_cap", None),
        ("RECONCILER_PARALLELISM", "parallelism", 64),
    ):
        text = environ.get(variable, "").strip()
        if not text:
            continue
        if not text.isdecimal() or int(text) < 1 or (largest and int(text) > largest):
            limit = f" from 1 to {largest}" if largest else " (at least 1)"
            raise UsageProblem(f"{variable} must be an integer{limit}, got {text!r}")
        values[name] = int(text)
    return values


def read_config(path: str) -> tuple[dict[str, Any], list[Problem]]:
    """Settings written in a reconciler.yaml, flattened to Settings names, and its problems.

    With problems, the settings are those top-level ones that are valid on their own, so
    that `validate` can still find the snapshots folder of a half-broken file."""
    display = display_path(path)
    data, unreadable = read_file(Path(path))
    if data is None:
        message = unreadable.message if unreadable else "cannot read file"
        return {}, [Problem(display, 1, 1, message)]
    document = load_bytes(data)
    problems = [Problem(display, p.line, p.col, p.message) for p in document.problems]
    value = document.value
    if value is None:
        return {}, problems  # an empty file sets nothing
    if not isinstance(value, PosDict):
        line, col = value.pos if isinstance(value, PosList) else (1, 1)
        got = "a list" if isinstance(value, PosList) else "a single value"
        message = f"{DEFAULT_CONFIG} must be a mapping of settings, got {got}"
        problems.append(Problem(display, line, col, message))
        return {}, problems
    settings: Mapping[str, Any] = value
    if not is_valid(schemas.CONFIG, value):
        for line, col, message in explain(
            schemas.CONFIG, value, namer=_name, unknown_key=_credential_message
        ):
            problems.append(Problem(display, line, col, message))
        properties = schemas.load_schema(schemas.CONFIG)["properties"]
        settings = {
            key: item
            for key, item in value.items()
            if key in properties and is_valid(schemas.CONFIG, item, "properties", key)
        }
    flat = _flatten(settings)
    if isinstance(flat.get("snapshots"), str):
        folder, problem = _snapshots_folder(path, flat["snapshots"])
        if problem is None:
            flat["snapshots"] = folder
        else:
            del flat["snapshots"]
            line, col = value.value_pos.get("snapshots", (1, 1))
            problems.append(Problem(display, line, col, problem))
    return flat, sorted(problems)


def _flatten(value: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping of settings (the file's top level, or one environment's section) with
    `safety:` flattened to Settings names and numbers as Python types."""
    flat = {key: item for key, item in value.items() if key != "safety"}
    flat.update(value.get("safety") or {})
    # The schema's "integer" admits 10.0 and "number" admits 1: normalise the Python types.
    for name in ("page_limit", "server_page_cap", "parallelism", "min_existing"):
        if name in flat:
            flat[name] = int(flat[name])
    for name in ("max_delete_fraction", "max_update_fraction"):
        if name in flat:
            flat[name] = float(flat[name])
    return flat


def _snapshots_folder(config_path: str, written: str) -> tuple[str, str | None]:
    """`snapshots:` of a config file, resolved against the file's folder, which it may not
    leave (the file is repository content: `/` or `../..` would read the whole disk)."""
    base = os.path.dirname(config_path)
    folder = os.path.join(base, written)
    if "\0" in written:  # no file system path can hold it: the OS refuses it outright
        return folder, f"'snapshots' must be a folder's path, got {quote(written)} (a NUL byte)"
    if is_within(os.path.realpath(folder), os.path.realpath(base or os.curdir)):
        return folder, None
    return folder, (
        f"'snapshots' must be a folder inside the folder of {os.path.basename(config_path)},"
        f" got {quote(written)} (for a folder elsewhere use --snapshots or RECONCILER_SNAPSHOTS)"
    )


def _name(path: JsonPath) -> str:
    if len(path) >= 2 and isinstance(path[-1], int):
        return f"item {path[-1] + 1} of '{'.'.join(map(str, path[:-1]))}'"
    return f"'{'.'.join(map(str, path))}'" if path else DEFAULT_CONFIG


def _credential_message(key: str, allowed: Sequence[str]) -> str | None:
    if _CREDENTIAL_KEY.search(key):
        return (
            f"credentials are never read from {DEFAULT_CONFIG}: remove {quote(key)};"
            " keys come only from environment variables (DD_API_KEY / DD_APP_KEY, or those"
            " an environment names in api_key_env / app_key_env)"
        )
    return None
