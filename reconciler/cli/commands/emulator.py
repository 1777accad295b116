"""`reconciler emulator`: serve the local Datadog API emulator in the foreground."""

from __future__ import annotations

import signal
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from reconciler.core import exitcodes
from reconciler.core.errors import InvalidInput, UsageProblem
from reconciler.core.model import Problem
from reconciler.emulator.seedfile import (
    SeedFileError,
    SeedItem,
    SeedRefused,
    demo_items,
    read_seed_file,
)
from reconciler.emulator.server import bind, build_server, url_of
from reconciler.emulator.settings import EmulatorSettings, apply_settings, setting_problems


def seed_items(seed_file: str | None, demo: bool) -> list[SeedItem]:
    """The snapshots to start with: the demo org's, then the seed file's (every problem of
    the file as `path:line:col: message`)."""
    items = demo_items() if demo else []
    if seed_file is not None:
        try:
            items += read_seed_file(Path(seed_file))
        except SeedFileError as exc:
            raise InvalidInput(
                [Problem(seed_file, p.line, p.col, p.message) for p in exc.problems]
            ) from None
    return items


def build_settings(
    *,
    db_path: str,
    seed: int | None,
    api_key: str | None,
    app_key: str | None,
    options: Mapping[str, Any],
) -> EmulatorSettings:
    """The settings the options describe, or one usage error naming every bad option."""
    problems = setting_problems(options, lambda name: f"--{name.replace('_', '-')}")
    if (api_key is None) != (app_key is None):
        problems.append("--api-key and --app-key go together")
    if api_key is not None and app_key is not None and not (api_key and app_key):
        problems.append("--api-key and --app-key must not be empty")
    if problems:
        raise UsageProblem("; ".join(problems))
    keys = ((api_key, app_key),) if api_key and app_key else None
    settings = EmulatorSettings(db_path=db_path, seed=seed, accepted_keys=keys)
    apply_settings(settings, options)
    return settings


def run(
    *,
    host: str,
    port: int,
    db_path: str,
    fault_seed: int | None,
    seed_file: str | None = None,
    demo: bool = False,
    api_key: str | None = None,
    app_key: str | None = None,
    **options: Any,
) -> int:
    """Serve until SIGINT or SIGTERM, then exit 0. The first stdout line is the URL.
    `options` are settings of `CONFIGURABLE` (fault rates, realism), checked here."""
    settings = build_settings(
        db_path=db_path, seed=fault_seed, api_key=api_key, app_key=app_key, options=options
    )
    # Before the port is bound: a bad seed file fails at once, listening on nothing.
    seed = seed_items(seed_file, demo)
    # Bound and listening before the URL is printed, so a script that reads it can connect.
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise UsageProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        server = build_server(settings, log_config=True, seed=seed)
    except sqlite3.Error as exc:
        sock.close()
        raise UsageProblem(f"cannot open the database {db_path}: {exc}") from None
    except SeedRefused as exc:
        sock.close()
        raise UsageProblem(f"cannot seed {db_path}: {exc}") from None

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
