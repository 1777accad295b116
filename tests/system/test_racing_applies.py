"""Two `apply --auto-approve` of the same files at once (two merges in quick succession, a
laptop beside CI): both create every snapshot, then each removes the duplicates by the
diff's rule, so both remove the same copies and the end state has each snapshot once,
without `--force`. Real processes against a real emulator server process with 20 ms of
latency; `make test` runs 2 trials, `make chaos` (--chaos-full) 10."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.processes import env_for, running_emulator, spawn
from support.workspace import APP

#: Real processes (the CLI, the emulator): run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow

CREATES = 150


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[str]:
    with running_emulator("--latency-ms", "20") as url:
        yield url


def trials(config: pytest.Config) -> int:
    try:
        return 10 if config.getoption("--chaos-full") else 2
    except ValueError:  # the chaos options exist only when tests/chaos is collected
        return 2


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "trial" in metafunc.fixturenames:
        count = trials(metafunc.config)
        metafunc.parametrize(
            "trial", range(1, count + 1), ids=[f"trial={n}" for n in range(1, count + 1)]
        )


@pytest.mark.slow
def test_two_racing_applies_end_with_one_copy_of_each(
    trial: int, tmp_path: Path, emulator_process: str
) -> None:
    url = emulator_process
    httpx.post(f"{url}/_emulator/reset").raise_for_status()
    entries = [
        {"snapshot_name": f"s{i:03}", "device_type": "desktop", "event_id": "e", "start": i}
        for i in range(CREATES)
    ]
    (tmp_path / "snapshots").mkdir()
    document = {"application_id": APP, "views": {"/race": entries}}
    (tmp_path / "snapshots" / "a.yaml").write_text(json.dumps(document))
    env = env_for(url)
    runs = [spawn(["apply", "--auto-approve"], tmp_path, env) for _ in range(2)]
    outcomes = [(run.communicate(timeout=120), run.returncode) for run in runs]
    data = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
    names = Counter(item["attributes"]["snapshot_name"] for item in data)
    tails = [f"exit {code}: {out[-1500:]}{err[-1500:]}" for (out, err), code in outcomes]
    assert names == {f"s{i:03}": 1 for i in range(CREATES)}, tails
    for (out, err), code in outcomes:
        assert code == 0, tails
        assert out.splitlines()[-1] == "Converged.", tails
        assert "refusing" not in err
    stats = httpx.get(f"{url}/_emulator/stats").json()
    # Evidence that they raced: more creates committed than snapshots remain.
    assert stats["committed"]["create"] > CREATES, stats
