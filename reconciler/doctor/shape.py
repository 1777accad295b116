"""The shape checks of `reconciler doctor`: what the managed views' listed items look like
(sparse attributes, unknown extra ones, timestamp precision, normalised view names)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any, Final

from reconciler.core import resource
from reconciler.core.model import ViewScope

if TYPE_CHECKING:
    from reconciler.doctor.report import Report


def printable(text: str, limit: int = 120) -> str:
    """Server text fit for one report line: no control characters, bounded."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


Json = dict[str, Any]

#: Attributes the engine reads from every listed item.
EXPECTED_ATTRIBUTES: Final = (
    *resource.KEY_FIELDS,
    *resource.REQUIRED_MUTABLE_FIELDS,
    *resource.TIMESTAMP_FIELDS,
)
KNOWN_ATTRIBUTES: Final = frozenset(
    (*resource.KEY_FIELDS, *resource.MUTABLE_FIELDS, *resource.SERVER_FIELDS)
)
_TIMESTAMP: Final = re.compile(r"T\d\d:\d\d:\d\d(?:\.(\d+))?(?:Z|[+-]\d\d:?\d\d)$")


def check_shape(listed: Mapping[ViewScope, list[Json]], report: Report) -> None:
    items = [item for scope_items in listed.values() for item in scope_items]
    if not items:
        report.add("unknown", "items", "no snapshots in the managed views to inspect")
        return
    _check_attributes(items, report)
    _check_timestamps(items, report)
    _check_view_names(listed, report)


def _check_attributes(items: Sequence[Json], report: Report) -> None:
    missing: Counter[str] = Counter()
    extra: set[str] = set()
    for item in items:
        attributes = item["attributes"]
        missing.update(name for name in EXPECTED_ATTRIBUTES if attributes.get(name) is None)
        extra.update(name for name in attributes if name not in KNOWN_ATTRIBUTES)
    if missing:
        gaps = ", ".join(f"no `{name}` for {n} of {len(items)}" for name, n in missing.items())
        report.add("differs", "items", f"sparse: the API returned {gaps} listed snapshots")
    else:
        report.add("ok", "items", f"complete: every attribute on all {len(items)} listed snapshots")
    if extra:
        report.add(
            "note",
            "items",
            f"unknown extra attributes (ignored): {printable(', '.join(sorted(extra)), 300)}",
        )


def _check_timestamps(items: Sequence[Json], report: Report) -> None:
    digits: set[int] = set()
    for item in items:
        for name in resource.TIMESTAMP_FIELDS:
            value = item["attributes"].get(name)
            if value is None:
                continue
            match = _TIMESTAMP.search(value) if isinstance(value, str) else None
            if match is None:
                shown = printable(repr(value), 80)
                report.add("differs", "timestamps", f"`{name}` {shown} is not ISO-8601")
                return
            digits.add(len(match.group(1) or ""))
    if len(digits) > 1:
        seen = ", ".join(map(str, sorted(digits)))
        report.add(
            "differs",
            "timestamps",
            f"variable precision: {seen} fraction digits seen; order by parsed time, not text",
        )
    elif digits:
        report.add("ok", "timestamps", f"fixed precision: {digits.pop()} fraction digits")


_STEPS: Final[dict[str, Callable[[str], str]]] = {
    "Unicode NFC": lambda text: unicodedata.normalize("NFC", text),
    "lower case": str.lower,
    "trailing slash stripped": lambda text: text.rstrip("/") or "/",
}


def normalization_rule(sent: str, listed: str) -> str:
    """The smallest combination of common rules that turns `sent` into `listed`."""
    for size in range(1, len(_STEPS) + 1):
        for names in combinations(_STEPS, size):
            text = sent
            for name in names:
                text = _STEPS[name](text)
            if text == listed:
                return " + ".join(names)
    return "a rule not recognised"


def _check_view_names(listed: Mapping[ViewScope, list[Json]], report: Report) -> None:
    for scope, items in sorted(listed.items()):
        for item in items:
            name = item["attributes"].get("view_name")
            if isinstance(name, str) and name != scope.view_name:
                rule = normalization_rule(scope.view_name, name)
                report.add(
                    "differs",
                    "view names",
                    f"normalised on write: {scope.view_name!r} is listed as "
                    f"{printable(repr(name))} (rule seen: {rule})",
                )
                return
    report.add("ok", "view names", "listed as sent (no normalisation seen)")
