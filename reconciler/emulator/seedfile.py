"""Snapshots an emulator starts with: a seed file (`reconciler emulator --seed FILE`) or the
demo org (`--demo`).

A seed file is UTF-8 JSON Lines: one snapshot per line, a JSON object of its attributes as a
create request's `data.attributes` holds them (the same objects as `POST /_emulator/snapshots`
takes in `data`), with optional `created_at` / `modified_at` (ISO-8601). Blank lines and
lines starting with `#` are skipped. Every problem is reported at once as `line`, `col` and a
message; nothing is stored unless the whole file is valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from reconciler.emulator.validation import BadRequest, holds_lone_surrogate, validate_seed_item

#: A seed item: attributes, then created_at and modified_at in ms (None: the time of seeding).
SeedItem = tuple[dict[str, Any], int | None, int | None]

#: The demo org: the repository's example snapshot files, as a seed file.
DEMO_FILE: Final = "demo.jsonl"
#: Larger files are refused before reading: a seed file is typed or generated for a demo or
#: a test, and 64 MiB holds about 200,000 snapshots.
MAX_SEED_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True)
class SeedProblem:
    line: int
    col: int
    message: str


class SeedFileError(Exception):
    """A seed file that cannot be read or is not valid: every problem, with its position."""

    def __init__(self, problems: list[SeedProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


class SeedRefused(Exception):
    """Seeding a database that already holds snapshots: a restart would store them twice."""


def _column_of(line: str, message: str) -> int:
    """The column of the attribute a message names (`attribute 'start' must be ...`), else 1."""
    quoted = message.split("'")
    if len(quoted) >= 3:
        at = line.find(json.dumps(quoted[1]))
        if at != -1:
            return at + 1
    return 1


def _parse_line(line: str, number: int) -> tuple[SeedItem | None, list[SeedProblem]]:
    try:
        value = json.loads(line, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        return None, [SeedProblem(number, exc.colno, f"invalid JSON: {exc.msg}")]
    except ValueError as exc:
        return None, [SeedProblem(number, 1, f"invalid JSON: {exc}")]
    except RecursionError:
        return None, [SeedProblem(number, 1, "invalid JSON: nested too deeply")]
    if not isinstance(value, dict):
        return None, [SeedProblem(number, 1, "a line must be a JSON object of attributes")]
    if holds_lone_surrogate(value):  # no answer could carry it back
        return None, [SeedProblem(number, 1, "a lone surrogate escape (\\ud800-\\udfff)")]
    try:
        attributes, created, modified = validate_seed_item(value, number)
    except BadRequest as exc:
        # validate_seed_item prefixes "data[N]: " (its admin endpoint's spelling).
        prefix = f"data[{number}]: "
        messages = [m[len(prefix) :] if m.startswith(prefix) else m for m in exc.messages]
        return None, [SeedProblem(number, _column_of(line, m), m) for m in messages]
    return (attributes, created, modified), []


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def parse_seed_text(text: str) -> list[SeedItem]:
    """The snapshots of a seed file's text, or SeedFileError with every problem."""
    items: list[SeedItem] = []
    problems: list[SeedProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        item, found = _parse_line(line, number)
        problems += found
        if item is not None:
            items.append(item)
    if problems:
        raise SeedFileError(problems)
    return items


def read_seed_file(path: Path) -> list[SeedItem]:
    """The snapshots of the seed file at `path`; SeedFileError says what is wrong, with its
    line and column (line 1 for a file that cannot be read)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_SEED_BYTES + 1)
    except OSError as exc:
        raise SeedFileError([SeedProblem(1, 1, f"cannot read: {exc.strerror or exc}")]) from None
    if len(data) > MAX_SEED_BYTES:
        raise SeedFileError([SeedProblem(1, 1, f"larger than {MAX_SEED_BYTES} bytes")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SeedFileError([SeedProblem(line, col, "not valid UTF-8")]) from None
    return parse_seed_text(text)


def demo_items() -> list[SeedItem]:
    """The demo org's snapshots (shipped with the package)."""
    text = resources.files("reconciler.emulator").joinpath(DEMO_FILE).read_text("utf-8")
    return parse_seed_text(text)
