"""Position-preserving, hostile-input-safe YAML loading on ruamel.yaml's C parser.

libyaml (through `ruamel.yaml.clib`) parses and composes the node tree; we walk the nodes
ourselves to build plain values (dict / list / str / int / float / bool / None) that
remember where every key and value was written. Walking ourselves lets us resolve scalars
with the YAML 1.2 core schema, reject every tag that is not a core one (nothing is ever
constructed from a tag), report duplicate keys, and bound nesting depth and alias
expansion. It is about 10x faster than ruamel's round-trip loader.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import _ruamel_yaml  # type: ignore[import-not-found]  # ruamel.yaml.clib, no stubs
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tag import Tag

from reconciler.files import Refused, read_regular

#: Files larger than this are refused before parsing (a snapshots file is a few KB).
MAX_FILE_BYTES: Final = 20 * 1024 * 1024
#: Deepest nesting accepted; a snapshots file needs 4 levels.
MAX_DEPTH: Final = 100
#: Nodes that may be visited again through aliases in one document (stops alias bombs).
MAX_ALIAS_NODES: Final = 100_000
#: Longer plain integers are refused (Python refuses to convert over 4,300 digits anyway).
MAX_INT_DIGITS: Final = 100
#: libyaml's composer recurses in C and crashes on very deep input, so any text whose
#: nesting *could* exceed this bound is first checked with the iterative event parser.
_SAFE_COMPOSE_BOUND: Final = 1000

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ = _CORE + "map", _CORE + "seq"
#: Marker tag our resolver gives plain (unquoted, untagged) scalars; we resolve them later.
_PLAIN: Final = "?"
#: Shared Tag objects returned by our resolver: ruamel's Node wraps a str tag in a new Tag
#: and computes its text lazily, which costs a third of the load time; identity checks on
#: these shared ones do not. Explicitly tagged nodes still carry their own Tag.
_PLAIN_TAG: Final = Tag(suffix=_PLAIN)
_STR_TAG: Final = Tag(suffix=_STR)
_MAP_TAG: Final = Tag(suffix=_MAP)
_SEQ_TAG: Final = Tag(suffix=_SEQ)

_CONSTANTS: Final[dict[str, Any]] = {
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
}
_INT_RE: Final = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT_RE: Final = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NUMBER_START: Final = frozenset("0123456789+-.")


class _Invalid:
    """Stands for a value the loader refused (bad tag, too deep, alias bomb): it fails every
    schema check, and schema messages about it are dropped since the loader explained it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()


class PosDict(dict[str, Any]):
    """A YAML mapping: `pos` is where it starts, `key_pos` / `value_pos` per key."""

    __slots__ = ("key_pos", "pos", "value_pos")

    def __init__(self, pos: tuple[int, int]) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, tuple[int, int]] = {}
        self.value_pos: dict[str, tuple[int, int]] = {}


class PosList(list[Any]):
    """A YAML sequence: `pos` is where it starts, `item_pos[i]` where item i starts."""

    __slots__ = ("item_pos", "pos")

    def __init__(self, pos: tuple[int, int]) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[tuple[int, int]] = []


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


class _Parser(_ruamel_yaml.CParser):  # type: ignore[misc]
    """libyaml composer with a trivial resolver: we resolve plain scalars ourselves."""

    def descend_resolver(self, *args: object) -> None:
        pass

    def ascend_resolver(self, *args: object) -> None:
        pass

    def resolve(self, kind: type, value: object, implicit: tuple[bool, bool]) -> Tag:
        if kind is ScalarNode:
            return _PLAIN_TAG if implicit[0] else _STR_TAG
        return _MAP_TAG if kind is MappingNode else _SEQ_TAG


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


def load_bytes(data: bytes) -> Document:
    """Parse one YAML document; never raises for any input."""
    problems: list[YamlProblem] = []
    if _may_be_deep(data):
        deep = _check_depth(data)
        if deep is not None:
            return Document(None, (deep,))
    try:
        root = _Parser(data).get_single_node()
    except MarkedYAMLError as exc:
        return Document(None, (_syntax_problem(exc, data),))
    except ReaderError as exc:
        return Document(None, (_reader_problem(data, exc),))
    except (YAMLError, ValueError, RecursionError) as exc:  # anything else libyaml raises
        return Document(None, (YamlProblem(1, 1, f"YAML error: {exc}"),))
    if root is None:
        return Document(None, ())
    walker = _Walker(problems)
    value = walker.value(root, 0)
    return Document(value, tuple(problems))


def _may_be_deep(data: bytes) -> bool:
    """A cheap upper bound: flow nesting needs brackets, block nesting needs columns."""
    bound = data.count(b"[") + data.count(b"{")
    if bound > _SAFE_COMPOSE_BOUND:
        return True
    return max(map(len, data.split(b"\n"))) + bound > _SAFE_COMPOSE_BOUND


