"""Hostile requests against a real `reconciler emulator` process, far longer than the suite's
property test (tests/emulator/test_hostile_requests.py), with the same generator.

Usage: python bench/emulator_fuzz.py [--examples N] [--seed S] [--big-body-mb MB]

First the server's peak resident memory (VmHWM, Linux) before and after a POST of MB
megabytes, streamed with and without a declared Content-Length: the body limit must answer
413 without holding the body. Then N hostile requests, each on a fresh store and on the
example's settings (faults that answer 5xx on purpose stay off): the count of answers per
status, every answer outside the contract (a 5xx, a 4xx without Datadog's error shape), and
the server log's ERROR lines and tracebacks. Exit 1 when any of those is found.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from reconciler.emulator.settings import CONFIGURABLE, EmulatorSettings  # noqa: E402


def _load_generator() -> Any:
    """The test module that holds the generator (tests/emulator is not a package)."""
    path = ROOT / "tests" / "emulator" / "test_hostile_requests.py"
    spec = importlib.util.spec_from_file_location("hostile_requests_module", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


HOSTILE = _load_generator()
COLLECTION: str = HOSTILE.COLLECTION
KEYS: dict[str, str] = HOSTILE.KEYS


def plain_config() -> dict[str, Any]:
    """Every live setting at its default, as JSON: each example starts from these."""
    defaults = {name: getattr(EmulatorSettings(), name) for name in CONFIGURABLE}
    return {name: list(v) if isinstance(v, tuple) else v for name, v in defaults.items()}


def start_server(log: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0"]
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
    return process, url


def memory_mb(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        name: int(match.group(1)) // 1024
        for name in ("VmHWM", "VmRSS")
        if (match := re.search(rf"{name}:\s+(\d+) kB", status))
    }


def big_body(process: subprocess.Popen[str], url: str, megabytes: int) -> None:
    prefix = b'{"data": {"type": "snapshots", "attributes": {"snapshot_name": "'
    suffix = b'"}}}'
    chunk = b"x" * (1 << 20)

    def chunks() -> Iterator[bytes]:
        yield prefix
        for _ in range(megabytes):
            yield chunk
        yield suffix

    size = len(prefix) + megabytes * len(chunk) + len(suffix)
    headers = {**KEYS, "content-type": "application/json"}
    print(f"server memory at start: {memory_mb(process.pid)} MB")
    for name, extra in (("chunked", {}), ("Content-Length", {"content-length": str(size)})):
        started = time.perf_counter()
        response = httpx.post(
            f"{url}{COLLECTION}", content=chunks(), headers=headers | extra, timeout=300
        )
        took = time.perf_counter() - started
        print(
            f"POST {megabytes} MB ({name}): {response.status_code} {response.text} in {took:.1f} s;"
            f" server memory {memory_mb(process.pid)} MB"
        )


def fuzz(url: str, examples: int, seed_value: int) -> int:
    statuses: Counter[str] = Counter()
    problems: list[str] = []
    client = httpx.Client(base_url=url, timeout=30)
    plain = plain_config()

    @seed(seed_value)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=HOSTILE.hostile_requests())
    def run(request: Any) -> None:
        client.post("/_emulator/reset").raise_for_status()
        client.post("/_emulator/config", json=plain | request.settings).raise_for_status()
        seeded = client.post("/_emulator/snapshots", json={"data": [HOSTILE.SEED_ATTRIBUTES]})
        existing_id = seeded.json()["data"][0]["id"]
        try:
            response = client.request(
                request.method,
                request.url(existing_id),
                headers=request.headers,
                content=request.content(existing_id),
            )
        except httpx.HTTPError as exc:  # refused by the client itself (or the connection)
            statuses[f"no answer: {type(exc).__name__}"] += 1
            return
        statuses[str(response.status_code)] += 1
        content_type = response.headers.get("content-type", "")
        problem = HOSTILE.problem_of(
            request.method, response.status_code, content_type, response.content
        )
        if problem is not None:
            problems.append(f"{problem}: {request.method} {request.url(existing_id)[:120]}")

    started = time.perf_counter()
    run()
    took = time.perf_counter() - started
    client.close()
    total = sum(statuses.values())
    print(f"\n{total} hostile requests in {took:.0f} s ({total / took:.0f}/s, seed {seed_value})")
    for status, count in sorted(statuses.items()):
        print(f"  {status:>30}: {count}")
    print(f"answers outside the contract: {len(problems)}")
    for line in problems[:20]:
        print(f"  {line}")
    return len(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--big-body-mb", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-emulator-fuzz-") as folder:
        log = Path(folder) / "server.log"
        process, url = start_server(log)
        try:
            big_body(process, url, args.big_body_mb)
            found = fuzz(url, args.examples, args.seed)
        finally:
            process.terminate()
            process.wait(timeout=30)
        lines = log.read_text(errors="replace").splitlines()
    bad = [line for line in lines if "Traceback" in line or "ERROR" in line]
    print(f"server log: {len(lines)} lines, {len(bad)} with ERROR or Traceback")
    for line in bad[:20]:
        print(f"  {line}")
    return 1 if found or bad else 0


if __name__ == "__main__":
    sys.exit(main())
