"""JSON responses in the API's shape (compact, UTF-8)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """`body` None means no body at all (204)."""
    if body is None:
        return Response(status_code=status, headers=headers)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status, headers, media_type="application/json")


def without_body(response: Response) -> Response:
    """The answer to a HEAD: the GET's status and headers (its Content-Length too), no body."""
    head = Response(status_code=response.status_code)
    head.raw_headers = list(response.raw_headers)
    return head
