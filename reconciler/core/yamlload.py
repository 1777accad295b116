"""Position-preserving, hostile-input-safe YAML loading on ruamel.yaml's C parser.

libyaml (through `ruamel.yaml.clib`) parses; `Builder` turns its events into plain values
(dict / list / str / int / float / bool / None) that remember where keys and values were
written, in one pass without a node tree (a node tree took two thirds of the memory of a
large file and a third of the time). Each event goes straight into a value, with an explicit
stack (no recursion, so nesting depth is checked as it grows). Scalars are resolved with the
YAML 1.2 core schema (`yamlscalar`); any tag that is not a core one is refused, and nothing is
ever constructed from a tag. Duplicate keys are reported; an alias reuses the value of its
anchor, and the nodes aliases would expand to are counted against a budget (billion laughs),
as if each alias were a copy. `load_bytes` turns every way a file can fail into a positioned
problem.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import _ruamel_yaml  # type: ignore[import-not-found]  # ruamel.yaml.clib, no stubs
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.reader import ReaderError

from reconciler.core.files import Refused, read_regular
from reconciler.core.yamlscalar import INVALID, MAP, SEQ, STR, resolve, short_tag

#: Files larger than this are refused before parsing (a snapshots file is a few KB).
MAX_FILE_BYTES: Final = 20 * 1024 * 1024
#: The parser: libyaml's, compiled (tests check it is not the pure-Python one).
EVENT_PARSER: Final = _ruamel_yaml.CParser
#: Deepest nesting accepted; a snapshots file needs 4 levels.
MAX_DEPTH: Final = 100
#: Nodes that may be visited again through aliases in one document (stops alias bombs).
MAX_ALIAS_NODES: Final = 100_000

Position = tuple[int, int]

#: The positions of a lean mapping none of whose values is a collection (never written).
NO_POSITIONS: Final[dict[str, Position]] = {}


class PosDict(dict[str, Any]):
    """A YAML mapping: `pos` is where it starts, `key_pos` / `value_pos` per key (in a
    lean load, only for keys whose value is a collection)."""

    __slots__ = ("key_pos", "pos", "value_pos")

    def __init__(self, pos: Position, positions: bool = True) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, Position] = {} if positions else NO_POSITIONS
        self.value_pos: dict[str, Position] = {} if positions else NO_POSITIONS


class PosList(list[Any]):
    """A YAML sequence: `pos` is where it starts, `item_pos[i]` where item i starts."""

    __slots__ = ("item_pos", "pos")

    def __init__(self, pos: Position) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Position] = []


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """A problem found while loading; 1-based line and column."""

    line: int
    col: int
    message: str


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
    a value is a collection (see `Builder`); load again without it to explain a problem."""
    problems: list[YamlProblem] = []
    try:
        value = Builder(problems, lean).build(EVENT_PARSER(data))
    except NeedPositions:
        return load_bytes(data)
    except TooDeep as exc:
        message = f"nesting is deeper than {MAX_DEPTH} levels"
        return Document(None, (YamlProblem(*exc.position, message),))
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


class TooDeep(Exception):
    """Nesting passed MAX_DEPTH: the whole document is refused, at this position."""

    def __init__(self, position: Position) -> None:
        super().__init__(position)
        self.position = position


class SecondDocument(Exception):
    """The stream holds another document, starting at this position."""

    def __init__(self, position: Position) -> None:
        super().__init__(position)
        self.position = position


class NeedPositions(Exception):
    """A lean load met what needs every position to be explained (a duplicate key)."""


class UndefinedAlias(Exception):
    def __init__(self, position: Position) -> None:
        super().__init__(position)
        self.position = position


# Mapping states: what the next node of an open mapping is (a key being skipped: its end).
_KEY, _VALUE, _SKIP_VALUE, _SKIPPING_KEY = 0, 1, 2, 3


class _Open:
    """A collection being built; `value` is None while its content is skipped."""

    __slots__ = ("anchor", "is_map", "key", "key_at", "pos", "size", "state", "value")

    def __init__(self, value: Any, is_map: bool, pos: Position, anchor: str | None) -> None:
        self.value = value
        self.is_map = is_map
        self.pos = pos
        self.anchor = anchor
        self.size = 1  # nodes of the subtree, aliases counted as copies
        self.state = _KEY
        self.key = ""
        self.key_at = pos


