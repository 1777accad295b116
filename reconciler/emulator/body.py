"""Reading what a request carries, as a gateway would: the media type of the body (415), its
size (413, streamed: never more than the limit is held), the text of the path and the query
(400 when it is not UTF-8), then the JSON (400)."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from reconciler.emulator.validation import (
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    parse_json,
)


def check_url_text(request: Request) -> None:
    """Percent-escapes in the path and the query must decode to UTF-8: the server decodes
    them with replacement characters, which would name another snapshot or view silently."""
    raw_path = request.scope.get("raw_path")
    parts = {"query string": request.scope.get("query_string", b"")}
    if isinstance(raw_path, bytes):
        parts["path"] = raw_path
    for part, raw in parts.items():
        try:
            unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest([f"the {part} is not valid UTF-8 (byte {exc.start})"]) from None


def _media_type(request: Request) -> str | None:
    value = request.headers.get("content-type")
    return None if value is None else value.split(";", 1)[0].strip().lower()


async def read_json(request: Request, limit: int) -> Any:
    """The JSON body of a create or an update. The spec describes `application/json` only:
    any other declared type is 415. A body without a Content-Type is read as JSON (RFC 9110
    lets a recipient examine the data); the official clients always declare it."""
    media_type = _media_type(request)
    if media_type is not None and media_type != "application/json":
        raise UnsupportedMediaType([f"unsupported media type {media_type!r}: use application/json"])
    return parse_json(await read_limited(request, limit))


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to exceed `limit` bytes: by its declared
    Content-Length before reading any, else while streaming it. The rest is not read here
    (the server discards it once the answer is sent)."""
    too_large = PayloadTooLarge([f"request body larger than {limit} bytes"])
    declared = request.headers.get("content-length", "").strip()
    if declared.isascii() and declared.isdigit() and (len(declared) > 19 or int(declared) > limit):
        raise too_large
    body = bytearray()
    async with aclosing(request.stream()) as stream:
        async for chunk in stream:
            body += chunk
            if len(body) > limit:
                raise too_large
    return bytes(body)
