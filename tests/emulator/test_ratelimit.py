"""X-RateLimit-* headers on every API response; 429 past the limit; windows on a fake clock."""

from __future__ import annotations

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
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
