"""X-RateLimit-* headers on every API response; 429 past the limit; windows on a fake clock."""

from __future__ import annotations

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from reconciler.emulator.ratelimit import UNLIMITED, RateLimiter
from support.emulatorkit import (
    COLLECTION,
    FakeClock,
    client_for,
    create,
    create_body,
    update_body,
)

pytestmark = pytest.mark.anyio

HEADERS = (
    "x-ratelimit-limit",
    "x-ratelimit-period",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-name",
)


async def test_every_api_response_carries_the_headers(client: httpx.AsyncClient) -> None:
    created = await create(client)
    responses = [
        await client.get(COLLECTION, params={"filter[view_name]": "/home"}),  # 200
        await client.get(COLLECTION),  # 400
        await client.post(COLLECTION, json=create_body()),  # 201
        await client.patch(f"{COLLECTION}/{created['id']}", json=update_body()),  # 200
        await client.patch(f"{COLLECTION}/nope", json=update_body()),  # 404
        await client.delete(f"{COLLECTION}/{created['id']}"),  # 204
        await client.delete(f"{COLLECTION}/{created['id']}", headers={"DD-API-KEY": ""}),  # 403
    ]
    for response in responses:
        for name in HEADERS:
            assert name in response.headers, (response.status_code, name)
        assert response.headers["x-ratelimit-limit"] == "1000000"  # unlimited mode
        assert int(response.headers["x-ratelimit-reset"]) >= 1
    names = [r.headers["x-ratelimit-name"] for r in responses]
    assert names == [
        "replay_heatmap_snapshots_list",
        "replay_heatmap_snapshots_list",
        "replay_heatmap_snapshots_create",
        "replay_heatmap_snapshots_update",
        "replay_heatmap_snapshots_update",
        "replay_heatmap_snapshots_delete",
        "replay_heatmap_snapshots_delete",
    ]


async def test_429_past_the_limit_until_the_window_resets(clock: FakeClock) -> None:
    clock.now = 1000.25  # a quarter into a 10 s window [1000, 1010)
    settings = EmulatorSettings(clock=clock, rate_limit=3, rate_period=10)
    params = {"filter[view_name]": "/home"}
    async with client_for(settings) as client:
        remaining = []
        for _ in range(3):
            response = await client.get(COLLECTION, params=params)
            assert response.status_code == 200
            remaining.append(response.headers["x-ratelimit-remaining"])
            assert response.headers["x-ratelimit-limit"] == "3"
            assert response.headers["x-ratelimit-period"] == "10"
        assert remaining == ["2", "1", "0"]
        refused = await client.get(COLLECTION, params=params)
        assert refused.status_code == 429
        assert refused.json() == {"errors": ["Too many requests"]}
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert refused.headers["x-ratelimit-reset"] == "10"  # 9.75 s rounded up
        # Other operations have their own buckets.
        assert (await client.post(COLLECTION, json=create_body())).status_code == 201
        clock.advance(9.5)
        refused = await client.get(COLLECTION, params=params)
        assert refused.status_code == 429
        assert refused.headers["x-ratelimit-reset"] == "1"  # 0.25 s rounded up, never 0
        clock.advance(0.25)  # exactly the next window
        response = await client.get(COLLECTION, params=params)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining"] == "2"
        assert response.headers["x-ratelimit-reset"] == "10"


async def test_refused_keys_do_not_use_up_the_quota(clock: FakeClock) -> None:
    settings = EmulatorSettings(clock=clock, rate_limit=1)
    async with client_for(settings) as client:
        for _ in range(3):
            response = await client.get(
                COLLECTION, params={"filter[view_name]": "/"}, headers={"DD-API-KEY": ""}
            )
            assert response.status_code == 403
        response = await client.get(COLLECTION, params={"filter[view_name]": "/"})
        assert response.status_code == 200


async def test_rate_limit_can_change_at_runtime(client: httpx.AsyncClient) -> None:
    config = await client.post("/_emulator/config", json={"rate_limit": 1})
    assert config.json()["rate_limit"] == 1
    params = {"filter[view_name]": "/"}
    assert (await client.get(COLLECTION, params=params)).status_code == 200
    assert (await client.get(COLLECTION, params=params)).status_code == 429
    # Admin endpoints are never limited.
    for _ in range(3):
        assert (await client.get("/_emulator/stats")).status_code == 200
    assert (await client.post("/_emulator/config", json={"rate_limit": None})).status_code == 200
    assert (await client.get(COLLECTION, params=params)).status_code == 200


# ---- the limiter alone ---------------------------------------------------------------------


def test_windows_are_aligned_on_multiples_of_the_period() -> None:
    clock = FakeClock(59.9)
    limiter = RateLimiter(clock)
    assert limiter.check("b", 1, 60).allowed
    assert not limiter.check("b", 1, 60).allowed
    assert limiter.check("b", 1, 60).headers["x-ratelimit-reset"] == "1"
    clock.now = 60.0  # window 1 starts here, not 60 s after the first request
    verdict = limiter.check("b", 1, 60)
    assert verdict.allowed
    assert verdict.headers == {
        "x-ratelimit-limit": "1",
        "x-ratelimit-period": "60",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "60",
        "x-ratelimit-name": "b",
    }


def test_a_request_not_consumed_is_shown_the_quota_but_does_not_use_it() -> None:
    limiter = RateLimiter(FakeClock(0.0))
    for _ in range(5):
        verdict = limiter.check("b", 2, 10, consume=False)
        assert verdict.headers["x-ratelimit-remaining"] == "2"
    assert [limiter.check("b", 2, 10).allowed for _ in range(3)] == [True, True, False]


def test_a_period_below_one_second_counts_as_one() -> None:
    clock = FakeClock(0.5)
    limiter = RateLimiter(clock)
    verdict = limiter.check("b", 1, 0)
    assert verdict.headers["x-ratelimit-period"] == "1"
    assert not limiter.check("b", 1, 0).allowed
    clock.now = 1.0
    assert limiter.check("b", 1, 0).allowed


def test_buckets_are_separate_and_reset_empties_them() -> None:
    limiter = RateLimiter(FakeClock(0.0))
    assert limiter.check("a", 1, 10).allowed
    assert limiter.check("b", 1, 10).allowed
    assert not limiter.check("a", 1, 10).allowed
    limiter.reset()
    assert limiter.check("a", 1, 10).allowed


def test_unlimited_mode_advertises_a_million_and_counts_down() -> None:
    limiter = RateLimiter(FakeClock(0.0))
    limiter.check("b", None, 1)
    verdict = limiter.check("b", None, 1)
    assert verdict.allowed
    assert verdict.headers["x-ratelimit-limit"] == str(UNLIMITED) == "1000000"
    assert verdict.headers["x-ratelimit-remaining"] == "999998"
