"""The YAML emitter of new snapshots files: fixed layout, strings quoted only when needed.

Views sorted by name, entries in the order `select` gives. Strings are written plain when
that is unambiguous in YAML 1.1 and 1.2 alike (so editors and other tools read them as
strings too), else double-quoted with escapes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from reconciler.core.model import FieldValue
from reconciler.core.text import is_inert, printable
from reconciler.desired.export.select import ExportedView

MODELINE: Final = "# yaml-language-server: $schema=../schemas/snapshots.schema.json"

_BOOL_NULL_WORDS: Final = frozenset(
    ("y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "=", "<<")
)
#: Plain scalars some YAML version reads as a number or a date (1.1 ints, floats with `_`
#: and sexagesimal `1:20`; 1.2 ints, floats, hex, octal; 1.1 timestamps).
_NOT_A_STRING: Final = re.compile(
    r"[-+]?[0-9_.:]*[0-9][0-9_.:]*([eE][-+]?[0-9]+)?"
    r"|[-+]?0[xXoObB][0-9a-fA-F_]+"
    r"|[-+]?\.(inf|nan)"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt \t].*)?",
    re.IGNORECASE,
)
#: A plain scalar cannot start with an indicator character.
_INDICATORS: Final = frozenset("-?:,[]{}#&*!|>'\"%@`")
_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"}


def needs_quotes(text: str) -> bool:
    """Whether `text` must be quoted to read back as this very string (any YAML version)."""
    return (
        not text
        or text != text.strip()
        or not is_inert(text)  # tabs, line breaks, controls, NBSP, U+2028, BOM, `##[`...
        or text[0] in _INDICATORS
        or text.startswith("...")
        or text.endswith(":")
        or ": " in text
        or " #" in text
        or text.lower() in _BOOL_NULL_WORDS
        or _NOT_A_STRING.fullmatch(text) is not None
    )


def double_quoted(text: str) -> str:
    """A YAML double-quoted scalar on one line: every non-printable character escaped."""
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return printable("".join(out))  # `##[` as `#\u0023[`: YAML reads the same value


def scalar(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return double_quoted(value) if needs_quotes(value) else value


def render_document(
    application_id: str, views: Sequence[ExportedView], *, alias: str | None = None
) -> str:
    """A new snapshots file: modeline, application_id (or `application: alias`), views
    sorted by name."""
    owner = f"application_id: {scalar(application_id)}"
    if alias is not None:
        owner = f"application: {scalar(alias)}"
    lines = [MODELINE, owner, "views:"]
    for view in sorted(views, key=lambda v: v.view_name):
        name = scalar(view.view_name)
        if not view.entries:
            lines.append(f"  {name}: []")
            continue
        lines.append(f"  {name}:")
        for entry in view.entries:
            for index, (field, value) in enumerate(entry.items()):
                lines.append(f"    {'-' if index == 0 else ' '} {field}: {scalar(value)}")
    return "\n".join(lines) + "\n"
