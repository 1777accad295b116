"""A local stand-in for Datadog's RUM replay heatmap snapshot API (four endpoints).

It knows only the public API contract (the OpenAPI fragment and how Datadog's other v2
endpoints behave), nothing of the reconciler's engine, so it tests the engine instead of
mirroring it. Only Starlette, uvicorn and the standard library are used.

Decisions where the contract is silent:
- Order of checks: latency, keys (403), rate limit (429), random 5xx, the path and query
  text (400), the body's media type (415), size (413) and content (400), query (400),
  lookup (404), commit, then maybe a dropped answer. A 403 does not use up the quota.
- A body is read only up to `max_body_bytes` (1 MiB; the real limit is undocumented): a
  larger one is 413, refused by its Content-Length before reading or as soon as the stream
  passes the limit (the admin endpoints have none: benches seed thousands of snapshots
  per request). Only `application/json` is read (another declared type is 415; an
  undeclared one is read as JSON). Bodies that are not UTF-8, JSON's NaN/Infinity, nesting
  past the recursion limit and lone surrogate escapes (`"\\ud800"`) anywhere are 400, as
  are percent-escapes of the path or query that are not UTF-8.
- A trailing slash is not redirected: the spec names no such path, so it is 404.
- Rate limits: fixed windows aligned on multiples of `rate_period` on `settings.clock`, one
  bucket per operation (`replay_heatmap_snapshots_{list,create,update,delete}`).
  `x-ratelimit-reset` is the time left in the window rounded up: always 1..period, never 0.
  Unlimited mode advertises a limit of 1,000,000.
- 400 on unknown fields at any level (body, `data`, attributes), on read-only server
  fields, on PATCH of the four natural-key attributes ("cannot be updated"), on null values,
  on `start` outside int64 or not an integer (true/false rejected). A missing
  `data.attributes` (optional in the schema) is read as {}: 400 naming the required
  attributes. A PATCH `data.id` must be a string; one that differs from the path is
  ignored (the path names the snapshot) unless `reject_mismatched_patch_id`. The body is
  validated before the id is looked up, so a bad body for an unknown id is 400, not 404.
- PATCH: the three required attributes must be present; `session_id` / `view_id` are
  replaced when present and kept when absent (they cannot be cleared: null is rejected).
- List: `filter[view_name]` missing is 400; empty, it lists the view named "" (400 with
  `reject_empty_view_filter`). `page[limit]` must be an int64; 0 or less is an empty page
  (400 with `reject_page_limit_below_one`); larger values are capped at `page_limit_max`
  silently or (`page_cap_mode` reject) refused with 400 "page[limit] must be <= N"; order
  is created_at, id.
  Timestamps are strictly increasing per store, so list order is creation order. HEAD is a
  list without a body (Starlette adds HEAD to GET routes): it never writes.
- Realism options (`shape.py`, `lag.py`) and world faults (`faults.py`) change only what
  the API answers; the store and the admin endpoints always show the truth.
- No natural-key uniqueness: duplicates can be created, as with the real API.
- drop-after-commit: under a real server the response headers (with a Content-Length) go
  out and the connection closes without the body (httpx: RemoteProtocolError); in-process,
  where no connection exists, the committed write is answered 502 (`drop_style`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.emulator.app import create_app
    from reconciler.emulator.server import serve_in_thread
    from reconciler.emulator.settings import EmulatorSettings

__all__ = ["EmulatorSettings", "create_app", "serve_in_thread"]

#: Where each name of the package lives. Imported on first use: the settings (all that
#: `reconciler emulator --help` needs) import neither Starlette nor uvicorn, so the help
#: shows without the `emulator` extra.
_HOMES = {
    "EmulatorSettings": "reconciler.emulator.settings",
    "create_app": "reconciler.emulator.app",
    "serve_in_thread": "reconciler.emulator.server",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
