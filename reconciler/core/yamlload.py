"""Position-preserving, hostile-input-safe YAML loading on ruamel.yaml's C parser.

libyaml (through `ruamel.yaml.clib`) parses; `yamlbuild` turns its events into plain values
(dict / list / str / int / float / bool / None) that remember where every key and value was
written, in one pass without a node tree. Building values ourselves lets us resolve scalars
with the YAML 1.2 core schema, reject every tag that is not a core one (nothing is ever
constructed from a tag), report duplicate keys, and bound nesting depth and alias expansion.
This module turns every way a file can fail into a positioned problem.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import _ruamel_yaml  # type: ignore[import-not-found]  # ruamel.yaml.clib, no stubs
from ruamel.yaml import events
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from reconciler.core.files import Refused, read_regular
from reconciler.core.yamlbuild import MAX_ALIAS_NODES as MAX_ALIAS_NODES
from reconciler.core.yamlbuild import MAX_DEPTH as MAX_DEPTH
from reconciler.core.yamlbuild import (
    NO_POSITIONS,
    Builder,
    NeedPositions,
    SecondDocument,
    TooDeep,
    UndefinedAlias,
    too_deep,
)
from reconciler.core.yamlbuild import PosDict as PosDict
from reconciler.core.yamlbuild import PosList as PosList
from reconciler.core.yamlbuild import YamlProblem as YamlProblem
from reconciler.core.yamlscalar import CONSTANTS, NUMBER_START, resolve_number
from reconciler.core.yamlscalar import INVALID as INVALID
from reconciler.core.yamlscalar import MAX_INT_DIGITS as MAX_INT_DIGITS

# The event classes the lean loop compares with, as module names (one lookup each).
_SCALAR, _ALIAS, _DOCUMENT = events.ScalarEvent, events.AliasEvent, events.DocumentStartEvent
_MAP, _MAP_END = events.MappingStartEvent, events.MappingEndEvent
_SEQ, _SEQ_END = events.SequenceStartEvent, events.SequenceEndEvent

#: Files larger than this are refused before parsing (a snapshots file is a few KB).
MAX_FILE_BYTES: Final = 20 * 1024 * 1024
#: The parser: libyaml's, compiled (tests check it is not the pure-Python one).
EVENT_PARSER: Final = _ruamel_yaml.CParser


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded file: `value` is None when the file is empty or could not be parsed."""

    value: Any
    problems: tuple[YamlProblem, ...]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Loading builds many small objects and no cycles; the collector only slows it down."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_file(path: Path) -> tuple[bytes | None, YamlProblem | None]:
    """Read a regular file of at most MAX_FILE_BYTES; anything else gives a problem at 1:1."""
    try:
        return read_regular(path, MAX_FILE_BYTES), None
    except Refused as exc:
        return None, YamlProblem(1, 1, str(exc))


def load_bytes(data: bytes, *, lean: bool = False) -> Document:
    """Parse one YAML document; never raises for any input. `lean`: positions only where
    a value is a collection (see yamlbuild.Builder); load again without it to explain."""
    if lean:
        # Anything unusual, an error included: the builder below explains it.
        with contextlib.suppress(Exception):
            return Document(lean_plain(EVENT_PARSER(data)), ())
    problems: list[YamlProblem] = []
    try:
        value = Builder(problems, lean).build(EVENT_PARSER(data))
    except NeedPositions:
        return load_bytes(data)
    except TooDeep as exc:
        return Document(None, (YamlProblem(*exc.position, too_deep()),))
    except SecondDocument as exc:
        return Document(
            None, (YamlProblem(*exc.position, "a file must hold a single YAML document"),)
        )
    except UndefinedAlias as exc:
        return Document(
            None, (YamlProblem(*exc.position, "YAML syntax error: found undefined alias"),)
        )
    except MarkedYAMLError as exc:
        return Document(None, (_syntax_problem(exc, data),))
    except ReaderError as exc:
        return Document(None, (_reader_problem(data, exc),))
    except (YAMLError, ValueError, RecursionError) as exc:  # anything else libyaml raises
        return Document(None, (YamlProblem(1, 1, f"YAML error: {exc}"),))
    return Document(value, tuple(problems))


class Unusual(Exception):
    """Something only `yamlbuild.Builder` handles: an anchor, an alias, a tag, a duplicate
    or collection key, an over-long integer, too deep a nesting, a second document."""


