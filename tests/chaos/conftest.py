"""The chaos suite: one real emulator server for every scenario, seeds chosen by options.

pytest tests/chaos                  # reduced: a handful of scenarios, 2 interruptions
pytest tests/chaos --chaos-full     # 200 scenarios, 10 interruptions (make chaos)
pytest tests/chaos --chaos-seed 17  # one scenario (and interruption trial), reproduced
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.emulator import EmulatorSettings, serve_in_thread

REDUCED_SCENARIOS = 5
FULL_SCENARIOS = 200
REDUCED_INTERRUPTIONS = 2
FULL_INTERRUPTIONS = 10

TALLY = pytest.StashKey[Counter[str]]()
STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos")
    group.addoption(
        "--chaos-full",
        action="store_true",
        default=False,
        help=f"run {FULL_SCENARIOS} chaos scenarios and {FULL_INTERRUPTIONS} interruptions",
    )
    group.addoption(
        "--chaos-seed",
        action="append",
        type=int,
        default=[],
        help="run only this chaos seed (repeatable); printed by every failing scenario",
    )
    group.addoption(
        "--chaos-count", type=int, default=None, help="number of chaos scenarios (seeds 1..N)"
    )


def _option(config: pytest.Config, name: str, default: Any) -> Any:
    try:
        return config.getoption(name)
    except ValueError:  # the options exist only when this folder is named on the command line
        return default


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    full = bool(_option(config, "--chaos-full", False))
    chosen: list[int] = list(_option(config, "--chaos-seed", []))
    count = _option(config, "--chaos-count", None)
    if "chaos_seed" in metafunc.fixturenames:
        total = count or (FULL_SCENARIOS if full else REDUCED_SCENARIOS)
        seeds = chosen or list(range(1, total + 1))
        metafunc.parametrize("chaos_seed", seeds, ids=[f"seed={s}" for s in seeds])
    if "interrupt_seed" in metafunc.fixturenames:
        total = FULL_INTERRUPTIONS if full else REDUCED_INTERRUPTIONS
        seeds = chosen or list(range(1, total + 1))
        metafunc.parametrize("interrupt_seed", seeds, ids=[f"trial={s}" for s in seeds])


@pytest.fixture(scope="session")
def chaos_server() -> Iterator[tuple[str, EmulatorSettings]]:
    """One real uvicorn server for the whole suite; each scenario resets it."""
    settings = EmulatorSettings()
    with serve_in_thread(settings) as url:
        yield url, settings


@pytest.fixture(scope="session")
def chaos_tally(request: pytest.FixtureRequest) -> Counter[str]:
    config = request.config
    if TALLY not in config.stash:
        config.stash[TALLY] = Counter()
        config.stash[STARTED] = time.perf_counter()
    return config.stash[TALLY]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    tally = config.stash.get(TALLY, None)
    if not tally:
        return
    elapsed = time.perf_counter() - config.stash[STARTED]
    parts = ", ".join(f"{name} {count}" for name, count in sorted(tally.items()))
    terminalreporter.write_line(f"chaos: {parts}; {elapsed:.1f} s")
