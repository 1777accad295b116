"""Request validation against the OpenAPI contract: every problem becomes a 4xx answer
with messages (400 for the body and the query)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, NoReturn

from reconciler.emulator.attributes import ATTRIBUTE_TYPES, CREATE_REQUIRED, SERVER_FIELDS

Json = dict[str, Any]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

UPDATE_REQUIRED = ("event_id", "start", "is_device_type_selected_by_user")
UPDATE_ACCEPTED = (*UPDATE_REQUIRED, "session_id", "view_id")

# What is left of a surrogate once json has paired the valid ones: a lone half, which no
# UTF-8 text can hold (it cannot even be encoded to answer it back).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"-?[0-9]+")


class Refused(Exception):
    """A request the API answers with `status` and these messages."""

    status: ClassVar[int] = 400

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class BadRequest(Refused):
    """400: the body, the query or the path breaks the contract."""


class PayloadTooLarge(Refused):
    status = 413


class UnsupportedMediaType(Refused):
    status = 415


def _not_json(constant: str) -> NoReturn:
    # Python's json reads NaN and Infinity; JSON (RFC 8259) has no such literals.
    raise ValueError(f"{constant} is not JSON")


def parse_json(body: bytes) -> Any:
    """The JSON value of a body that must be UTF-8 text (RFC 8259), with every string (keys
    too) valid Unicode: malformed text is a 400, never a 500."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest([f"request body is not valid UTF-8 (byte {exc.start})"]) from None
    try:
        value = json.loads(text, parse_constant=_not_json)
    except ValueError as exc:
        raise BadRequest([f"invalid JSON in request body: {exc}"]) from None
    except RecursionError:
        raise BadRequest(["invalid JSON in request body: nested too deeply"]) from None
    if holds_lone_surrogate(value):
        raise BadRequest(["request body holds a lone surrogate escape (\\ud800-\\udfff)"])
    return value


def holds_lone_surrogate(value: Any) -> bool:
    # Iterative: a value json accepted may be nested nearly as deep as the recursion limit.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _type_problem(name: str, value: Any) -> str | None:
    expected = ATTRIBUTE_TYPES[name]
    if expected is int:
        # JSON true/false are bools in Python, and bool is a subclass of int.
        if not isinstance(value, int) or isinstance(value, bool):
            return f"attribute '{name}' must be an integer"
        if not INT64_MIN <= value <= INT64_MAX:
            return f"attribute '{name}' must fit in a 64-bit integer"
        return None
    if expected is bool:
        return None if isinstance(value, bool) else f"attribute '{name}' must be a boolean"
    return None if isinstance(value, str) else f"attribute '{name}' must be a string"


def check_attributes(
    attributes: Any, required: tuple[str, ...], accepted: tuple[str, ...], updating: bool
) -> list[str]:
    """Problems of an attributes object: missing, unknown, read-only, not updatable, mistyped."""
    if not isinstance(attributes, Mapping):
        return ["'data.attributes' must be an object"]
    problems = [
        f"missing required attribute '{name}'" for name in required if name not in attributes
    ]
    for name, value in attributes.items():
        if name in accepted:
            problem = _type_problem(name, value)
            if problem:
                problems.append(problem)
        elif updating and name in ATTRIBUTE_TYPES:
            problems.append(f"attribute '{name}' cannot be updated")
        elif name in SERVER_FIELDS:
            problems.append(f"attribute '{name}' is read-only")
        else:
            problems.append(f"unknown attribute '{name}'")
    return problems


def _data_object(body: Any, allowed_keys: tuple[str, ...]) -> tuple[Json, list[str]]:
    if not isinstance(body, Mapping):
        raise BadRequest(["request body must be a JSON object"])
    if "data" not in body:
        raise BadRequest(["missing required field 'data'"])
    problems = [f"unknown field '{key}'" for key in body if key != "data"]
    data = body["data"]
    if not isinstance(data, Mapping):
        raise BadRequest(["'data' must be an object"])
    problems += [f"unknown field 'data.{key}'" for key in data if key not in allowed_keys]
    if "type" not in data:
        problems.append("missing required field 'data.type'")
    elif data["type"] != "snapshots":
        problems.append(f"'data.type' must be 'snapshots', got {json.dumps(data['type'])}")
    # `data.attributes` is optional in the schema, but the attributes object requires some:
    # an absent one is read as {} and answered with the attributes missing (Datadog's other
    # v2 endpoints answer 400 to a write lacking what it needs).
    data = dict(data)
    data.setdefault("attributes", {})
    return data, problems


