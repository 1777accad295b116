"""Adaptive concurrency: requests in flight against servers of the test's own that report
rate-limit headers, under virtual time (the server's latency is a sleep on the fake clock,
so every request of a round is in flight together and the peaks are exact)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from reconciler.api.client import ApiClient
from reconciler.api.inflight import INITIAL_WINDOW, MAX_IN_FLIGHT
from reconciler.api.listing import list_views
from reconciler.core.model import ViewScope
from reconciler.core.secrets import Credentials
from support.clock import FakeClock
from support.factories import APP


@dataclass
class LimitedServer:
    """A fixed-window rate limit on the fake clock, with Datadog's headers, `latency`
    seconds per answer; 429 past the limit. Records requests in flight."""

    clock: FakeClock
    limit: int
    period: float = 1.0
    latency: float = 0.15
    #: What `x-ratelimit-remaining` says (default: the truth).
    remaining: Callable[[int], int] | None = None
    #: Answer 429 to these request numbers (1-based), whatever the count.
    refuse: frozenset[int] = frozenset()
    #: Requests of other clients counted in each window (the bucket is shared).
    others: int = 0
    #: Count the request this far into its latency (on the wire before that).
    counted_after: float = 0.0
    in_flight: int = 0
    peaks: list[int] = field(default_factory=list)  # in flight when each request arrived
    statuses: list[int] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # clock time of each request
    refused_at: list[float] = field(default_factory=list)  # clock time of each 429 answer
    _window: tuple[int, int] = (-1, 0)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peaks.append(self.in_flight)
        number = len(self.peaks)
        self.arrivals.append(self.clock.monotonic())
        await self.clock.sleep(self.counted_after)
        now = self.clock.monotonic()
        window = math.floor(now / self.period)
        index, used = self._window
        used = used if index == window else self.others
        allowed = used < self.limit and number not in self.refuse
        used += allowed
        self._window = (window, used)
        left = self.limit - used
        headers = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-period": f"{self.period:g}",
            "x-ratelimit-remaining": str(left if self.remaining is None else self.remaining(left)),
            "x-ratelimit-reset": str(max(1, math.ceil((window + 1) * self.period - now))),
            "x-ratelimit-name": "snapshots",
        }
        await self.clock.sleep(self.latency - self.counted_after)
        self.in_flight -= 1
        status = 200 if allowed else 429
        if not allowed:
            self.refused_at.append(self.clock.monotonic())
        self.statuses.append(status)
        return httpx.Response(status, headers=headers, json={"data": []})


def list_all(server: LimitedServer, views: int, parallelism: int | None = None) -> int:
    """List `views` views with `parallelism` (None: the default); returns the views listed."""

    async def go() -> int:
        transport = httpx.MockTransport(server.handle)
        async with ApiClient(
            "http://127.0.0.1:9", Credentials("k", "k"), transport=transport, clock=server.clock
        ) as client:
            scopes = [ViewScope(APP, f"/v{i:04d}") for i in range(views)]
            listing = await list_views(client, scopes, page_limit=100, parallelism=parallelism)
            return len(listing.views)

    return asyncio.run(go())


def test_the_default_opens_to_what_the_headers_allow_without_a_429() -> None:
    server = LimitedServer(FakeClock(), limit=100_000)
    assert list_all(server, 400) == 400
    # Blind until the first answer, then as many as the server's window admits, capped.
    assert max(server.peaks[:INITIAL_WINDOW]) == INITIAL_WINDOW
    assert server.peaks[INITIAL_WINDOW] == 1  # the 5th waited for an answer
    # The first answer opens the window to the cap at once (no doubling round trips).
    assert max(server.peaks[: INITIAL_WINDOW + MAX_IN_FLIGHT]) == MAX_IN_FLIGHT
    assert set(server.statuses) == {200}


def test_never_more_in_flight_than_the_server_has_left() -> None:
    # Another client uses most of the bucket: the server always says 6 are left.
    server = LimitedServer(FakeClock(), limit=100_000, remaining=lambda left: 6)
    assert list_all(server, 200) == 200
    assert max(server.peaks) <= 6
    assert max(server.peaks) > 1  # still concurrent
    assert set(server.statuses) == {200}


def test_requests_in_flight_count_against_what_is_left() -> None:
    # Others use 985 of every 1,000 per 10 s; requests are counted 450 ms after they leave,
    # so an answer's `remaining` does not count the requests sent while it travelled.
    clock = FakeClock()
    server = LimitedServer(
        clock, limit=1000, period=10, others=985, latency=0.5, counted_after=0.45
    )
    assert list_all(server, 150) == 150
    assert set(server.statuses) == {200}


def test_a_small_limit_is_never_exceeded_by_the_requests_in_flight() -> None:
    # 10 per second at 150 ms: pacing and the window keep every answer a 200.
    server = LimitedServer(FakeClock(), limit=10, latency=0.15)
    assert list_all(server, 60) == 60
    assert max(server.peaks) <= 10
    assert set(server.statuses) == {200}


def test_never_more_in_flight_than_the_limit_even_when_remaining_says_more() -> None:
    # A hostile or broken server: 3 per 100 ms, yet "1,000,000 left"; 500 ms latency.
    server = LimitedServer(FakeClock(), limit=3, period=0.1, latency=0.5, remaining=lambda _: 10**6)
    assert list_all(server, 60) == 60
    assert max(server.peaks[INITIAL_WINDOW:]) == 3  # once the first answer told the limit


def test_a_429_halves_the_window() -> None:
    clock = FakeClock()
    server = LimitedServer(clock, limit=100_000, refuse=frozenset({100}))
    assert list_all(server, 400) == 400
    assert server.statuses.count(429) == 1
    [refused_at] = server.refused_at
    before = server.peaks[:100]
    after = [n for n, t in zip(server.peaks, server.arrivals, strict=True) if t > refused_at]
    assert max(before) == MAX_IN_FLIGHT
    # Halved, then additive growth: about one more per window's worth of answers.
    assert max(after) <= MAX_IN_FLIGHT // 2 + 300 // (MAX_IN_FLIGHT // 2) + 1
    assert max(after) >= MAX_IN_FLIGHT // 2 - 1


def test_an_explicit_parallelism_stays_a_hard_maximum() -> None:
    server = LimitedServer(FakeClock(), limit=100_000)
    assert list_all(server, 100, parallelism=3) == 100
    assert max(server.peaks) == 3


def test_without_headers_the_window_grows_from_its_initial_size() -> None:
    clock = FakeClock()
    peaks: list[int] = []
    in_flight = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight
        in_flight += 1
        peaks.append(in_flight)
        await clock.sleep(0.15)
        in_flight -= 1
        return httpx.Response(200, json={"data": []})

    server = LimitedServer(clock, limit=1)
    server.handle = handler  # type: ignore[method-assign]
    assert list_all(server, 300) == 300
    assert max(peaks[:INITIAL_WINDOW]) == INITIAL_WINDOW
    # Slow start: one more per answer, so it doubles each round trip, up to the cap.
    assert peaks[INITIAL_WINDOW : 2 * INITIAL_WINDOW] == list(range(1, INITIAL_WINDOW + 1))
    assert max(peaks) == MAX_IN_FLIGHT
