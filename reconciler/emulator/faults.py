"""Fault injection: random 5xx, writes committed but answered by a dropped connection, and
faults of the world around the API (repeated ids in a listing, a 201 without an id, another
writer creating the same snapshot at the same moment)."""

from __future__ import annotations

import json
import random
import threading
from typing import Literal

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

SERVER_ERRORS: dict[int, str] = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ConnectionDropped(Exception):
    """Raised after the response headers went out, so that the server closes the connection
    without a body: the client sees a truncated response (a transport error)."""


class Faults:
    """One seeded random stream for every fault decision, so a seed reproduces a run given
    the same sequence of requests. A draw is made only when its rate is above zero, so
    turning one fault on does not shift the decisions of another."""

    def __init__(self, seed: int | None) -> None:
        self._lock = threading.Lock()
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._random = random.Random(seed)

    def server_error(self, rate: float) -> int | None:
        """The 5xx status to answer instead of handling the request, if any."""
        if rate <= 0:
            return None
        with self._lock:
            if self._random.random() >= rate:
                return None
            return self._random.choice(sorted(SERVER_ERRORS))

    def drop_after_commit(self, rate: float) -> bool:
        return self._hit(rate)

    def repeated_item(self, rate: float, count: int) -> tuple[int, int, bool] | None:
        """For a listing of `count` items: (index of the item repeated, position of the
        copy, whether the copy carries another snapshot_name), or None. Half the copies
        (seeded) are renamed."""
        if rate <= 0 or count == 0:
            return None
        with self._lock:
            if self._random.random() >= rate:
                return None
            index = self._random.randrange(count)
            position = self._random.randrange(count + 1)
            return index, position, self._random.random() < 0.5

    def create_without_id(self, rate: float) -> Literal["no_id", "empty_body"] | None:
        """How a committed create is answered instead of with its id: a 201 whose `data`
        lacks `id`, or a 201 with no body at all (seeded, half each)."""
        if not self._hit(rate):
            return None
        with self._lock:
            return "no_id" if self._random.random() < 0.5 else "empty_body"

    def concurrent_writer(self, rate: float) -> Literal["before", "after"] | None:
        """Whether another writer commits the same snapshot just before or just after this
        create (seeded, half each): its copy is the older one, or the newer one."""
        if not self._hit(rate):
            return None
        with self._lock:
            return "before" if self._random.random() < 0.5 else "after"

    def _hit(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate


class DroppedResponse(Response):
    """A response that promises a body (Content-Length) and then dies. Under a real server
    (uvicorn closes the connection when the app raises after the response started) the client
    gets the headers and no body, which httpx reports as RemoteProtocolError."""

    def __init__(self, status_code: int, headers: dict[str, str], body: object) -> None:
        content = json.dumps(body).encode() if body is not None else b""
        super().__init__(content, status_code, headers, media_type="application/json")
        if not content:
            # A 204 cannot carry a body, so claim a 200 with one byte: the truncation, not
            # the status, is what the client observes.
            self.status_code = 200
            self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"] + [
                (b"content-length", b"1")
            ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        raise ConnectionDropped("emulated: write committed, connection dropped before the body")