#: An anchor: (value, size, position, scalar event or None); size None while still open.
_Anchor = tuple[Any, int | None, Position, Any]


class Builder:
    """Events of one parser -> the document's value; problems are appended to `problems`.
    Raises TooDeep, SecondDocument, UndefinedAlias, NeedPositions (lean), or what the
    parser raises.

    `lean` keeps the positions of keys and values only where the value is a collection
    (and of every sequence item): validate of 100,000 snapshots in one file then peaks at
    130 MB, not 202 MB. Files that turn out invalid are loaded again in full, for their
    messages; a duplicate key (whose message needs its first position) stops a lean load."""

    def __init__(self, problems: list[YamlProblem], lean: bool = False) -> None:
        self.problems = problems
        self.lean = lean
        self.anchors: dict[str, _Anchor] = {}
        self.alias_nodes = 0
        self.budget_reported = False
        self.keys: dict[str, str] = {}  # one str object per distinct key text
        self.root: Any = None
        self.last_line = -1
        self.last: Position = (0, 0)

    def build(self, parser: Any) -> Any:
        get_event = parser.get_event
        stack: list[_Open] = []
        skipping = 0  # depth inside a subtree whose events are consumed, not built
        documents = 0
        while (event := get_event()) is not None:
            cls = type(event)
            if skipping:
                self.anchor_invalid(getattr(event, "anchor", None), self.pos(event))
                if cls is MappingStartEvent or cls is SequenceStartEvent:
                    skipping += 1
                elif cls is MappingEndEvent or cls is SequenceEndEvent:
                    skipping -= 1
                    if not skipping:
                        self.skipped(stack)
                continue
            if cls is ScalarEvent:
                parent = stack[-1] if stack else None
                if parent is not None and parent.is_map and parent.state != _VALUE:
                    if parent.state == _KEY:
                        self.key(
                            parent, event.value, event.tag, self.pos(event), event.anchor, event
                        )
                    else:  # the value of a skipped key
                        self.anchor_invalid(event.anchor, self.pos(event))
                        parent.state = _KEY
                    continue
                pos = self.pos(event)
                value = self.scalar(event.value, event.tag, event.implicit, pos)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1, pos, event)
                self.add(stack, value, pos, 1)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                is_map = cls is MappingStartEvent
                pos = self.pos(event)
                if len(stack) >= MAX_DEPTH:
                    raise TooDeep(pos)
                parent = stack[-1] if stack else None
                if parent is not None and parent.is_map and parent.state != _VALUE:
                    if parent.state == _KEY:
                        self.problem(pos, "a mapping key must be a plain value, not a collection")
                        parent.state = _SKIPPING_KEY  # then its value is skipped too
                    self.anchor_invalid(event.anchor, pos)
                    skipping = 1
                    continue
                tag = event.tag
                if tag is not None and tag != "!" and tag != (MAP if is_map else SEQ):
                    self.problem(pos, f"unsupported YAML tag '{short_tag(str(tag))}'")
                    self.anchor_invalid(event.anchor, pos)
                    stack.append(_Open(None, is_map, pos, None))
                    skipping = 1  # never constructed, and its content is not looked at
                    continue
                value = PosDict(pos, not self.lean) if is_map else PosList(pos)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, None, pos, None)
                stack.append(_Open(value, is_map, pos, event.anchor))
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                done = stack.pop()
                if done.anchor is not None:
                    self.anchors[done.anchor] = (done.value, done.size, done.pos, None)
                self.add(stack, done.value, done.pos, done.size)
            elif cls is AliasEvent:
                self.alias(stack, event.anchor, self.pos(event))
            elif cls is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise SecondDocument(self.pos(event))
        return self.root

    def add(self, stack: list[_Open], value: Any, pos: Position, size: int) -> None:
        """A complete node: the root, an item of the open sequence, or a mapping's value."""
        if not stack:
            self.root = value
            return
        parent = stack[-1]
        parent.size += size
        if not parent.is_map:
            parent.value.append(value)
            parent.value.item_pos.append(pos)
        else:
            mapping = parent.value
            mapping[parent.key] = value
            if not self.lean:
                mapping.value_pos[parent.key] = pos
            elif type(value) is PosDict or type(value) is PosList:
                if mapping.key_pos is NO_POSITIONS:
                    mapping.key_pos, mapping.value_pos = {}, {}
                mapping.key_pos[parent.key] = parent.key_at
                mapping.value_pos[parent.key] = pos
            parent.state = _KEY

    def skipped(self, stack: list[_Open]) -> None:
        """A skipped subtree ended: a bad-tagged collection becomes INVALID; after a
        collection key comes its value, skipped too; a skipped value is simply gone."""
        parent = stack[-1]
        if parent.value is None:
            stack.pop()
            self.add(stack, INVALID, parent.pos, 1)
        elif parent.state == _SKIPPING_KEY:
            parent.state = _SKIP_VALUE
        else:
            parent.state = _KEY

    def key(
        self, mapping: _Open, text: str, tag: Any, pos: Position, anchor: str | None, event: Any
    ) -> None:
        if anchor is not None:
            value = self.scalar(text, tag, event.implicit, pos)
            self.anchors[anchor] = (value, 1, pos, event)
        if tag is not None and tag != "!" and tag != STR:
            self.problem(pos, f"unsupported YAML tag '{short_tag(str(tag))}'")
        key = self.keys.setdefault(text, text)  # keys stay text, as in JSON
        if self.lean:
            if key in mapping.value:
                raise NeedPositions
            mapping.key = key
            mapping.key_at = pos
            mapping.state = _VALUE
            return
        key_pos = mapping.value.key_pos
        if key in key_pos:
            first = key_pos[key]
            self.problem(pos, f"duplicate key '{key}' (first defined at line {first[0]})")
            mapping.state = _SKIP_VALUE
            return
        key_pos[key] = pos
        mapping.key = key
        mapping.state = _VALUE

    def alias(self, stack: list[_Open], anchor: str, pos: Position) -> None:
        found = self.anchors.get(anchor)
        if found is None:
            raise UndefinedAlias(pos)
        value, size, where, event = found
        parent = stack[-1] if stack else None
        if parent is not None and parent.is_map and parent.state == _KEY:
            if event is None:  # an alias to a collection, used as a key
                self.problem(where, "a mapping key must be a plain value, not a collection")
                parent.state = _SKIP_VALUE
            else:
                self.key(parent, event.value, event.tag, where, None, event)
            return
        if parent is not None and parent.is_map and parent.state == _SKIP_VALUE:
            parent.state = _KEY
            return
        if event is not None:  # a scalar: resolved again, as a copy would be; never counted
            value = self.scalar(event.value, event.tag, event.implicit, where)
            self.add(stack, value, where, 1)
            return
        if size is None:
            self.problem(where, "recursive alias: this value contains itself")
            self.add(stack, INVALID, where, 1)
            return
        # A copy would visit every node of the anchor's value but its root again.
        cost = size - 1
        if cost and self.alias_nodes + cost > MAX_ALIAS_NODES:
            self.alias_nodes = MAX_ALIAS_NODES + 1  # every later alias is refused too
            if not self.budget_reported:
                self.budget_reported = True
                message = f"aliases expand to more than {MAX_ALIAS_NODES} nodes (alias bomb?)"
                self.problem(where, message)
            self.add(stack, INVALID, where, 1)
            return
        self.alias_nodes += cost
        self.add(stack, value, where, size)

    def anchor_invalid(self, anchor: str | None, pos: Position) -> None:
        if anchor is not None:
            self.anchors[anchor] = (INVALID, 1, pos, None)

    def scalar(self, text: str, tag: Any, implicit: tuple[bool, bool], pos: Position) -> Any:
        value, problem = resolve(text, tag, implicit[0])
        if problem is not None:
            self.problem(pos, problem)
        return value

    def pos(self, event: Any) -> Position:
        """Where an event starts. Events come in order: a position equal to the previous
        one reuses its tuple, and a line its int (a large file holds millions of them)."""
        mark = event.start_mark
        line, column = mark.line, mark.column
        last = self.last
        if line != self.last_line:
            self.last_line = line
            self.last = (line + 1, column + 1)
        elif column + 1 != last[1]:
            self.last = (last[0], column + 1)
        return self.last

    def problem(self, pos: Position, message: str) -> None:
        self.problems.append(YamlProblem(pos[0], pos[1], message))


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
