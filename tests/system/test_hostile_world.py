"""Every run ends within its deadline, with one clear error, in bounded memory, against a
hostile server of the test's own on raw sockets: absurd rate-limit headers, a body dripped
a byte a second, a nested gzip bomb, a flood of `100 Continue`.

Each case runs `reconciler` as a real process with `--timeout 2` and reports its own peak
RSS; the figures are asserted against the 300 MB bound. The subprocess timeout is only a
guard against a hang (a failure, not a speed claim).
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from support.processes import env_for
from support.rawserver import RawServer, Scenario, response_head
from support.workspace import APP

#: Real processes (the CLI, the emulator): run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow

PEAK_RSS_LIMIT_MB = 300
TIMEOUT = 2
EMPTY = json.dumps({"data": []}).encode()
# VmHWM: the peak of this process's own memory. (ru_maxrss would also count the memory of
# the test process that forked it, which a long test session grows past the bound.)
MEASURED = (
    "import sys\n"
    "from reconciler.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "peak = int(status.split('VmHWM:')[1].split()[0]) // 1024\n"
    "print(f'peak_rss_mb={peak}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def ok_head(**headers: str) -> bytes:
    base = {"Content-Type": "application/json", "Content-Length": str(len(EMPTY))}
    return response_head("200 OK", base | headers)


def reset_forever(conn: socket.socket, request: bytes) -> None:
    conn.sendall(
        ok_head(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000000000"}) + EMPTY
    )


def one_per_billion_seconds(conn: socket.socket, request: bytes) -> None:
    conn.sendall(ok_head(**{"X-RateLimit-Limit": "1", "X-RateLimit-Period": "1e9"}) + EMPTY)


DRIPPED: list[int] = []  # bytes of body each drip sent before the client hung up


def drip(conn: socket.socket, request: bytes) -> None:
    conn.sendall(ok_head(**{"Content-Length": "100000"}))
    DRIPPED.append(0)
    for _ in range(600):  # bounded: the client hangs up long before
        conn.sendall(b" ")
        DRIPPED[-1] += 1
        time.sleep(1)


def continue_flood(conn: socket.socket, request: bytes) -> None:
    line = b"HTTP/1.1 100 Continue\r\n\r\n" * 1000
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        conn.sendall(line)


@cache
def gzip_bomb(mib: int = 1024) -> bytes:
    """`Content-Encoding: gzip, gzip` of `mib` MiB of zeros, in a few KB. Built from one
    deflate block repeated (full flushes make every MiB compress alike), so that making it
    costs a CRC, not a compression of a GiB."""
    zero = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(zero) + compressor.flush(zlib.Z_FULL_FLUSH)
    steady = compressor.compress(zero) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zero, crc)
    deflate = first + steady * (mib - 1) + compressor.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    inner = header + deflate + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)
    return gzip.compress(inner, 9)


def bomb(conn: socket.socket, request: bytes) -> None:
    body = gzip_bomb()
    headers = {"Content-Encoding": "gzip, gzip", "Content-Length": str(len(body))}
    conn.sendall(ok_head(**headers) + body)


def drip_writes(conn: socket.socket, request: bytes) -> None:
    """Listings are fine; a POST gets its answer a byte a second."""
    if request.startswith(b"GET"):
        conn.sendall(ok_head() + EMPTY)
    else:
        drip(conn, request)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "snapshots").mkdir()
    entry = {"snapshot_name": "s", "device_type": "desktop", "event_id": "e", "start": 1}
    views = {"/a": [entry], "/b": [], "/c": []}
    document = {"application_id": APP, "views": views}
    (tmp_path / "snapshots" / "a.yaml").write_text(json.dumps(document))
    return tmp_path


@pytest.fixture
def serve() -> Iterator[list[RawServer]]:
    servers: list[RawServer] = []
    yield servers
    for server in servers:
        server.close()


def run_measured(
    repo: Path, url: str, *args: str, timeout: float = TIMEOUT
) -> tuple[int, str, str, int]:
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *args, "--timeout", str(timeout), "--parallelism", "1"],
        cwd=repo,
        env=env_for(url),
        capture_output=True,
        text=True,
        timeout=timeout + 60,  # a hang guard only
        check=False,
        stdin=subprocess.DEVNULL,
    )
    match = re.search(r"peak_rss_mb=(\d+)", result.stderr)
    assert match, result.stderr
    err = result.stderr[: match.start()]
    return result.returncode, result.stdout, err, int(match.group(1))


#: name: (scenario, expected in the output, --timeout). The bomb is about memory, not
#: time: its deadline leaves room for decoding 64 MiB on a loaded machine.
CASES: dict[str, tuple[Scenario, str, float]] = {
    "X-RateLimit-Reset 1e9": (reset_forever, "deadline", TIMEOUT),
    "Limit 1 per 1e9 s": (one_per_billion_seconds, "deadline", TIMEOUT),
    "a byte a second": (drip, "deadline", TIMEOUT),
    "100 Continue flood": (continue_flood, "deadline", TIMEOUT),
    "gzip, gzip bomb": (bomb, "larger than 64 MiB", 30),
}


@pytest.mark.parametrize("name", list(CASES))
def test_plan_ends_within_its_deadline_in_bounded_memory(
    name: str, repo: Path, serve: list[RawServer]
) -> None:
    scenario, expected, timeout = CASES[name]
    server = RawServer(scenario)
    serve.append(server)
    code, out, err, peak_mb = run_measured(repo, server.url, "plan", timeout=timeout)
    assert code == 1, out + err
    assert "Traceback" not in out + err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert expected in out + err, out + err
    assert peak_mb < PEAK_RSS_LIMIT_MB, peak_mb
    if scenario is drip:
        # The server's view of "within the deadline": it dripped for about 2 s, not for
        # the 60 s an attempt may last on its own (a loose bound: 20 s on a loaded machine).
        assert DRIPPED, "the drip never started"
        assert max(DRIPPED) < 20, DRIPPED
    print(f"{name}: peak RSS {peak_mb} MB, {len(server.requests)} requests")


def test_apply_ends_within_its_deadline_when_a_write_drips(
    repo: Path, serve: list[RawServer]
) -> None:
    """The POST was sent and its answer never completes: the run stops at the deadline,
    exit 1, and the create is never sent again."""
    server = RawServer(drip_writes)
    serve.append(server)
    code, out, err, peak_mb = run_measured(repo, server.url, "apply", "--auto-approve")
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert "deadline" in out + err
    assert 'failed create /a desktop "s"' in out
    assert sum(r.startswith(b"POST") for r in server.requests) == 1  # never sent twice
    assert peak_mb < PEAK_RSS_LIMIT_MB
