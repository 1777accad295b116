"""Settings of the emulator: what it accepts, how it pages and answers, which faults it
injects. `setting_problems` is the one authority on valid values, for the command line and
for `POST /_emulator/config` alike."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import UnionType
from typing import Any, Final, Literal, get_args, get_origin, get_type_hints

from reconciler.emulator.attributes import ITEM_ATTRIBUTES

DropStyle = Literal["auto", "disconnect", "status"]
PageCapMode = Literal["silent", "reject"]
TimestampPrecision = Literal["fixed", "variable"]
ErrorStyle = Literal["strings", "objects"]

#: Attribute names that `sparse_items` may leave out of list items.
SPARSE_CANDIDATES: Final = ITEM_ATTRIBUTES


def _live(default: Any, help: str) -> Any:
    """A setting that may change while the emulator runs (`POST /_emulator/config`); `help`
    says what it does (the command line's option `--NAME` shows it)."""
    return field(default=default, metadata={"help": help})


@dataclass
class EmulatorSettings:
    """Settings read live by the app on every request, so tests (and `/_emulator/config`)
    may change the behaviour of a running emulator. Every default is the plain behaviour.
    The live ones are in the order the config endpoint reports them.

    Where the published spec sets no rule, the default is the spec's behaviour and a
    `reject_*` setting adds the stricter 400: `page[limit]` of 0 or less is an empty page
    (an int64 "maximum number", no minimum), an empty `filter[view_name]` is the view named
    "" (a string, no minLength), a PATCH `data.id` other than the path's updates the path's
    snapshot (no rule between them). `max_body_bytes` is an assumption: the real limit is
    not documented."""

    db_path: str = ":memory:"
    # (api_key, app_key) pairs; None accepts any pair of non-empty keys.
    accepted_keys: tuple[tuple[str, str], ...] | None = None
    seed: int | None = None
    # ---- faults: a random 500/502/503/504 comes before the store is touched ----------------
    fail_rate: float = _live(0.0, "Fraction of requests answered 5xx.")
    latency_ms: float = _live(0.0, "Added latency per request.")
    drop_after_commit_rate: float = _live(
        0.0, "Fraction of writes committed, then answered by a dropped connection or a 502."
    )
    # One bucket per operation (list/create/update/delete).
    rate_limit: int | None = _live(
        None, "Requests allowed per period, per operation (default: unlimited)."
    )
    rate_period: int = _live(1, "Seconds.")
    page_limit_default: int = _live(100, "page[limit] of a listing that names none.")
    # What happens above the cap is `page_cap_mode`.
    page_limit_max: int = _live(1000, "The server's page cap.")
    page_cap_mode: PageCapMode = _live(
        "silent", "Above the cap: cut the page silently, or answer 400 'page[limit] must be <= N'."
    )
    # ---- limits and strictness the spec does not state -------------------------------------
    # The real limit is not documented. 1 MiB is an assumption: about 2,500 times a create
    # body, and below the limits Datadog documents for its intake endpoints (5 MB for logs).
    max_body_bytes: int = _live(
        1_048_576, "Largest request body of the four endpoints; a larger one is answered 413."
    )
    # Each default below is the spec's behaviour; True adds a 400 the spec does not state.
    reject_page_limit_below_one: bool = _live(
        False, "Answer 400 to page[limit] of 0 or less (default, as the spec: an empty page)."
    )
    reject_empty_view_filter: bool = _live(
        False, "Answer 400 to an empty filter[view_name] (default, as the spec: the view '')."
    )
    reject_mismatched_patch_id: bool = _live(
        False,
        "Answer 400 to a PATCH whose data.id is not the path's (default, as the spec: the "
        "path names the snapshot).",
    )
    # ---- realism: behaviours the API's documentation leaves open ----------------------------
    # Measured on `clock`, from the commit.
    list_lag_ms: float = _live(0.0, "Writes show in listings this late.")
    sparse_items: tuple[str, ...] = _live((), "Attributes left out of list items.")
    # The fraction digits are seeded, and lossless.
    timestamp_precision: TimestampPrecision = _live(
        "fixed", "variable: created_at / modified_at with 0 to 6 fraction digits."
    )
    normalize_view_names: bool = _live(
        False, "Store view names as NFC, lower case, without trailing slash; filter likewise."
    )
    error_style: ErrorStyle = _live(
        "strings", '{"errors": ["..."]} or {"errors": [{"status", "title", "detail"}]}.'
    )
    extra_attributes: bool = _live(False, "Unknown extra attributes on items.")
    # ---- world faults ------------------------------------------------------------------------
    # Of the non-empty list answers; the item repeated keeps its id.
    repeat_ids_rate: float = _live(0.0, "Listings with an id twice.")
    create_without_id_rate: float = _live(
        0.0, "Creates committed and answered 201 without data.id (or without a body)."
    )
    concurrent_writer_rate: float = _live(
        0.0, "Creates that another writer makes too, at the same moment."
    )
    # Rate-limit windows and listing lag are measured with this clock (tests: a fake one).
    clock: Callable[[], float] = time.monotonic
    # Source of created_at / modified_at (seconds since the epoch).
    wall_clock: Callable[[], float] = time.time
    # How a drop-after-commit manifests: "disconnect" closes the connection after the
    # response headers, "status" answers 502, "auto" disconnects when a real server runs the
    # app (it sent the ASGI lifespan startup) and answers 502 in-process (httpx.ASGITransport).
    drop_style: DropStyle = "auto"
    org_id: int = 1234
    created_by: str = "Emulator User"
    created_by_handle: str = "emulator@example.com"
    created_by_user_id: int = 4242


def _json_types(hint: Any) -> tuple[type, ...]:
    """The JSON types a setting of this Python type accepts."""
    if hint is float:
        return (int, float)
    if get_origin(hint) is Literal:
        return (str,)
    if get_origin(hint) is tuple:
        return (list, tuple)
    if get_origin(hint) is UnionType:
        return get_args(hint)
    return (hint,)


_TYPES: Final = get_type_hints(EmulatorSettings)
_LIVE: Final = [setting for setting in fields(EmulatorSettings) if "help" in setting.metadata]
#: The settings that may change while the emulator runs (`POST /_emulator/config`), with
#: their JSON types. Keys and storage are fixed at start.
CONFIGURABLE: Final = {setting.name: _json_types(_TYPES[setting.name]) for setting in _LIVE}
#: What each of them does, for the command line's help.
HELP: Final[dict[str, str]] = {setting.name: setting.metadata["help"] for setting in _LIVE}
#: The values of those that are a choice, from their Literal types.
CHOICES: Final[dict[str, tuple[str, ...]]] = {
    name: get_args(_TYPES[name]) for name in CONFIGURABLE if get_origin(_TYPES[name]) is Literal
}
_AT_LEAST_ONE: Final = ("rate_period", "page_limit_default", "page_limit_max", "max_body_bytes")
# Past this, numbers stop being numbers for SQLite (LIMIT) and for float arithmetic (windows).
_LARGEST: Final = 2**63 - 1


def setting_problems(values: Mapping[str, Any], name_of: Callable[[str], str]) -> list[str]:
    """Problems of the given setting values; `name_of` spells a setting for the message
    (`--fail-rate` on the command line, `'fail_rate'` in the config endpoint)."""
    problems: list[str] = []
    for name, value in values.items():
        shown = name_of(name)
        types = CONFIGURABLE.get(name)
        if types is None:
            problems.append(f"{shown} cannot be configured")
            continue
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            problems.append(f"{shown} has the wrong type")
            continue
        if value is None or isinstance(value, bool):
            continue
        if name in CHOICES:
            if value not in CHOICES[name]:
                problems.append(f"{shown} must be one of {', '.join(CHOICES[name])}")
        elif name == "sparse_items" and isinstance(value, list | tuple):
            unknown = [item for item in value if item not in SPARSE_CANDIDATES]
            if unknown:
                problems.append(f"{shown}: unknown attribute(s) {', '.join(map(str, unknown))}")
        elif not isinstance(value, int | float):
            continue
        elif not -_LARGEST <= value <= _LARGEST:  # NaN and infinities too
            problems.append(f"{shown} must be a finite number up to {_LARGEST}")
        elif name.endswith("_rate") and not 0 <= value <= 1:
            problems.append(f"{shown} must be between 0 and 1")
        elif value < 0:
            problems.append(f"{shown} must not be negative")
        elif name in _AT_LEAST_ONE and value < 1:
            problems.append(f"{shown} must be at least 1")
    return problems


def apply_settings(settings: EmulatorSettings, values: Mapping[str, Any]) -> None:
    """Set already checked values (lists become tuples, as the dataclass declares)."""
    for name, value in values.items():
        setattr(settings, name, tuple(value) if isinstance(value, list) else value)
