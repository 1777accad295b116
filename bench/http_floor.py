"""Floor: the list GETs of a plan with nothing but asyncio streams and `json`.

Reads a JSON file of [application_id, view_name] pairs and sends one GET per pair to the
snapshot collection of URL, at most CONCURRENCY in flight over keep-alive connections,
with the client's headers and query, and decodes each body with `json.loads`. No retries,
no bounds, no rate limiting: the least CPU the same HTTP work can cost in Python.

    python bench/http_floor.py URL scopes.json [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import urlencode, urlsplit

PATH = "/api/v2/replay/heatmap/snapshots"
HEADERS = (
    "DD-API-KEY: bench-api-key\r\nDD-APPLICATION-KEY: bench-app-key\r\n"
    "Accept: application/json\r\nUser-Agent: floor\r\n"
)


async def worker(host: str, port: int, queue: list[tuple[str, str]], seen: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    while queue:
        application, view = queue.pop()
        query = urlencode(
            {"filter[view_name]": view, "filter[application_id]": application, "page[limit]": 1000}
        )
        writer.write(f"GET {PATH}?{query} HTTP/1.1\r\nHost: {host}\r\n{HEADERS}\r\n".encode())
        status = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        body = json.loads(await reader.readexactly(length))
        assert status.split()[1] == b"200", status
        seen.append(len(body["data"]))
    writer.close()


async def main(url: str, scopes_path: str, concurrency: int) -> None:
    parts = urlsplit(url)
    with open(scopes_path) as handle:
        queue = [(a, v) for a, v in json.load(handle)]
    seen: list[int] = []
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    await asyncio.gather(*(worker(host, port, queue, seen) for _ in range(concurrency)))
    print(f"{len(seen)} GETs, {sum(seen)} snapshots")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 8))
