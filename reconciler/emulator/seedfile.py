"""Snapshots an emulator starts with: a seed file (`reconciler emulator --seed FILE`) or the
demo org (`--demo`).

A seed file is UTF-8 JSON Lines: one snapshot per line, a JSON object of its attributes as a
create request's `data.attributes` holds them (the same objects as `POST /_emulator/snapshots`
takes in `data`), with optional `created_at` / `modified_at` (ISO-8601). Blank lines and
lines starting with `#` are skipped. Lines end at "\n" only (a "\r" before it is dropped), so
line numbers are an editor's. Every problem (up to `MAX_PROBLEMS`) is reported at once as `line`,
`col` and a message; nothing is stored unless the whole file is valid.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
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
#: Reading stops after this many problems: a file that is wrong throughout (or not a seed
#: file at all) would otherwise print millions of lines, all held in memory first.
MAX_PROBLEMS: Final = 100
#: Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever.
_READ_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_KINDS: Final = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)
_BOM: Final = b"\xef\xbb\xbf"


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
        value = json.loads(line, parse_constant=_not_json, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        return None, [SeedProblem(number, _column_of_duplicate(line, exc.key), str(exc))]
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


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key '{key}'")
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object, refusing a key given twice (json keeps the last one silently)."""
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise _DuplicateKey(key)
        value[key] = item
    return value


def _column_of_duplicate(line: str, key: str) -> int:
    """The column of the second `"key":` as JSON spells it plainly, else 1."""
    keys = list(re.finditer(re.escape(json.dumps(key, ensure_ascii=False)) + r"[ \t]*:", line))
    return keys[1].start() + 1 if len(keys) > 1 else 1


def _lines(text: str) -> Iterator[str]:
    """The lines of JSON Lines text, one at a time: split at "\n" only (str.splitlines also
    splits at U+2028, form feed and others, which JSON strings may hold), "\r" dropped."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end == -1:
            end = len(text)
        line = text[start:end]
        yield line[:-1] if line.endswith("\r") else line
        start = end + 1


def parse_seed_text(text: str) -> list[SeedItem]:
    """The snapshots of a seed file's text, or SeedFileError with every problem: after
    `MAX_PROBLEMS`, the last problem is where reading stopped."""
    items: list[SeedItem] = []
    problems: list[SeedProblem] = []
    for number, line in enumerate(_lines(text), start=1):
        stripped = line.strip(" \t")  # JSON's whitespace within a line
        if not stripped or stripped.startswith("#"):
            continue
        if len(problems) >= MAX_PROBLEMS:
            problems.append(
                SeedProblem(number, 1, f"more problems not shown: stopped after {MAX_PROBLEMS}")
            )
            break
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
    data = _read_regular(path)
    if len(data) > MAX_SEED_BYTES:
        raise _refused(f"larger than {MAX_SEED_BYTES} bytes")
    # A byte order mark is not part of the first line (editors do not show it either).
    data = data.removeprefix(_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, start) + 1
        col = len(data[start : exc.start].decode("utf-8")) + 1  # in characters, as editors count
        raise SeedFileError([SeedProblem(line, col, "not valid UTF-8")]) from None
    return parse_seed_text(text)


def _refused(message: str) -> SeedFileError:
    return SeedFileError([SeedProblem(1, 1, message)])


def _read_regular(path: Path) -> bytes:
    """At most MAX_SEED_BYTES + 1 bytes of the regular file at `path` (a FIFO, a device or a
    directory is refused: reading one may block forever or never end)."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        raise _refused(f"cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "a special file")
            raise _refused(f"cannot read: it is {kind}, not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_SEED_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_SEED_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _refused(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def demo_items() -> list[SeedItem]:
    """The demo org's snapshots (shipped with the package)."""
    text = resources.files("reconciler.emulator").joinpath(DEMO_FILE).read_text("utf-8")
    return parse_seed_text(text)
