"""Nothing a file or a server says can command the CI runner or the terminal (issue 22).

A hostile repository (its `snapshots:` folder, file names, view names, snapshot names,
event ids, YAML keys) and a hostile server (the emulator seeded with such names, and a
server of the test's own for ids, error bodies and headers) put workflow commands
(`::add-mask::`, `::stop-commands::`, a forged `::error`), the older `##[command]` form, CR,
LF, ESC and OSC sequences, C1 controls and bidi characters everywhere. Every format of
`validate`, `plan`, `apply`, `show` and `export`, with `-vv` logs, is checked on the exact
bytes written:

- no line begins a workflow command, as the runner reads lines (split at CR and at LF,
  leading white space skipped), except the github format's own annotations, which name the
  right file and line;
- no `##[` anywhere;
- no raw control or bidi character (line feeds aside);
- JSON and exported YAML still read back as the very values.

Run in-process as the CLI runs (`cli.main.main`), against the emulator through
`httpx.ASGITransport` or a server of the test's own (`httpx.MockTransport`).
`test_inert_terminal.py` runs real processes on a pseudo-terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from reconciler.api.runtime import Runtime
from reconciler.cli.main import main
from reconciler.emulator import create_app
from support.hostile_names import (
    ESCAPED_FILE,
    ESCAPED_FILE_SHOWN,
    EVENT,
    EXACT_FILE,
    FOLDER,
    GONE,
    KEEP,
    NEW,
    OLD,
    OTHER_EVENT,
    OTHER_VIEW,
    REMOTE,
    RENAMED,
    STALE,
    VIEW,
    assert_inert,
    attributes,
    commands_in,
    hostile,
    printed,
    write_repository,
)
from support.workspace import API_KEY, APP, APP_KEY

# -- running the commands ------------------------------------------------------------------


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def reconciler(capsysbinary: pytest.CaptureFixture[bytes]) -> Runner:
    """`reconciler ARGS` in-process over `transport`: exit code, stdout, stderr (decoded
    strictly: every byte written is UTF-8)."""

    def run(*args: str, transport: httpx.AsyncBaseTransport | None = None) -> tuple[int, str, str]:
        capsysbinary.readouterr()
        code = main(list(args), runtime=Runtime(transport=transport))
        out, err = capsysbinary.readouterr()
        return code, out.decode(), err.decode()

    return run


def emulator_with(snapshots: tuple[dict[str, Any], ...]) -> Callable[[], httpx.AsyncBaseTransport]:
    """A new in-process emulator holding `snapshots`: a transport to it, each time asked."""
    app = create_app()

    async def seed() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://emulator"
        ) as client:
            answer = await client.post("/_emulator/snapshots", json={"data": list(snapshots)})
            assert answer.status_code == 201, answer.text

    asyncio.run(seed())
    return lambda: httpx.ASGITransport(app=app)


@pytest.fixture
def emulator() -> Callable[[], httpx.AsyncBaseTransport]:
    return emulator_with(REMOTE)


# -- a hostile repository: validation problems --------------------------------------------

#: Where each problem of the invalid repository is, as `validate --format json` says.
PROBLEM_FILES = {os.path.join(FOLDER, EXACT_FILE), os.path.join(FOLDER, ESCAPED_FILE)}


def test_validate_problems_command_nothing_in_any_format(
    repository: Path, reconciler: Runner
) -> None:
    write_repository(repository, valid=False)
    code, out, err = reconciler("validate", "--format", "json", "-vv")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert {p["path"] for p in problems} == PROBLEM_FILES  # the paths, read back exactly
    assert_inert(out + err)

    code, text, err = reconciler("validate", "-vv")
    assert code == 1
    assert_inert(text + err)
    lines = text.splitlines()
    assert len(lines) == len(problems)  # no name split a line
    exact = "./::add-mask::Plan/a,b%:c\\r\\n::error::d.yaml"
    # The duplicate's message names the view: each escape visible, on its own line.
    assert f"{exact}:16:7: duplicate snapshot {printed(VIEW)} [desktop] " in text
    assert all(line.startswith("./::add-mask::Plan/") for line in lines)

    code, github, err = reconciler("validate", "--format", "github")
    assert code == 1
    annotations = commands_in(github + err)
    assert len(annotations) == len(problems) == len(github.splitlines())
    for annotation, problem in zip(annotations, problems, strict=True):
        assert annotation["level"] == "error"
        assert (annotation["line"], annotation["col"]) == (
            str(problem["line"]),
            str(problem["col"]),
        )
        if problem["path"].endswith(EXACT_FILE):
            assert annotation["file"] == problem["path"]  # the runner reads the right file
            assert os.path.isfile(annotation["file"])
        else:
            assert annotation["file"] == os.path.join(FOLDER, ESCAPED_FILE_SHOWN)


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_problem_lines_of_plan_and_apply_command_nothing(
    repository: Path,
    reconciler: Runner,
    emulator: Callable[[], httpx.AsyncBaseTransport],
    command: str,
) -> None:
    """Route 1: every error line begins with its path, below a folder named `::add-mask::`."""
    write_repository(repository, valid=False)
    _, expected, _ = reconciler("validate")
    args = [command, "-vv"] + (["--auto-approve"] if command == "apply" else [])
    code, out, err = reconciler(*args, transport=emulator())
    assert code == 1
    assert out == ""
    assert_inert(err)
    assert err == expected  # the same lines as validate's, on stderr


# -- a hostile repository and server: plans, applies, saved plans, exports -----------------


def test_plan_commands_nothing_in_any_format(
    repository: Path, reconciler: Runner, emulator: Callable[[], httpx.AsyncBaseTransport]
) -> None:
    write_repository(repository)
    code, text, log = reconciler("plan", "-vv", transport=emulator())
    assert code == 0
    assert_inert(text + log)
    assert f'~ patch "{printed(VIEW)}" desktop "{printed(KEEP)}"' in text
    assert f'- delete "{printed(VIEW)}" desktop "{printed(GONE)}"' in text
    assert f'-/+ replace "{printed(VIEW)}" desktop "{printed(RENAMED)}"' in text
    assert f'    event_id : "{printed(EVENT)}" -> "{printed(OTHER_EVENT)}"' in text
    # Each request is one line of the log, its view name escaped (spaces are `+` in a query).
    listings = [line for line in log.splitlines() if line.startswith("GET ")]
    assert len(listings) == 2
    assert printed(VIEW).replace(" ", "+") in listings[0]

    code, markdown, log = reconciler("plan", "--format", "markdown", transport=emulator())
    assert code == 0
    assert_inert(markdown + log)
    assert f"`{printed(GONE)}`" in markdown

    code, document, log = reconciler("plan", "--format", "json", transport=emulator())
    assert code == 0
    assert_inert(document + log)
    names = {op["snapshot_name"] for op in json.loads(document)["operations"]}
    assert names == {KEEP, NEW, RENAMED, OLD, GONE, STALE}  # read back exactly

    code, github, log = reconciler("plan", "--format", "github", transport=emulator())
    assert code == 0
    annotations = commands_in(github + log)
    files = {(a["title"], a.get("file"), a.get("line")) for a in annotations}
    exact = os.path.join(FOLDER, EXACT_FILE)
    escaped = os.path.join(FOLDER, ESCAPED_FILE_SHOWN)
    assert files >= {
        ("replace", exact, "12"),  # the line of RENAMED
        ("delete", exact, "3"),  # the line of VIEW's key
        ("duplicate", exact, "3"),
        ("delete", escaped, "3"),  # OTHER_VIEW's key
        ("reconciler plan", None, None),
    }
    assert os.path.isfile(exact)
    assert (repository / exact).read_text().splitlines()[11] == (
        f"    - snapshot_name: {json.dumps(RENAMED)}"
    )


def test_show_of_a_hostile_saved_plan_commands_nothing(
    repository: Path, reconciler: Runner, emulator: Callable[[], httpx.AsyncBaseTransport]
) -> None:
    write_repository(repository)
    code, _, _ = reconciler("plan", "--out", "plan.json", transport=emulator())
    assert code == 0
    for output_format in ("text", "markdown", "github", "json"):
        code, out, err = reconciler("show", "plan.json", "--format", output_format, "-vv")
        assert code == 0
        found = commands_in(out + err)
        assert all(a["level"] in ("warning", "notice") for a in found)
        assert (output_format == "github") == bool(found)
    code, out, _ = reconciler("show", "plan.json", "--format", "json")
    assert json.loads(out) == json.loads((repository / "plan.json").read_text())


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_apply_commands_nothing(
    repository: Path,
    reconciler: Runner,
    emulator: Callable[[], httpx.AsyncBaseTransport],
    output_format: str,
) -> None:
    write_repository(repository)
    transport = emulator()
    args = ("apply", "--auto-approve", "--force", "-vv", "--format", output_format)
    code, out, err = reconciler(*args, transport=transport)
    assert code == 0, out + err
    assert_inert(out + err)
    if output_format == "json":
        results = json.loads(out)["results"]
        assert {r["snapshot_name"] for r in results} == {KEEP, NEW, RENAMED, OLD, GONE, STALE}
    else:
        assert f'deleted "{printed(OTHER_VIEW)}" desktop "{printed(STALE)}"' in out
        assert "Converged." in out


def test_export_to_stdout_commands_nothing_and_keeps_every_value(
    repository: Path, reconciler: Runner
) -> None:
    write_repository(repository)
    printable_command = "a##[add-mask]printable"  # written plain, but for `##[`
    transport = emulator_with((*REMOTE, attributes(printable_command, OTHER_VIEW)))
    args = ("export", "--application-id", APP, "--view", VIEW, "--view", OTHER_VIEW, "-vv")
    code, out, err = reconciler(*args, transport=transport())
    assert code == 0, err
    assert_inert(out + err)
    exported = YAML(typ="safe").load(out)  # what `export > file` writes
    assert set(exported["views"]) == {VIEW, OTHER_VIEW}
    names = {s["snapshot_name"] for view in exported["views"].values() for s in view}
    assert names == {KEEP, OLD, GONE, STALE, printable_command}


# -- a hostile server of the test's own: ids, error bodies, headers -------------------------

HOSTILE_ID = hostile("id-")
#: How the server's first error message is shown: white space collapsed, escapes visible.
SERVER_MESSAGE = printed(" ".join(hostile("message ").split()))
HOSTILE_HEADER = "\x1b]0;t\x07##[error]h::add-mask::h\u202e"
RATE_LIMIT_LOGGED = "rate limit \\u001b]0;t\\u0007#\\u0023[error]h::add-mask::h\\u202e exhausted"


class HostileServer:
    """Lists KEEP in VIEW (to be patched) and STALE in OTHER_VIEW (to be deleted), both with
    HOSTILE_ID, or fails VIEW's listing (`list_view` False) with an error body of hostile
    messages; answers a create with a redirect to a hostile host, a patch or a delete with
    the hostile error body; every answer names a hostile rate limit (logged at -vv)."""

    def __init__(self, list_view: bool) -> None:
        self.list_view = list_view

    def __call__(self, request: httpx.Request) -> httpx.Response:
        headers = {  # bytes: a server may send any byte but CR and LF in a header
            b"X-RateLimit-Name": HOSTILE_HEADER.encode(),
            b"X-RateLimit-Limit": b"100",
            b"X-RateLimit-Remaining": b"0",
            b"X-RateLimit-Reset": b"0.01",
        }
        errors = {"errors": [hostile("message "), {"title": hostile("title "), "detail": GONE}]}
        if request.method == "POST":
            # No `[` or `]` in it: `urlsplit` raises on them (an internal error, reported apart).
            location = "http://evil\x07\x1bP\u202e\u2028::add-mask::x.example/".encode()
            return httpx.Response(307, headers=headers | {b"Location": location})
        if request.method != "GET":
            return httpx.Response(400, headers=headers, json=errors)
        view = request.url.params["filter[view_name]"]
        if view == VIEW and not self.list_view:
            return httpx.Response(400, headers=headers, json=errors)
        listed = attributes(KEEP) if view == VIEW else attributes(STALE, OTHER_VIEW)
        item = {"id": HOSTILE_ID, "type": "snapshots", "attributes": listed}
        return httpx.Response(200, headers=headers, json={"data": [item]})


def test_a_hostile_servers_errors_and_ids_command_nothing(
    repository: Path, reconciler: Runner
) -> None:
    write_repository(repository)
    server = HostileServer(list_view=False)
    for output_format in ("text", "markdown", "json"):
        code, out, err = reconciler(
            "plan", "-vv", "--format", output_format, transport=httpx.MockTransport(server)
        )
        assert code == 1
        assert_inert(out + err)
        assert RATE_LIMIT_LOGGED in err
        if output_format == "json":
            [error] = json.loads(out)["errors"]
            assert " ".join(hostile("message ").split()) in error["message"]  # exactly
        else:
            assert SERVER_MESSAGE in out
    code, out, err = reconciler("plan", "--format", "github", transport=httpx.MockTransport(server))
    assert code == 1
    annotations = commands_in(out + err)
    exact = os.path.join(FOLDER, EXACT_FILE)
    assert [(a["level"], a.get("file"), a.get("line")) for a in annotations] == [
        ("error", exact, "3"),  # VIEW not listed: at its key
        ("warning", os.path.join(FOLDER, ESCAPED_FILE_SHOWN), "3"),  # STALE deleted
        ("notice", None, None),  # the summary
    ]
    assert SERVER_MESSAGE in annotations[0]["message"]

    server.list_view = True
    for output_format in ("text", "json"):
        code, out, err = reconciler(
            "apply",
            "--auto-approve",
            "--force",
            "-vv",
            "--format",
            output_format,
            transport=httpx.MockTransport(server),
        )
        assert code == 1
        assert_inert(out + err)
        lines = (out if output_format == "text" else err).splitlines()
        patched = f'! failed patch "{printed(VIEW)}" desktop "{printed(KEEP)}"'
        [failed] = [line for line in lines if line.startswith(patched)]
        assert f": 400 Bad Request: {SERVER_MESSAGE}; title " in failed
        redirected = "unexpected redirect to evil\\u0007\\u001bp\\u202e\\u2028;"
        assert sum(redirected in line for line in lines) == 2  # NEW and RENAMED


def test_a_hostile_servers_export_error_commands_nothing(
    repository: Path, reconciler: Runner
) -> None:
    write_repository(repository)
    args = ("export", "--application-id", APP, "--view", VIEW, "-vv")
    code, out, err = reconciler(*args, transport=httpx.MockTransport(HostileServer(False)))
    assert code == 1
    assert out == ""
    assert_inert(err)
