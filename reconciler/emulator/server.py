"""Running the app under a real uvicorn server: in a background thread (tests, benches) or
in the foreground (the `reconciler emulator` command)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import uvicorn
from starlette.requests import ClientDisconnect

from reconciler.emulator.app import create_app, emulator_of
from reconciler.emulator.faults import ConnectionDropped
from reconciler.emulator.seedfile import SeedItem, SeedRefused
from reconciler.emulator.settings import EmulatorSettings


class _HideDroppedConnections(logging.Filter):
    """uvicorn logs every exception that escapes the app; an emulated drop is not a bug, and
    neither is a client that went away mid-request (an interrupted apply)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped | ClientDisconnect)


_FILTER = _HideDroppedConnections()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, so the real port is known before the server starts (port 0)."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket's proto says TCP; with proto 0, Nagle + delayed ACK cost ~40 ms/request.
    # An address with a colon is IPv6 (::1); anything else is an IPv4 address or a name.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"


def build_server(
    settings: EmulatorSettings | None, *, log_config: bool, seed: Sequence[SeedItem] = ()
) -> uvicorn.Server:
    """A server of a new app, its store holding `seed` (which needs an empty store: a
    database file seeded on every start would hold each snapshot once per start)."""
    app = create_app(settings)
    if seed:
        emulator = emulator_of(app)
        held = emulator.store.count()
        if held:
            emulator.store.close()
            raise SeedRefused(f"the database already holds {held} snapshots: seed an empty one")
        emulator.seed(seed)
    config = uvicorn.Config(
        app,
        # h11 and asyncio explicitly: the drop-after-commit behaviour is verified with them.
        http="h11",
        loop="asyncio",
        lifespan="on",
        access_log=False,
        log_level="warning",
        # In tests, leave the host process's logging alone.
        log_config=uvicorn.config.LOGGING_CONFIG if log_config else None,
        timeout_graceful_shutdown=2,
    )
    logging.getLogger("uvicorn.error").addFilter(_FILTER)
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(
    settings: EmulatorSettings | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: Sequence[SeedItem] = (),
) -> Iterator[str]:
    """Serve an emulator with a real uvicorn server in a background thread; yield its base
    URL ("http://127.0.0.1:PORT") and shut it down cleanly on exit."""
    sock = bind(host, port)
    try:
        server = build_server(settings, log_config=False, seed=seed)
    except BaseException:
        sock.close()
        raise
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="emulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.005)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
