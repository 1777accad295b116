"""Acceptance: the client against a real uvicorn emulator over loopback, on the real clock."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from reconciler.client import ApiClient, ApiError
from reconciler.emulator import EmulatorSettings, serve_in_thread
from reconciler.retry import RetryPolicy
from reconciler.secrets import Credentials

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


@pytest.mark.slow
def test_50_lists_at_5_per_second_meet_no_429() -> None:
    settings = EmulatorSettings(rate_limit=5, rate_period=1)

    async def go(url: str) -> int:
        async with ApiClient(url, KEYS) as client:
            for i in range(50):
                await client.list_snapshots("app-1", f"/v{i}", 100)
            return client.request_count

    with serve_in_thread(settings) as url:
        started = time.monotonic()
        attempts = asyncio.run(go(url))
        elapsed = time.monotonic() - started
    assert attempts == 50  # no 429, no retry
    # The limit was obeyed (a lower bound, not a speed claim: pacing efficiency is shown in
    # virtual time by test_client_emulator.py and in wall time by bench/apply.py).
    assert elapsed >= 9, elapsed


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