def validate_create(body: Any) -> Json:
    """The attributes of a valid create request body."""
    data, problems = _data_object(body, ("type", "attributes"))
    problems += check_attributes(
        data["attributes"], CREATE_REQUIRED, tuple(ATTRIBUTE_TYPES), updating=False
    )
    if problems:
        raise BadRequest(problems)
    return dict(data["attributes"])


def validate_update(body: Any, snapshot_id: str, *, reject_mismatched_id: bool = False) -> Json:
    """The attributes of a valid update request body for the snapshot in the path.
    `data.id` is optional and, per the spec, has no rule against the path (the path names
    the snapshot); `reject_mismatched_id` refuses one that names another."""
    data, problems = _data_object(body, ("id", "type", "attributes"))
    if "id" in data and not isinstance(data["id"], str):
        problems.append("'data.id' must be a string")
    elif reject_mismatched_id and "id" in data and data["id"] != snapshot_id:
        problems.append(
            f"'data.id' {json.dumps(data['id'])} does not match the snapshot id in the path "
            f"{json.dumps(snapshot_id)}"
        )
    problems += check_attributes(
        data["attributes"], UPDATE_REQUIRED, UPDATE_ACCEPTED, updating=True
    )
    if problems:
        raise BadRequest(problems)
    return dict(data["attributes"])


def parse_timestamp_ms(value: Any, name: str) -> int:
    """Milliseconds since the epoch of an ISO-8601 timestamp (naive means UTC)."""
    if not isinstance(value, str):
        raise BadRequest([f"'{name}' must be an ISO-8601 string"])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest([f"'{name}' is not an ISO-8601 timestamp: {value!r}"]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


def validate_seed_item(item: Any, index: int) -> tuple[Json, int | None, int | None]:
    """Attributes of one admin seed item, plus its optional created_at / modified_at in ms."""
    if not isinstance(item, Mapping):
        raise BadRequest([f"data[{index}] must be an object of attributes"])
    attributes = {k: v for k, v in item.items() if k not in ("created_at", "modified_at")}
    problems = check_attributes(attributes, CREATE_REQUIRED, tuple(ATTRIBUTE_TYPES), updating=False)
    if problems:
        raise BadRequest([f"data[{index}]: {problem}" for problem in problems])
    created = parse_timestamp_ms(item["created_at"], "created_at") if "created_at" in item else None
    modified = (
        parse_timestamp_ms(item["modified_at"], "modified_at") if "modified_at" in item else None
    )
    return attributes, created, modified


def parse_page_limit(
    raw: str | None,
    default: int,
    maximum: int,
    *,
    reject: bool = False,
    reject_below_one: bool = False,
) -> int:
    """page[limit]: an integer (int64, as the spec declares it). Larger than the maximum is
    capped silently, or, with `reject`, refused as Datadog's other v2 endpoints do ("must
    be <= 500"). The spec sets no minimum: 0 or less asks for at most that many, so none;
    `reject_below_one` refuses it instead."""
    if raw is None:
        return min(default, maximum)
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        raise BadRequest([f"page[limit] must be an integer, got {raw!r}"])
    # The length first: int() of thousands of digits is slow, then refused (ValueError).
    if len(text.lstrip("-")) > 19 or not INT64_MIN <= int(text) <= INT64_MAX:
        raise BadRequest(["page[limit] must fit in a 64-bit integer"])
    value = int(text)
    if value < 1:
        if reject_below_one:
            raise BadRequest([f"page[limit] must be a positive integer, got {raw!r}"])
        return 0
    if reject and value > maximum:
        raise BadRequest([f"page[limit] must be <= {maximum}"])
    return min(value, maximum)


def normalize_view_name(name: str) -> str:
    """The rule of `normalize_view_names`, as URL-path-keyed services apply it: Unicode NFC,
    lower case, trailing slashes stripped (the root "/" stays "/")."""
    normalized = unicodedata.normalize("NFC", name).lower()
    stripped = normalized.rstrip("/")
    return stripped if stripped or not normalized else "/"
