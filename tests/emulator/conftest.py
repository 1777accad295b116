"""Fixtures of the emulator tests: an in-process emulator behind httpx.ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from emulator.emulatorkit import KEYS, FakeClock

from reconciler.emulator import EmulatorSettings, create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(clock: FakeClock) -> EmulatorSettings:
    return EmulatorSettings(clock=clock, seed=7)


@pytest.fixture
async def client(settings: EmulatorSettings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emulator", headers=KEYS
    ) as client:
        yield client
