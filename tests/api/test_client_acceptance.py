"""Acceptance: the client against a real uvicorn emulator over loopback, on the real clock."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from reconciler.api.client import ApiClient
from reconciler.api.errors import ApiError
from reconciler.api.retry import RetryPolicy
from reconciler.core.secrets import Credentials
from reconciler.emulator import EmulatorSettings, serve_in_thread

KEYS = Credentials("acceptance-api-key", "acceptance-app-key")


def test_lists_succeed_through_a_30_percent_failure_rate() -> None:
    settings = EmulatorSettings(fail_rate=0.3, seed=2026)

    async def go(url: str) -> tuple[int, int]:
        retry = RetryPolicy(base_delay=0.05, rng=random.Random(5))
        async with ApiClient(url, KEYS, retry=retry) as client:
            for i in range(20):
                assert await client.list_snapshots("app-1", f"/v{i}", 100) == []
            return client.request_count, 20

    with serve_in_thread(settings) as url:
        attempts, calls = asyncio.run(go(url))
    assert attempts > calls  # failures happened and were retried


def test_lists_paced_under_a_real_rate_limit_meet_no_429() -> None:
    """Real time, real sockets: the pacer learns the advertised limit from the first
    answers and spaces the rest under it. 60 lists at 50 per second take about 1.2 s; the
    proof is the server's count of 429s, not a clock (pacing efficiency: bench/apply.py)."""
    settings = EmulatorSettings(rate_limit=50, rate_period=1)

    async def go(url: str) -> int:
        async with ApiClient(url, KEYS) as client:
            for i in range(60):
                await client.list_snapshots("app-1", f"/v{i}", 100)
            return client.request_count

    with serve_in_thread(settings) as url:
        attempts = asyncio.run(go(url))
        stats = httpx.get(f"{url}/_emulator/stats").json()
    statuses = {status for counts in stats["requests"].values() for status in counts}
    assert statuses == {"200"}, stats  # the server never had to say 429
    assert attempts == 60


def test_dropped_connection_after_commit_is_ambiguous() -> None:
    settings = EmulatorSettings(drop_after_commit_rate=1.0, seed=1)
    attributes: dict[str, Any] = {
        "application_id": "app-1",
        "view_name": "/home",
        "device_type": "desktop",
        "snapshot_name": "Home",
        "event_id": "evt-1",
        "start": 1,
        "is_device_type_selected_by_user": False,
    }

    async def go(url: str) -> tuple[ApiError, int, int]:
        async with ApiClient(url, KEYS) as client:
            with pytest.raises(ApiError) as info:
                await client.create_snapshot(attributes)
            count = client.request_count
            listed = await client.list_snapshots("app-1", "/home", 100)
            return info.value, count, len(listed)

    with serve_in_thread(settings) as url:
        error, count, listed = asyncio.run(go(url))
    assert error.ambiguous
    assert error.status is None
    assert count == 1  # never retried blindly
    assert listed == 1  # it was committed
    assert "connection error" in str(error)
