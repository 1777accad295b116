"""How answers look, where the API's documentation leaves it open: error bodies, sparse list
items, timestamp precision, unknown extra attributes. Applied to copies of the store's
canonical data as they go out, so the store and the admin endpoints never see them."""

from __future__ import annotations

import hashlib
from http import HTTPStatus
from typing import Any, Final

from reconciler.emulator.settings import EmulatorSettings

Json = dict[str, Any]

#: Unknown attributes of several JSON types, as a newer API version might add them.
EXTRA_ATTRIBUTES: Final[Json] = {
    "heatmap_type": "click",
    "is_archived": False,
    "revision": 3,
    "metadata": {"source": "emulator", "tags": []},
}
_TIMESTAMPS: Final = ("created_at", "modified_at")


def error_body(settings: EmulatorSettings, status: int, messages: list[str]) -> Json:
    """`{"errors": ["msg"]}`, or the JSON:API-like objects other Datadog v2 endpoints send."""
    if settings.error_style == "strings":
        return {"errors": list(messages)}
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return {
        "errors": [
            {"status": str(status), "title": title, "detail": message} for message in messages
        ]
    }


def fraction_digits(seed: int | None, snapshot_id: str, name: str) -> int:
    """0 to 6, fixed per (seed, snapshot, field): a snapshot always answers the same form."""
    digest = hashlib.blake2b(f"{seed}|{snapshot_id}|{name}".encode(), digest_size=2).digest()
    return digest[0] % 7


def vary_precision(text: str, digits: int) -> str:
    """A canonical `YYYY-MM-DDTHH:MM:SS.mmmZ` with `digits` fraction digits, never losing
    information: fewer than 3 only where the dropped digits are zeros (as servers that trim
    trailing zeros answer), more than 3 padded with zeros."""
    if len(text) != 24 or text[19] != "." or not text.endswith("Z"):
        return text
    millis = text[20:23]
    needed = len(millis.rstrip("0"))
    shown = (millis + "000")[: max(digits, needed)]
    return f"{text[:19]}.{shown}Z" if shown else f"{text[:19]}Z"


def snapshot(settings: EmulatorSettings, data: Json, *, listed: bool) -> Json:
    """One snapshot as answered: `listed` items may be sparse."""
    sparse = settings.sparse_items if listed else ()
    variable = settings.timestamp_precision == "variable"
    if not (sparse or variable or settings.extra_attributes):
        return data
    attributes: Json = {}
    for name, value in data["attributes"].items():
        if name in sparse:
            continue
        if variable and name in _TIMESTAMPS and isinstance(value, str):
            value = vary_precision(value, fraction_digits(settings.seed, data["id"], name))
        attributes[name] = value
    if settings.extra_attributes:
        for name, value in EXTRA_ATTRIBUTES.items():
            if name not in sparse:
                attributes[name] = value
    return {**data, "attributes": attributes}