def _check_depth(data: bytes) -> YamlProblem | None:
    """Iterative nesting check with the event parser, which does not recurse."""
    parser = _ruamel_yaml.CParser(data)
    depth = 0
    try:
        while (event := parser.get_event()) is not None:
            name = type(event).__name__
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return YamlProblem(mark.line + 1, mark.column + 1, _too_deep())
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
    except MarkedYAMLError as exc:
        return _syntax_problem(exc, data)
    except ReaderError as exc:
        return _reader_problem(data, exc)
    except YAMLError as exc:
        return YamlProblem(1, 1, f"YAML error: {exc}")
    return None


def _too_deep() -> str:
    return f"nesting is deeper than {MAX_DEPTH} levels"


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


class _AliasBudgetExceeded(Exception):
    pass


class _Walker:
    """Node tree -> plain values with positions, collecting problems on the way."""

    def __init__(self, problems: list[YamlProblem]) -> None:
        self.problems = problems
        #: Collection nodes already converted: meeting one again means an alias.
        self.seen: set[int] = set()
        #: Collection nodes being converted: meeting one of these is a recursive alias.
        self.open: set[int] = set()
        self.alias_nodes = 0
        self.in_alias = 0
        self.budget_reported = False

    def value(self, node: Node, depth: int) -> Any:
        if self.in_alias:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise _AliasBudgetExceeded
        cls = type(node)
        if cls is ScalarNode:
            return self.scalar(node)
        if depth >= MAX_DEPTH:
            self.problem(node, _too_deep())
            return INVALID
        ctag = node.ctag
        if (
            ctag is not _MAP_TAG
            and ctag is not _SEQ_TAG
            and node.tag != (_MAP if cls is MappingNode else _SEQ)
        ):
            self.bad_tag(node)  # never constructed, and its content is not looked at
            return INVALID
        node_id = id(node)
        if node_id in self.open:
            self.problem(node, "recursive alias: this value contains itself")
            return INVALID
        alias = node_id in self.seen
        if alias:
            self.in_alias += 1
        else:
            self.seen.add(node_id)
        self.open.add(node_id)
        try:
            if cls is MappingNode:
                return self.mapping(node, depth + 1)
            return self.sequence(node, depth + 1)
        except _AliasBudgetExceeded:
            if not alias or self.in_alias > 1:
                raise
            if not self.budget_reported:
                self.budget_reported = True
                self.problem(
                    node, f"aliases expand to more than {MAX_ALIAS_NODES} nodes (alias bomb?)"
                )
            return INVALID
        finally:
            self.open.discard(node_id)
            if alias:
                self.in_alias -= 1

    def mapping(self, node: Node, depth: int) -> PosDict:
        start = node.start_mark
        result = PosDict((start.line + 1, start.column + 1))
        key_pos = result.key_pos
        value_pos = result.value_pos
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            where = (mark.line + 1, mark.column + 1)
            if type(key_node) is not ScalarNode:
                self.problem(key_node, "a mapping key must be a plain value, not a collection")
                continue
            key_tag = key_node.ctag
            if key_tag is not _PLAIN_TAG and key_tag is not _STR_TAG and key_node.tag != _STR:
                self.bad_tag(key_node)
            key = key_node.value  # keys stay text, as in JSON
            if key in key_pos:
                first = key_pos[key]
                self.problem(key_node, f"duplicate key '{key}' (first defined at line {first[0]})")
                continue
            key_pos[key] = where
            vmark = value_node.start_mark
            value_pos[key] = (vmark.line + 1, vmark.column + 1)
            result[key] = self.value(value_node, depth)
        return result

    def sequence(self, node: Node, depth: int) -> PosList:
        start = node.start_mark
        result = PosList((start.line + 1, start.column + 1))
        item_pos = result.item_pos
        for item in node.value:
            mark = item.start_mark
            item_pos.append((mark.line + 1, mark.column + 1))
            result.append(self.value(item, depth))
        return result

    def scalar(self, node: Node) -> Any:
        text: str = node.value
        ctag = node.ctag
        if ctag is _STR_TAG:
            return text
        tag = _PLAIN if ctag is _PLAIN_TAG else node.tag
        if tag == _PLAIN:
            if len(text) > MAX_INT_DIGITS and _INT_RE.fullmatch(text):
                self.problem(node, f"integer has more than {MAX_INT_DIGITS} digits")
                return INVALID
            return _resolve_plain(text)
        if tag == _STR or tag == "!":
            return text
        if tag in (_INT, _FLOAT, _BOOL, _NULL):
            value = _resolve_plain(text) if len(text) <= MAX_INT_DIGITS else text
            wanted = {_INT: int, _FLOAT: float, _BOOL: bool, _NULL: type(None)}[tag]
            if tag == _FLOAT and type(value) is int:
                return float(value)
            if type(value) is wanted:
                return value
            self.problem(node, f"'{_short_text(text)}' is not a valid {_short_tag(tag)}")
            return INVALID
        self.bad_tag(node)
        return INVALID

    def bad_tag(self, node: Node) -> None:
        self.problem(node, f"unsupported YAML tag '{_short_tag(str(node.tag))}'")

    def problem(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(YamlProblem(mark.line + 1, mark.column + 1, message))


def _resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema, as ruamel.yaml resolves plain scalars by default."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    if text[0] not in _NUMBER_START:
        return text
    if _INT_RE.fullmatch(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        return float(text)
    return text


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _short_text(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
