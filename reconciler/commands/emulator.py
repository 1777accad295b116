"""`reconciler emulator`: serve the local Datadog API emulator in the foreground."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from reconciler.emulator.server import bind, build_server, url_of
from reconciler.emulator.settings import EmulatorSettings


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
    # Bound and listening before the URL is printed, so a script that reads it can connect.
    sock = bind(host, port)
    server = build_server(settings, log_config=True)
    print(f"Emulator listening on {url_of(sock)}", flush=True)

    def ignore(signum: int, frame: FrameType | None) -> None:
        # uvicorn re-raises the signal that stopped it once it has shut down; landing here
        # instead of the default handler makes a requested stop a clean exit 0.
        pass

    previous = {sig: signal.signal(sig, ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    sys.stdout.flush()
    return 0
