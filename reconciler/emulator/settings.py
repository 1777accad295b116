"""Settings of the emulator: what it accepts, how it pages, which faults it injects."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

DropStyle = Literal["auto", "disconnect", "status"]


@dataclass
class EmulatorSettings:
    """Settings read live by the app on every request, so tests (and `/_emulator/config`)
    may change the fault and rate-limit fields of a running emulator."""

    db_path: str = ":memory:"
    # (api_key, app_key) pairs; None accepts any pair of non-empty keys.
    accepted_keys: tuple[tuple[str, str], ...] | None = None
    page_limit_default: int = 100
    page_limit_max: int = 1000
    # Requests per period, per operation bucket (list/create/update/delete); None = unlimited.
    rate_limit: int | None = None
    rate_period: int = 1
    # Fraction of API requests answered with a random 500/502/503/504 before the store is touched.
    fail_rate: float = 0.0
    latency_ms: float = 0.0
    # Fraction of writes committed and then answered by a dropped connection (or a 502).
    drop_after_commit_rate: float = 0.0
    seed: int | None = None
    # Rate-limit windows are measured with this clock, so tests can share a fake clock.
    clock: Callable[[], float] = time.monotonic
    # Source of created_at / modified_at (seconds since the epoch).
    wall_clock: Callable[[], float] = time.time
    # How a drop-after-commit manifests: "disconnect" closes the connection after the
    # response headers, "status" answers 502, "auto" disconnects when a real server runs the
    # app (it sent the ASGI lifespan startup) and answers 502 in-process (httpx.ASGITransport).
    drop_style: DropStyle = "auto"
    org_id: int = 1234
    created_by: str = "Emulator User"
    created_by_handle: str = "emulator@example.com"
    created_by_user_id: int = 4242
