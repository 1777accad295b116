"""Floor: the list GETs of a plan with nothing but asyncio streams and `json`.

Reads a JSON file of [application_id, view_name] pairs and sends one GET per pair to the
snapshot collection of URL, at most CONCURRENCY in flight over keep-alive connections,
with the client's headers and query, and decodes each body with `json.loads`. No retries,
no bounds, no rate limiting: the least CPU the same HTTP work can cost in Python.

With `--httpx-models`, the same wire work, plus what httpx itself costs a transport under its
seam that does nothing else: `import httpx`, an `httpx.Request` per GET (as the client
builds it) and an `httpx.Response` around each body. The least CPU the HTTP work can cost
while httpx stays the client's API.

    python bench/http_floor.py URL scopes.json [CONCURRENCY] [--httpx-models]
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any
from urllib.parse import urlencode, urlsplit

PATH = "/api/v2/replay/heatmap/snapshots"
HEADERS = (
    "DD-API-KEY: bench-api-key\r\nDD-APPLICATION-KEY: bench-app-key\r\n"
    "Accept: application/json\r\nUser-Agent: floor\r\n"
)
MODEL_HEADERS = [
    (name, value.strip())
    for name, _, value in (line.partition(":") for line in HEADERS.split("\r\n") if line)
]


async def worker(
    url: str, queue: list[tuple[str, str]], seen: list[int], models: Any = None
) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    while queue:
        application, view = queue.pop()
        query = urlencode(
            {"filter[view_name]": view, "filter[application_id]": application, "page[limit]": 1000}
        )
        if models is not None:
            request = models.Request("GET", f"{url}{PATH}?{query}", headers=MODEL_HEADERS)
        writer.write(f"GET {PATH}?{query} HTTP/1.1\r\nHost: {host}\r\n{HEADERS}\r\n".encode())
        status = await reader.readline()
        length = 0
        headers = []
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            headers.append((name, value.strip()))
            if name.lower() == b"content-length":
                length = int(value)
        content = await reader.readexactly(length)
        if models is not None:
            response = models.Response(
                int(status.split()[1]), headers=headers, content=content, request=request
            )
            content = response.content
        body = json.loads(content)
        assert status.split()[1] == b"200", status
        seen.append(len(body["data"]))
    writer.close()


async def main(url: str, scopes_path: str, concurrency: int, with_models: bool) -> None:
    models = None
    if with_models:
        import httpx

        models = httpx
    with open(scopes_path) as handle:
        queue = [(a, v) for a, v in json.load(handle)]
    seen: list[int] = []
    await asyncio.gather(*(worker(url, queue, seen, models) for _ in range(concurrency)))
    print(f"{len(seen)} GETs, {sum(seen)} snapshots")


if __name__ == "__main__":
    flags = [arg for arg in sys.argv[1:] if arg.startswith("--")]
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    concurrency = int(args[2]) if len(args) > 2 else 8
    asyncio.run(main(args[0], args[1], concurrency, "--httpx-models" in flags))
