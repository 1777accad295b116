"""`reconciler emulator`: serve the local Datadog API emulator in the foreground."""

from __future__ import annotations

import signal
import sqlite3
import sys
from types import FrameType

from reconciler import exitcodes
from reconciler.emulator.server import bind, build_server, url_of
from reconciler.emulator.settings import EmulatorSettings
from reconciler.errors import UsageProblem


def _check(settings: EmulatorSettings) -> None:
    """Option values the emulator cannot work with, as one usage error."""
    problems = [
        f"--{name.replace('_', '-')} must be between 0 and 1"
        for name in ("fail_rate", "drop_after_commit_rate")
        if not 0 <= getattr(settings, name) <= 1
    ]
    if settings.latency_ms < 0:
        problems.append("--latency-ms must not be negative")
    if settings.rate_limit is not None and settings.rate_limit < 0:
        problems.append("--rate-limit must not be negative")
    for name in ("rate_period", "page_limit_default", "page_limit_max"):
        if getattr(settings, name) < 1:
            problems.append(f"--{name.replace('_', '-')} must be at least 1")
    if problems:
        raise UsageProblem("; ".join(problems))


def run(
    *,
    host: str,
    port: int,
    db_path: str,
    fail_rate: float,
    latency_ms: float,
    drop_after_commit_rate: float,
    rate_limit: int | None,
    rate_period: int,
    page_limit_default: int,
    page_limit_max: int,
    seed: int | None,
) -> int:
    """Serve until SIGINT or SIGTERM, then exit 0. The first stdout line is the URL."""
    settings = EmulatorSettings(
        db_path=db_path,
        fail_rate=fail_rate,
        latency_ms=latency_ms,
        drop_after_commit_rate=drop_after_commit_rate,
        rate_limit=rate_limit,
        rate_period=rate_period,
        page_limit_default=page_limit_default,
        page_limit_max=page_limit_max,
        seed=seed,
    )
    _check(settings)
    # Bound and listening before the URL is printed, so a script that reads it can connect.
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise UsageProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        server = build_server(settings, log_config=True)
    except sqlite3.Error as exc:
        sock.close()
        raise UsageProblem(f"cannot open the database {db_path}: {exc}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        # Before uvicorn runs (a stop right after the URL is read), this asks it to stop as
        # soon as it starts; after, uvicorn re-raises the signal that stopped it once it has
        # shut down, and landing here instead of the default handler makes it a clean exit 0.
        server.should_exit = True

    # Handlers first, then the URL: a script may signal as soon as it has read the URL.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"Emulator listening on {url_of(sock)}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    sys.stdout.flush()
    return exitcodes.OK
