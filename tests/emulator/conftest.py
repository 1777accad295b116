"""Fixtures of the emulator tests: an in-process emulator behind httpx.ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from reconciler.emulator import EmulatorSettings
from support.emulatorkit import FakeClock, client_for


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
    async with client_for(settings) as client:
        yield client
