"""On a terminal, nothing a file or a server says reaches it raw (issue 22, route 4): ESC and
OSC sequences (a window title, an OSC 8 hyperlink, a cleared screen), C1 controls and bidi
characters in view keys, names, paths, ids and server messages are shown escaped.

`reconciler` runs as a real process whose stdout and stderr are a pseudo-terminal (so
colours and apply's progress bar are on), against a real emulator process seeded with the
hostile names, or a hostile server of the test's own on raw sockets. What the terminal
receives may hold only our own codes: colours (SGR), the progress bar's carriage returns
and erase-line, and the terminal's CR LF.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from support.hostile_names import (
    KEEP,
    OTHER_VIEW,
    REMOTE,
    STALE,
    VIEW,
    attributes,
    hostile,
    printed,
    write_repository,
)
from support.processes import env_for, on_terminal, running_emulator
from support.rawserver import RawServer, response_head

#: What a run of ours may send a terminal besides text: colours, and the progress bar's
#: carriage return and erase-line (the terminal itself turns each LF into CR LF).
OUR_CODES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[K|\r")


def assert_shown_not_obeyed(screen: str) -> None:
    """Once our own codes are taken out, every character the terminal got prints."""
    text = OUR_CODES.sub("", screen)
    raw = sorted({char for char in text if not char.isprintable() and char != "\n"})
    assert not raw, f"raw {raw!r} reached the terminal: {screen!r}"
    assert "##[" not in screen


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    write_repository(tmp_path)
    return tmp_path


def test_validate_shows_hostile_keys_and_paths_escaped(tmp_path: Path) -> None:
    write_repository(tmp_path, valid=False)
    code, screen = on_terminal(["validate"], tmp_path, env_for("http://127.0.0.1:9"))
    assert code == 1
    assert_shown_not_obeyed(screen)
    assert f"duplicate snapshot {printed(VIEW)} [desktop]" in screen


def test_plan_and_its_log_show_hostile_names_escaped(repository: Path) -> None:
    with running_emulator() as url:
        seeded = httpx.post(f"{url}/_emulator/snapshots", json={"data": list(REMOTE)})
        assert seeded.status_code == 201, seeded.text
        code, screen = on_terminal(["plan", "-v"], repository, env_for(url))
    assert code == 0, screen
    assert_shown_not_obeyed(screen)
    assert "\x1b[" in screen  # colours on: the terminal is one
    assert printed(KEEP) in screen
    assert sum(line.startswith("GET ") for line in screen.split("\r\n")) == 2  # one line each


def test_apply_shows_a_hostile_servers_names_and_errors_escaped(repository: Path) -> None:
    """The failure lines quote the server's error body; -v logs each request."""
    server = RawServer(hostile_answers)
    try:
        code, screen = on_terminal(
            ["apply", "--auto-approve", "--force", "-vv"], repository, env_for(server.url)
        )
    finally:
        server.close()
    assert code == 1
    assert_shown_not_obeyed(screen)
    assert "\x1b[31m" in screen  # a failure's sign in red: the terminal is one
    assert "failed patch" in screen
    assert printed(" ".join(hostile("server says ").split())) in screen
    assert "rate limit limit ::add-mask::x #\\u0023[error]y " in screen


def hostile_answers(conn: socket.socket, request: bytes) -> None:
    """Listings: KEEP in VIEW (to be patched), STALE in OTHER_VIEW; every write: a 400 with
    a hostile error body; every answer names a hostile rate limit."""
    method, target, _ = request.split(b"\r\n", 1)[0].decode().split(" ", 2)
    # What HTTP lets a header hold (no CR, LF or ESC), logged at -vv.
    limit = "limit ::add-mask::x ##[error]y \u202e\u2066 \x9b2J"
    headers = {"Content-Type": "application/json", "X-RateLimit-Name": limit}
    headers |= {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "0.01",
    }
    if method == "GET":
        view = parse_qs(urlsplit(target).query)["filter[view_name]"][0]
        listed = attributes(KEEP) if view == VIEW else attributes(STALE, OTHER_VIEW)
        item = {"id": hostile("id-"), "type": "snapshots", "attributes": listed}
        status, document = "200 OK", {"data": [item]}
    else:
        status, document = "400 Bad Request", {"errors": [hostile("server says ")]}
    body = json.dumps(document).encode()
    head = response_head(status, headers | {"Content-Length": str(len(body))})
    conn.sendall(head + body)
