"""How the emulated service answers a request, in a gateway's order: latency, keys (403),
rate limit (429), random 5xx, body and query (400), lookup (404); and what it stamps on
each snapshot it stores."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from support.emulatorkit import (
    COLLECTION,
    KEYS,
    FakeClock,
    client_for,
    create,
    create_body,
)

pytestmark = pytest.mark.anyio

ACCEPTED = (("good-api", "good-app"),)


@pytest.fixture
async def strict_client() -> Any:
    async with client_for(EmulatorSettings(accepted_keys=ACCEPTED), headers=None) as client:
        yield client


# ---- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"DD-API-KEY": "good-api"},
        {"DD-APPLICATION-KEY": "good-app"},
        {"DD-API-KEY": "good-api", "DD-APPLICATION-KEY": "wrong"},
        {"DD-API-KEY": "wrong", "DD-APPLICATION-KEY": "good-app"},
        {"DD-API-KEY": "", "DD-APPLICATION-KEY": ""},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", COLLECTION + "?filter[view_name]=/home"),
        ("POST", COLLECTION),
        ("PATCH", COLLECTION + "/x"),
        ("DELETE", COLLECTION + "/x"),
    ],
)
async def test_missing_or_wrong_keys_are_403(
    strict_client: httpx.AsyncClient, headers: dict[str, str], method: str, path: str
) -> None:
    response = await strict_client.request(method, path, headers=headers, json=create_body())
    assert response.status_code == 403
    assert response.json() == {"errors": ["Forbidden"]}
    assert "x-ratelimit-limit" in response.headers


async def test_accepted_keys_pass(strict_client: httpx.AsyncClient) -> None:
    headers = {"DD-API-KEY": "good-api", "DD-APPLICATION-KEY": "good-app"}
    response = await strict_client.post(COLLECTION, headers=headers, json=create_body())
    assert response.status_code == 201


async def test_auth_is_checked_before_the_body(strict_client: httpx.AsyncClient) -> None:
    response = await strict_client.post(COLLECTION, content=b"{not json")
    assert response.status_code == 403


async def test_keys_fixture_is_what_the_default_settings_accept() -> None:
    # Any non-empty pair is accepted when accepted_keys is None.
    async with client_for(headers=None) as c:
        response = await c.get(COLLECTION, params={"filter[view_name]": "/"}, headers=KEYS)
        assert response.status_code == 200


async def test_only_the_accepted_pair_passes() -> None:
    settings = EmulatorSettings(accepted_keys=(("right-api", "right-app"),))
    async with client_for(settings, headers=None) as c:
        params = {"filter[view_name]": "/"}
        assert (await c.get(COLLECTION, params=params, headers=KEYS)).status_code == 403
        right = {"DD-API-KEY": "right-api", "DD-APPLICATION-KEY": "right-app"}
        assert (await c.get(COLLECTION, params=params, headers=right)).status_code == 200
        swapped = {"DD-API-KEY": "right-app", "DD-APPLICATION-KEY": "right-api"}
        assert (await c.get(COLLECTION, params=params, headers=swapped)).status_code == 403


# ---- the order of the checks ---------------------------------------------------------------


async def test_refused_keys_come_before_a_random_server_error() -> None:
    async with client_for(EmulatorSettings(fail_rate=1.0, seed=1), headers=None) as c:
        response = await c.post(COLLECTION, json=create_body())
        assert response.status_code == 403
        stats = (await c.get("/_emulator/stats")).json()
        assert stats["faults"]["server_errors"] == 0


async def test_the_rate_limit_comes_before_a_random_server_error(clock: FakeClock) -> None:
    settings = EmulatorSettings(clock=clock, rate_limit=0, fail_rate=1.0, seed=1)
    async with client_for(settings) as c:
        response = await c.post(COLLECTION, json=create_body())
        assert response.status_code == 429
        assert (await c.get("/_emulator/stats")).json()["faults"]["server_errors"] == 0


async def test_a_random_server_error_comes_before_the_body_and_the_lookup() -> None:
    async with client_for(EmulatorSettings(fail_rate=1.0, seed=1)) as c:
        bad_body = await c.post(COLLECTION, content=b"{not json")
        unknown = await c.delete(f"{COLLECTION}/missing")
        assert {bad_body.status_code, unknown.status_code} <= {500, 502, 503, 504}
        assert (await c.get("/_emulator/stats")).json()["faults"]["server_errors"] == 2


async def test_latency_delays_even_a_refused_request(settings: EmulatorSettings) -> None:
    settings.latency_ms = 60
    async with client_for(settings, headers=None) as c:
        started = time.perf_counter()
        response = await c.get(COLLECTION, params={"filter[view_name]": "/"})
        assert response.status_code == 403
        assert time.perf_counter() - started >= 0.05


# ---- what the service stamps and counts ----------------------------------------------------


async def test_each_stored_snapshot_carries_the_configured_owner_and_wall_clock_time() -> None:
    settings = EmulatorSettings(
        org_id=77,
        created_by="Ada",
        created_by_handle="ada@example.com",
        created_by_user_id=9,
        wall_clock=lambda: 1_700_000_000.123,
    )
    async with client_for(settings) as c:
        created = await create(c)
    owner = {k: created["attributes"][k] for k in ("org_id", "created_by", "created_by_handle")}
    assert owner == {"org_id": 77, "created_by": "Ada", "created_by_handle": "ada@example.com"}
    assert created["attributes"]["created_by_user_id"] == 9
    assert created["attributes"]["created_at"] == "2023-11-14T22:13:20.123Z"


async def test_a_rejected_write_is_answered_but_not_committed(client: httpx.AsyncClient) -> None:
    created = await create(client)
    assert (await client.patch(f"{COLLECTION}/{created['id']}", json={})).status_code == 400
    assert (await client.delete(f"{COLLECTION}/missing")).status_code == 404
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["committed"] == {"create": 1, "update": 0, "delete": 0}
    assert stats["requests"] == {"create": {"201": 1}, "delete": {"404": 1}, "update": {"400": 1}}


async def test_reset_replays_the_same_seeded_faults() -> None:
    settings = EmulatorSettings(fail_rate=0.5, seed=4)
    async with client_for(settings) as c:

        async def statuses() -> list[int]:
            return [
                (await c.post(COLLECTION, json=create_body(start=i))).status_code for i in range(16)
            ]

        first = await statuses()
        assert (await c.post("/_emulator/reset")).status_code == 200
        assert await statuses() == first
        assert set(first) > {201}
