"""The four heatmap snapshot operations, with retries, shared rate limiting and time bounds.

Built on httpx's transport interface (`transport.Exchange` over `httpx.AsyncHTTPTransport`);
tests hand it an `httpx.ASGITransport` over the emulator or a server of their own. Server text
that goes into an error passes `secrets.redact` in case a server echoes a key.

Retries and rate limiting (the rules: `retry`; the loop applying them: `retrying.Retrying`),
the in-flight windows (`inflight`: how many requests at once, from the server's rate-limit
headers) and time bounds (every wait capped, each operation bounded, the run's deadline from
`Runtime.deadline`) are applied by `retrying.Retrying`. All of it is per
client: each client (`Runtime.client`, one per environment) learns its own server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import httpx

from reconciler import __version__
from reconciler.api.errors import AmbiguousCreate, ApiError, MalformedResponse
from reconciler.api.responses import Malformed, one_snapshot, snapshot_list
from reconciler.api.retry import Clock, RetryPolicy, SystemClock
from reconciler.api.retrying import Request, Retrying
from reconciler.api.transport import MAX_BODY_BYTES, Exchange, Outcome, Timeouts, json_content
from reconciler.core import resource
from reconciler.core.secrets import Credentials


class ApiClient:
    """The four heatmap snapshot operations, with retries and shared rate limiting.

    One instance is shared by all concurrent operations of a run; `request_count` counts
    every HTTP attempt.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008  (only its RNG is shared: harmless)
        clock: Clock | None = None,
        deadline: float | None = None,
        user_agent: str | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {
            "DD-API-KEY": credentials.api_key,
            "DD-APPLICATION-KEY": credentials.app_key,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": user_agent or f"heatmap-reconciler/{__version__} (+python httpx)",
        }
        self._exchange = Exchange(
            self.base_url,
            headers,
            transport=transport,
            timeouts=timeouts,
            max_body_bytes=max_body_bytes,
        )
        self._sender = Retrying(
            self._exchange,
            host=(urlsplit(self.base_url).hostname or "").lower(),
            retry=retry,
            clock=clock if clock is not None else SystemClock(),
            timeouts=timeouts,
            deadline=deadline,
        )

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r})"

    @property
    def request_count(self) -> int:
        """HTTP attempts made so far, retries included."""
        return self._sender.request_count

    async def aclose(self) -> None:
        await self._exchange.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the four operations ---------------------------------------------------------------

    async def list_snapshots(
        self,
        application_id: str,
        view_name: str,
        limit: int,
        *,
        device_type: str | None = None,
    ) -> list[dict[str, Any]]:
        """One GET of a view's snapshots (the API has no paging), optionally of one
        device type."""
        params = resource.list_params(application_id, view_name, limit, device_type=device_type)
        path = resource.COLLECTION_PATH
        query = urlencode(params)  # the bytes httpx's `params=` would send
        request = Request(
            "GET",
            path,
            f"{path}?{unquote(query)}",
            "GET collection",
            query,
            None,
            idempotent=True,
            ok=(200,),
        )
        outcome, attempts = await self._sender.call(request)
        try:
            return snapshot_list(outcome.body)
        except Malformed as exc:
            raise self._malformed(request, outcome, exc, attempts, committed=False) from None

    async def create_snapshot(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """POST one snapshot. Not idempotent: only 429 (nothing done) and failures before
        sending are retried; anything ambiguous raises an `Ambiguous` error at once."""
        path = resource.COLLECTION_PATH
        body = resource.create_document(attributes)
        request = _write("POST", path, "POST collection", body, idempotent=False, ok=(200, 201))
        return await self._one_snapshot(request, committed=True)

    async def update_snapshot(
        self, snapshot_id: str, attributes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PATCH one snapshot's mutable fields (idempotent: retried as is)."""
        path = resource.item_path(snapshot_id)
        body = resource.update_body(snapshot_id, attributes)
        request = _write("PATCH", path, "PATCH item", body, idempotent=True, ok=(200,))
        return await self._one_snapshot(request, committed=False)

    async def delete_snapshot(self, snapshot_id: str) -> bool:
        """DELETE one snapshot: True when deleted, False when it was already gone (404)."""
        path = resource.item_path(snapshot_id)
        request = _write("DELETE", path, "DELETE item", None, idempotent=True, ok=(200, 204, 404))
        outcome, _ = await self._sender.call(request)
        return outcome.status != 404

    # -- reading answers -------------------------------------------------------------------

    async def _one_snapshot(self, request: Request, *, committed: bool) -> dict[str, Any]:
        outcome, attempts = await self._sender.call(request)
        try:
            return one_snapshot(outcome.body)
        except Malformed as exc:
            raise self._malformed(request, outcome, exc, attempts, committed=committed) from None

    @staticmethod
    def _malformed(
        request: Request, outcome: Outcome, exc: Malformed, attempts: int, *, committed: bool
    ) -> ApiError:
        kind = AmbiguousCreate if committed else MalformedResponse  # a garbled 201 created
        return kind(
            request.method,
            request.target,
            outcome.status,
            (str(exc),),
            reason="malformed response",
            attempts=attempts,
        )


def _write(
    method: str, path: str, operation: str, body: Any, *, idempotent: bool, ok: tuple[int, ...]
) -> Request:
    return Request(method, path, path, operation, "", json_content(body), idempotent, ok)
