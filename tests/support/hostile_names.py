"""A hostile world for the output tests (issue 22): names, paths, ids and messages holding
workflow commands, the runner's older `##[` form, CR, LF, ESC and OSC sequences, C1 controls
and bidi characters; a repository and a remote state made of them; and what the runner and
a person read of an output (`commands_in`, `printed`). Used by tests/system/test_inert_*.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from support.factories import APP

#: Each piece commands the runner or the terminal when printed as it is.
ATTACKS = (
    "::add-mask::Plan",
    "\n::stop-commands::pause",
    "\r::error file=README.md,line=1::forged",
    "##[error]old form",
    "##[add-mask]x",
    "\x1b]0;pwned title\x07",
    "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
    "\x1b[2J\x1b[31m",
    "\x9b2J",
    "\u202egnp.exe",
    "\u2066\u2069\u2028\u200b\ufeff\x7f",
)


def hostile(prefix: str) -> str:
    return prefix + "".join(ATTACKS)


def printed(text: str) -> str:
    """How text output shows a hostile name: each escape visible (the spelling of
    `core.text`, written out here)."""
    escapes = {
        "\n": "\\n",
        "\r": "\\r",
        "\x1b": "\\u001b",
        "\x07": "\\u0007",
        "\x9b": "\\u009b",
        "\u202e": "\\u202e",
        "\u2066": "\\u2066",
        "\u2069": "\\u2069",
        "\u2028": "\\u2028",
        "\u200b": "\\u200b",
        "\ufeff": "\\ufeff",
        "\x7f": "\\u007f",
    }
    return "".join(escapes.get(char, char) for char in text).replace("##[", "#\\u0023[")


#: The `snapshots:` folder of reconciler.yaml: every path below it begins with `::`.
FOLDER = "::add-mask::Plan"
#: A file name the runner's escapes carry exactly (`%`, `:`, `,`, CR, LF).
EXACT_FILE = "a,b%:c\r\n::error::d.yaml"
#: A file name no workflow command can carry as it is (`##[`, ESC, bidi).
ESCAPED_FILE = "##[error]e\x1b]0;t\x07\u202e.yaml"
#: How the github format names ESCAPED_FILE: each character shown by its JSON escape.
ESCAPED_FILE_SHOWN = "#\\u0023[error]e\\u001b]0;t\\u0007\\u202e.yaml"

VIEW = hostile("/v")
OTHER_VIEW = hostile("/w")
KEEP, NEW, RENAMED, OLD, GONE = (hostile(n) for n in ("keep", "new", "renamed", "old", "gone"))
STALE = hostile("stale")
EVENT, OTHER_EVENT = hostile("evt-"), hostile("evt2-")
HOSTILE_KEY = hostile("unknown-")


def entry(name: str, event: str, start: int) -> str:
    """A snapshot of a snapshots file, 4 lines (JSON strings are YAML double-quoted)."""
    return (
        f"    - snapshot_name: {json.dumps(name)}\n      device_type: desktop\n"
        f"      event_id: {json.dumps(event)}\n      start: {start}\n"
    )


def write_repository(root: Path, valid: bool = True) -> None:
    """reconciler.yaml naming FOLDER, and two snapshots files there (EXACT_FILE: VIEW at line
    3, its snapshots at lines 4, 8, 12; ESCAPED_FILE: OTHER_VIEW at line 3). Invalid: a
    duplicate snapshot, a name that is not a string and an unknown hostile key in EXACT_FILE,
    a missing field in ESCAPED_FILE."""
    (root / "reconciler.yaml").write_text(
        f"snapshots: {json.dumps(FOLDER)}\napi_url: http://127.0.0.1:9\n"
    )
    folder = root / FOLDER
    folder.mkdir()
    head = f"application_id: {APP}\nviews:\n"
    first = head + f"  {json.dumps(VIEW)}:\n"
    first += entry(KEEP, OTHER_EVENT, 1) + entry(NEW, EVENT, 2) + entry(RENAMED, EVENT, 3)
    second = head + f"  {json.dumps(OTHER_VIEW)}: []\n"
    if not valid:
        first += entry(KEEP, EVENT, 4)  # line 16: a duplicate of line 4
        first += f"    - snapshot_name: 5\n      {json.dumps(HOSTILE_KEY)}: 1\n"
        second = head + f"  {json.dumps(OTHER_VIEW)}:\n    - snapshot_name: x\n"
    (folder / EXACT_FILE).write_text(first)
    (folder / ESCAPED_FILE).write_text(second)


def attributes(name: str, view: str = VIEW, event: str = EVENT, start: int = 1) -> dict[str, Any]:
    return {
        "application_id": APP,
        "view_name": view,
        "device_type": "desktop",
        "snapshot_name": name,
        "event_id": event,
        "start": start,
        "is_device_type_selected_by_user": False,
    }


#: The emulator's snapshots: KEEP twice (a patch of its event id, and a duplicate), OLD (to
#: be replaced by RENAMED: the same event and start), GONE and STALE (deletes).
REMOTE = (
    attributes(KEEP),
    attributes(KEEP),
    attributes(OLD, start=3),
    attributes(GONE),
    attributes(STALE, view=OTHER_VIEW),
)

# -- what the runner and the terminal read ------------------------------------------------

RUNNER_LINES = re.compile(r"\r\n|\r|\n")
ANNOTATION = re.compile(r"::(error|warning|notice)(?: ([^:]*))?::(.*)")


def github_decoded(value: str) -> str:
    """A property as the runner reads it (its unescaping of workflow commands)."""
    for escape, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escape, char)
    return value


def commands_in(output: str) -> list[dict[str, str]]:
    """The workflow commands the runner would read in `output`, each as its properties
    (decoded) and `level` and `message`, after checking that `output` holds no `##[` and no
    character that does not print but line feeds."""
    assert "##[" not in output
    raw = [char for char in output if not char.isprintable() and char != "\n"]
    assert not raw, f"raw {raw!r} in {output!r}"
    found: list[dict[str, str]] = []
    for line in RUNNER_LINES.split(output):
        if not line.lstrip().startswith("::"):
            continue
        match = ANNOTATION.fullmatch(line)
        assert match is not None, f"a workflow command: {line!r}"
        level, properties, message = match.groups()
        command = {"level": level, "message": message}
        for pair in (properties or "").split(","):
            name, _, value = pair.partition("=")
            command[name] = github_decoded(value)
        found.append(command)
    return found


def assert_inert(output: str) -> None:
    """`output` commands nothing: no workflow command at all, no `##[`, no raw control."""
    assert commands_in(output) == []
