"""A hostile HTTP server of the test's own on raw sockets (127.0.0.1): it answers every
request with whatever bytes a scenario writes, at whatever pace, which no well-behaved
server framework would produce (floods of `100 Continue`, bodies dripped a byte at a time,
nested compression bombs, absurd rate-limit headers)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

#: Writes an answer on the connection; `request` is the head of the request received.
Scenario = Callable[[socket.socket, bytes], None]


class RawServer:
    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self.requests: list[bytes] = []
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                while not self._stop.is_set():
                    head = _read_head(conn)
                    if not head:
                        return
                    self.requests.append(head)
                    self._scenario(conn, head)
            except OSError:
                return  # the client went away: that is the point of most scenarios

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
        if len(data) > 1 << 20:
            return b""
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head


def hang_up(conn: socket.socket, request: bytes) -> None:
    """A scenario: close the connection unanswered."""
    conn.close()


def response_head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
