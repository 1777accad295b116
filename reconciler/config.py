"""Settings: command-line option > environment > reconciler.yaml > default.

Credentials are deliberately absent: they come only from DD_API_KEY / DD_APP_KEY, read by
the HTTP client, never from a file in the repository.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from reconciler import schemas
from reconciler.desired import display_path
from reconciler.errors import InvalidInput, UsageProblem
from reconciler.model import Problem
from reconciler.schemacheck import JsonPath, compile_schema, explain, quote
from reconciler.yamlload import PosDict, PosList, load_bytes, read_file

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
    parallelism: int = 4
    max_delete_fraction: float = 0.3
    max_update_fraction: float = 0.3
    min_existing: int = 10
    ignore: tuple[str, ...] = ()
    config_path: str | None = None  # the reconciler.yaml that was read, if any


_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(Settings)) - {"config_path"}


def load_settings(
    config_path: str | None, overrides: Mapping[str, object], environ: Mapping[str, str]
) -> Settings:
    """Merge the four layers. Raises InvalidInput for a bad reconciler.yaml (positioned
    problems) and UsageProblem for a bad environment variable or a missing --config file."""
    unknown = set(overrides) - _FIELDS
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    path = find_config(config_path)
    values: dict[str, Any] = {}
    if path is not None:
        file_values, problems = read_config(path)
        if problems:
            raise InvalidInput(problems)
        values.update(file_values)
    values.update(settings_from_environment(environ))
    values.update({name: value for name, value in overrides.items() if value is not None})
    if "ignore" in values:
        values["ignore"] = tuple(values["ignore"])
    return Settings(**values, config_path=path)


def find_config(config_path: str | None) -> str | None:
    """The explicit path (which must exist), else ./reconciler.yaml when present."""
    if config_path is not None:
        if not Path(config_path).is_file():
            raise UsageProblem(f"config file not found: {config_path}")
        return config_path
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None


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
    schema = schemas.load_schema(schemas.CONFIG)
    if not compile_schema(schema)(value):
        for line, col, message in explain(
            schemas.CONFIG, value, namer=_name, unknown_key=_credential_message
        ):
            problems.append(Problem(display, line, col, message))
        properties = schema["properties"]
        value = {
            key: item
            for key, item in value.items()
            if key in properties and compile_schema(schema, properties[key])(item)
        }
    flat = {key: item for key, item in value.items() if key != "safety"}
    flat.update(value.get("safety") or {})
    # The schema's "integer" admits 10.0 and "number" admits 1: normalise the Python types.
    for name in ("page_limit", "server_page_cap", "parallelism", "min_existing"):
        if name in flat:
            flat[name] = int(flat[name])
    for name in ("max_delete_fraction", "max_update_fraction"):
        if name in flat:
            flat[name] = float(flat[name])
    return flat, sorted(problems)


def _name(path: JsonPath) -> str:
    if len(path) >= 2 and isinstance(path[-1], int):
        return f"item {path[-1] + 1} of '{'.'.join(map(str, path[:-1]))}'"
    return f"'{'.'.join(map(str, path))}'" if path else DEFAULT_CONFIG


def _credential_message(key: str, allowed: Sequence[str]) -> str | None:
    if _CREDENTIAL_KEY.search(key):
        return (
            f"credentials are never read from {DEFAULT_CONFIG}: remove {quote(key)};"
            " keys come only from the DD_API_KEY / DD_APP_KEY environment variables"
        )
    return None
