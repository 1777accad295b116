"""Settings of the emulator: what it accepts, how it pages and answers, which faults it
injects. `setting_problems` is the one authority on valid values, for the command line and
for `POST /_emulator/config` alike."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from reconciler.emulator.attributes import ITEM_ATTRIBUTES

DropStyle = Literal["auto", "disconnect", "status"]
PageCapMode = Literal["silent", "reject"]
TimestampPrecision = Literal["fixed", "variable"]
ErrorStyle = Literal["strings", "objects"]

#: Attribute names that `sparse_items` may leave out of list items.
SPARSE_CANDIDATES: Final = ITEM_ATTRIBUTES


@dataclass
class EmulatorSettings:
    """Settings read live by the app on every request, so tests (and `/_emulator/config`)
    may change the behaviour of a running emulator. Every default is the plain behaviour."""

    db_path: str = ":memory:"
    # (api_key, app_key) pairs; None accepts any pair of non-empty keys.
    accepted_keys: tuple[tuple[str, str], ...] | None = None
    page_limit_default: int = 100
    # The server's page cap; what happens above it is `page_cap_mode`.
    page_limit_max: int = 1000
    # silent: a larger page[limit] is cut to the cap; reject: 400 "page[limit] must be <= N".
    page_cap_mode: PageCapMode = "silent"
    # Requests per period, per operation bucket (list/create/update/delete); None = unlimited.
    rate_limit: int | None = None
    rate_period: int = 1
    # Fraction of API requests answered with a random 500/502/503/504 before the store is touched.
    fail_rate: float = 0.0
    latency_ms: float = 0.0
    # Fraction of writes committed and then answered by a dropped connection (or a 502).
    drop_after_commit_rate: float = 0.0
    seed: int | None = None
    # ---- realism: behaviours the API's documentation leaves open ----------------------------
    # A write shows in listings only this long (on `clock`) after its commit.
    list_lag_ms: float = 0.0
    # Attribute names left out of list items.
    sparse_items: tuple[str, ...] = ()
    # variable: created_at / modified_at with 0 to 6 fraction digits (seeded, lossless).
    timestamp_precision: TimestampPrecision = "fixed"
    # view_name stored as NFC, lower case, trailing slashes stripped; the filter likewise.
    normalize_view_names: bool = False
    # strings: {"errors": ["msg"]}; objects: {"errors": [{"status", "title", "detail"}]}.
    error_style: ErrorStyle = "strings"
    # Unknown extra attributes on every snapshot answered.
    extra_attributes: bool = False
    # ---- world faults ------------------------------------------------------------------------
    # Fraction of non-empty list answers in which one item appears twice (same id).
    repeat_ids_rate: float = 0.0
    # Fraction of creates committed and answered 201 without `data.id` (or with no body).
    create_without_id_rate: float = 0.0
    # Fraction of creates for which another writer commits an identical snapshot too.
    concurrent_writer_rate: float = 0.0
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


#: Settings that may change while the emulator runs (`POST /_emulator/config`), with their
#: JSON types. Keys and storage are fixed at start.
CONFIGURABLE: Final[dict[str, tuple[type, ...]]] = {
    "fail_rate": (int, float),
    "latency_ms": (int, float),
    "drop_after_commit_rate": (int, float),
    "rate_limit": (int, type(None)),
    "rate_period": (int,),
    "page_limit_default": (int,),
    "page_limit_max": (int,),
    "page_cap_mode": (str,),
    "list_lag_ms": (int, float),
    "sparse_items": (list, tuple),
    "timestamp_precision": (str,),
    "normalize_view_names": (bool,),
    "error_style": (str,),
    "extra_attributes": (bool,),
    "repeat_ids_rate": (int, float),
    "create_without_id_rate": (int, float),
    "concurrent_writer_rate": (int, float),
}
_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "page_cap_mode": ("silent", "reject"),
    "timestamp_precision": ("fixed", "variable"),
    "error_style": ("strings", "objects"),
}
_AT_LEAST_ONE: Final = ("rate_period", "page_limit_default", "page_limit_max")


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
        if name in _CHOICES:
            if value not in _CHOICES[name]:
                problems.append(f"{shown} must be one of {', '.join(_CHOICES[name])}")
        elif name == "sparse_items" and isinstance(value, list | tuple):
            unknown = [item for item in value if item not in SPARSE_CANDIDATES]
            if unknown:
                problems.append(f"{shown}: unknown attribute(s) {', '.join(map(str, unknown))}")
        elif not isinstance(value, int | float):
            continue
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
