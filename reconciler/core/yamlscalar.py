"""Scalars: the YAML 1.2 core schema, and the only tags accepted (core ones).

`resolve` never constructs anything from a tag: a tag only says which core type the text
must be, and any other tag is refused.
"""

from __future__ import annotations

import re
from typing import Any, Final

#: Longer plain integers are refused (Python refuses to convert over 4,300 digits anyway).
MAX_INT_DIGITS: Final = 100

CORE: Final = "tag:yaml.org,2002:"
STR, _INT, _FLOAT, _BOOL, _NULL = (CORE + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ = CORE + "map", CORE + "seq"
_WANTED: Final = {_INT: int, _FLOAT: float, _BOOL: bool, _NULL: type(None)}

CONSTANTS: Final[dict[str, Any]] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
}
_INT_RE: Final = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
#: _INT_RE's three forms (groups 1 to 3), then the float form (no group), in one match:
#: one call refuses the many texts that start like a number and are not (most UUIDs).
_NUMBER: Final = re.compile(
    r"([-+]?[0-9]+)|0o([0-7]+)|0x([0-9a-fA-F]+)"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
).fullmatch
NUMBER_START: Final = frozenset("0123456789+-.")


class Invalid:
    """Stands for a value the loader refused (bad tag, too deep, alias bomb): it fails every
    schema check, and schema messages about it are dropped since the loader explained it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = Invalid()


def resolve(text: str, tag: Any, plain: bool) -> tuple[Any, str | None]:
    """(value, None), or (INVALID, why) for a scalar with this tag (None or "!": none) that
    is `plain` (not quoted)."""
    if tag is None or tag == "!":
        if not plain:
            return text, None  # quoted: a string
        if len(text) > MAX_INT_DIGITS and _INT_RE.fullmatch(text):
            return INVALID, f"integer has more than {MAX_INT_DIGITS} digits"
        return resolve_plain(text), None
    tag = str(tag)
    if tag == STR:
        return text, None
    wanted = _WANTED.get(tag)
    if wanted is None:
        return INVALID, f"unsupported YAML tag '{short_tag(tag)}'"
    value = resolve_plain(text) if len(text) <= MAX_INT_DIGITS else text
    if tag == _FLOAT and type(value) is int:
        return float(value), None
    if type(value) is wanted:
        return value, None
    return INVALID, f"'{_short_text(text)}' is not a valid {short_tag(tag)}"


def resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema, as ruamel.yaml resolves plain scalars by default."""
    if text in CONSTANTS:
        return CONSTANTS[text]
    if text[0] not in NUMBER_START:
        return text
    if text.isdigit() and text.isascii():  # the common case, [0-9]+, without the regex
        return int(text)
    match = _NUMBER(text)
    if match is None:
        return text
    form = match.lastindex
    if form == 1:
        return int(text)
    if form == 2:
        return int(match[2], 8)
    if form == 3:
        return int(match[3], 16)
    return float(text)


def short_tag(tag: str) -> str:
    return "!!" + tag[len(CORE) :] if tag.startswith(CORE) else tag


def _short_text(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