def lean_plain(parser: Any) -> Any:
    """What `Builder(problems, lean=True).build(parser)` returns, for the documents every
    snapshots file is (none of what `Unusual` lists: it is raised on the first such event),
    in a third of the time: one loop, no per-event calls, positions read only where kept.
    `test_desired_lean_plain.py` checks it against the builder on generated documents.
    Anything else it meets (an error included) makes `load_bytes` use the builder."""
    get_event = parser.get_event
    keys: dict[str, str] = {}  # one str object per distinct key text, as the builder keeps
    stack: list[tuple[Any, bool, Any, Any]] = []  # the enclosing (collection, is_map, key, at)
    current: Any = None  # the innermost open collection
    is_map = False
    key: str | None = None  # in a mapping: the key whose value comes next
    key_event: Any = None
    root: Any = None
    documents = 0
    while (event := get_event()) is not None:
        cls = type(event)
        if cls is _SCALAR:
            if event.anchor is not None or event.ctag is not None:  # `tag` is a property of it
                raise Unusual
            text = event.value
            if is_map and key is None:
                key = keys.setdefault(text, text)
                if key in current:
                    raise Unusual
                key_event = event
                continue
            value: Any = text
            if event.implicit[0]:  # plain, as yamlscalar.resolve_plain reads it
                if text in CONSTANTS:
                    value = CONSTANTS[text]
                elif text[0] in NUMBER_START:
                    if len(text) > MAX_INT_DIGITS:  # maybe refused: the builder says
                        raise Unusual
                    value = resolve_number(text)
            if is_map:
                current[key] = value
                key = None
            elif current is not None:
                current.append(value)
                mark = event.start_mark
                current.item_pos.append((mark.line + 1, mark.column + 1))
            else:
                root = value
        elif cls is _MAP or cls is _SEQ:
            if event.anchor is not None or event.ctag is not None:  # `tag` is a property of it
                raise Unusual
            if (is_map and key is None) or len(stack) >= MAX_DEPTH:
                raise Unusual
            mark = event.start_mark
            pos = (mark.line + 1, mark.column + 1)
            stack.append((current, is_map, key, key_event))
            is_map = cls is _MAP
            current = PosDict(pos, False) if is_map else PosList(pos)
            key = None
        elif cls is _MAP_END or cls is _SEQ_END:
            done = current
            current, is_map, key, key_event = stack.pop()
            if is_map:
                current[key] = done
                if current.key_pos is NO_POSITIONS:
                    current.key_pos, current.value_pos = {}, {}
                mark = key_event.start_mark
                current.key_pos[key] = (mark.line + 1, mark.column + 1)
                current.value_pos[key] = done.pos
                key = None
            elif current is not None:
                current.append(done)
                current.item_pos.append(done.pos)
            else:
                root = done
        elif cls is _ALIAS:
            raise Unusual
        elif cls is _DOCUMENT:
            documents += 1
            if documents > 1:
                raise Unusual
    return root


def _syntax_problem(exc: MarkedYAMLError, data: bytes) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = str(exc.problem or "invalid YAML")
    if problem == "but found another document":
        return YamlProblem(line, col, "a file must hold a single YAML document")
    message = f"YAML syntax error: {problem}"
    context_mark = exc.context_mark
    same_place = mark is context_mark or (
        mark is not None
        and context_mark is not None
        and (mark.line, mark.column) == (context_mark.line, context_mark.column)
    )
    if exc.context and context_mark is not None and not same_place:
        message += f" ({exc.context} started at {context_mark.line + 1}:{context_mark.column + 1})"
    if _char_at(data, line, col) == "\t":
        message += " (tabs cannot indent YAML; use spaces)"
    return YamlProblem(line, col, message)


def _char_at(data: bytes, line: int, col: int) -> str:
    lines = data.split(b"\n", line)
    if len(lines) < line:
        return ""
    text = lines[line - 1].decode("utf-8", "replace")
    return text[col - 1] if 0 < col <= len(text) else ""


def _reader_problem(data: bytes, exc: ReaderError) -> YamlProblem:
    """libyaml reports the byte offset of a bad character; turn it into line:col."""
    offset = max(0, min(int(exc.position or 0), len(data)))
    reason = str(exc.reason or "")
    if "UTF-8" in reason and "leading" not in reason:
        # libyaml points at the bad continuation byte; people need the sequence's start.
        start = offset - 1
        while start > 0 and offset - start < 4 and 0x80 <= data[start] < 0xC0:
            start -= 1
        if start >= 0 and data[start] >= 0xC0:
            offset = start
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    col = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    character = exc.character
    if "UTF-8" in reason or isinstance(character, bytes):
        code = data[offset] if offset < len(data) else 0
        return YamlProblem(line, col, f"not valid UTF-8 (byte 0x{code:02x})")
    if character == 0:
        return YamlProblem(line, col, "NUL byte (0x00) is not allowed in YAML")
    if isinstance(character, int):
        return YamlProblem(line, col, f"character U+{character:04X} is not allowed in YAML")
    return YamlProblem(line, col, f"YAML error: {reason}")
