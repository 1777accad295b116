"""Reading what the server said: error messages from error bodies, and the shape checks of a
success body. Server text is masked (`secrets.redact`) before any excerpt is cut from it, so
a cut through an echoed key cannot leak the key's prefix.
"""

from __future__ import annotations

import json
from typing import Any, Final

from reconciler.core import resource
from reconciler.core.secrets import redact

#: Longest excerpt of a non-JSON body quoted in an error.
EXCERPT_CHARS: Final = 200
#: Most server messages quoted in one error, each at most MESSAGE_CHARS long.
MAX_MESSAGES: Final = 10
MESSAGE_CHARS: Final = 500


def truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def redact_body(body: bytes) -> bytes:
    """`body` with every known key masked (a no-op unless a piece of a key occurs in it)."""
    text = body.decode("utf-8", "replace")
    cleaned = redact(text)
    return body if cleaned == text else cleaned.encode()


def error_messages(body: bytes) -> tuple[str, ...]:
    """The server's messages from an error body: `{"errors": ["msg"]}`, `{"errors":
    [{"status", "title", "detail"}]}`, else a short excerpt of the raw text."""
    if not body.strip():
        return ()
    # Mask echoed keys before any excerpt is cut: a cut through a key would defeat the mask.
    body = redact_body(body)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        excerpt = truncate(body[: EXCERPT_CHARS * 4].decode("utf-8", "replace"), EXCERPT_CHARS)
        return (f"response body: {excerpt}",)
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return (f"response body: {truncate(json.dumps(document)[:2000], EXCERPT_CHARS)}",)
    messages: list[str] = []
    for item in errors[:MAX_MESSAGES]:
        if isinstance(item, str):
            messages.append(truncate(item, MESSAGE_CHARS))
        elif isinstance(item, dict):
            title, detail = item.get("title"), item.get("detail")
            words = [str(word) for word in (title, detail) if isinstance(word, str) and word]
            if words:
                # Joined, then masked again: a key split across title and detail.
                joined = redact(": ".join(words))
                messages.append(truncate(joined, MESSAGE_CHARS))
    if len(errors) > MAX_MESSAGES:
        messages.append(f"... and {len(errors) - MAX_MESSAGES} more")
    return tuple(messages)


class Malformed(Exception):
    """A success response whose body is not what the API promises."""


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        cleaned = redact_body(body)  # before the cut, as in error_messages
        excerpt = truncate(cleaned[:800].decode("utf-8", "replace"), EXCERPT_CHARS)
        raise Malformed(f"body is not JSON: {excerpt!r}") from None


def data_member(body: Any) -> object:
    if not isinstance(body, dict):
        raise Malformed(f"expected a JSON object, got {type(body).__name__}")
    if "data" not in body:
        raise Malformed("no `data` member")
    return body["data"]


def check_snapshot(item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Malformed(f"{where} is {type(item).__name__}, expected an object")
    if not isinstance(item.get("id"), str) or not item["id"]:
        raise Malformed(f"{where} has no string `id`")
    if item.get("type") != resource.RESOURCE_TYPE:
        raise Malformed(f"{where} has `type` {item.get('type')!r}, expected 'snapshots'")
    if not isinstance(item.get("attributes"), dict):
        raise Malformed(f"{where} has no `attributes` object")
    return item


def snapshot_list(body: bytes) -> list[dict[str, Any]]:
    items = data_member(parse_json(body))
    if not isinstance(items, list):
        raise Malformed(f"`data` is {type(items).__name__}, expected a list")
    return [check_snapshot(item, f"data[{i}]") for i, item in enumerate(items)]


def one_snapshot(body: bytes) -> dict[str, Any]:
    return check_snapshot(data_member(parse_json(body)), "data")
