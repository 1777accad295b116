"""A local stand-in for Datadog's RUM replay heatmap snapshot API (four endpoints).

It knows only the public API contract (the OpenAPI fragment and how Datadog's other v2
endpoints behave), nothing of the reconciler's engine, so it tests the engine instead of
mirroring it. Only Starlette, uvicorn and the standard library are used.

Decisions where the contract is silent:
- Order of checks: latency, keys (403), rate limit (429), random 5xx, body/query (400),
  lookup (404), commit, then maybe a dropped answer. A 403 does not use up the quota.
- Rate limits: fixed windows aligned on multiples of `rate_period` on `settings.clock`, one
  bucket per operation (`replay_heatmap_snapshots_{list,create,update,delete}`).
  `x-ratelimit-reset` is the time left in the window rounded up: always 1..period, never 0.
  Unlimited mode advertises a limit of 1,000,000.
- 400 on unknown fields at any level (body, `data`, attributes), on read-only server
  fields, on PATCH of the four natural-key attributes ("cannot be updated"), on null values,
  on `start` outside int64 or not an integer (true/false rejected), on a PATCH `data.id`
  that differs from the path id (an absent `data.id` is fine). The body is validated before
  the id is looked up, so a bad body for an unknown id is 400, not 404.
- PATCH: the three required attributes must be present; `session_id` / `view_id` are
  replaced when present and kept when absent (they cannot be cleared: null is rejected).
- List: `filter[view_name]` missing or empty is 400; `page[limit]` must be a positive
  integer, larger values are capped at `page_limit_max` silently or (`page_cap_mode`
  reject) refused with 400 "page[limit] must be <= N"; order is created_at, id.
  Timestamps are strictly increasing per store, so list order is creation order. HEAD is a
  list without a body (Starlette adds HEAD to GET routes): it never writes.
- Realism options (`shape.py`, `lag.py`) and world faults (`faults.py`) change only what
  the API answers; the store and the admin endpoints always show the truth.
- No natural-key uniqueness: duplicates can be created, as with the real API.
- drop-after-commit: under a real server the response headers (with a Content-Length) go
  out and the connection closes without the body (httpx: RemoteProtocolError); in-process,
  where no connection exists, the committed write is answered 502 (`drop_style`).
"""

from reconciler.emulator.app import create_app
from reconciler.emulator.server import serve_in_thread
from reconciler.emulator.settings import EmulatorSettings

__all__ = ["EmulatorSettings", "create_app", "serve_in_thread"]
