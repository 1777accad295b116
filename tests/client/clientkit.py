"""Shared helpers of the client tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.client import ApiClient, Timeouts
from reconciler.retry import FakeClock, RetryPolicy
from reconciler.secrets import Credentials

CANARY_API = "canary-api-key-5f1e2d3c4b5a69788796a5b4"
CANARY_APP = "canary-app-key-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
BASE = "https://api.datadoghq.com"


def policy(seed: int = 7, **overrides: Any) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(seed), **overrides)


def snapshot(snapshot_id: str = "s-1", **attributes: Any) -> dict[str, Any]:
    return {"id": snapshot_id, "type": "snapshots", "attributes": attributes}


Handler = Callable[[httpx.Request], Any]


def mock_client(
    handler: Handler,
    clock: FakeClock,
    *,
    retry: RetryPolicy | None = None,
    timeouts: Timeouts | None = None,
    **kwargs: Any,
) -> ApiClient:
    return ApiClient(
        BASE,
        Credentials(CANARY_API, CANARY_APP),
        transport=httpx.MockTransport(handler),
        retry=retry or policy(),
        timeouts=timeouts or Timeouts(),
        clock=clock,
        **kwargs,
    )
