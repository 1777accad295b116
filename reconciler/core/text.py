"""Untrusted text made inert: what a file or a server wrote prints, but commands neither the
terminal (move the cursor, clear the screen, set the title, make a link, reorder text) nor
the CI runner (a GitHub workflow command), and fakes no line.

One rule, one spelling: every character that could command either is written as its JSON
escape, so that what is shown reads back as what was written (`json.loads` of a quoted
name is the name):

- a character that does not print (`str.isprintable`): C0 and C1 controls, ESC, DEL, line
  and paragraph separators, bidi embeddings, overrides, isolates and marks, zero-width
  characters, the BOM, spaces other than " ", surrogates, private-use and unassigned code
  points: `\\u001b`, `\\u202e`, `\\n`;
- the `#` that would complete `##[`, the runner's older command form, which it honours
  anywhere in a line: `#\\u0023[`. The runner looks for those three characters as they
  are; `\\u0023` is `#` in the JSON spelling of every other escape here, so a person still
  reads `##[`, a JSON parser (or YAML's double quotes) reads back the very same value, and
  the runner finds no command;
- the first `:` of a line that would begin a workflow command (`::name`, after the white
  space the runner skips: spaces, any other kind being escaped already): `\\u003a:`.

Renderers escape each value they place (`printable`, `plain`, `quoted`, `inert_json`,
`leading_path`); the sinks of `core.output` pass everything they write through
`inert_output` as well, so a value a renderer missed still commands nothing. The only lines
allowed to begin with `::` are the GitHub annotations made by `annotation`, which escapes
every part of them itself.
"""

from __future__ import annotations

import json
import re
from typing import Final

#: The runner's older command form, honoured anywhere in a line, and how it is shown.
_HASH_COMMAND: Final = "##["
_HASH_ESCAPED: Final = "\\u0023"
_HASH_SHOWN: Final = f"#{_HASH_ESCAPED}["
#: The first colon of a line that would begin a workflow command, as it is shown.
_COLON_SHOWN: Final = "\\u003a"

#: The annotation commands of GitHub Actions this tool writes.
ANNOTATION_LEVELS: Final = ("error", "warning", "notice")
#: Every annotation line `annotation` made in this process: the sinks let exactly these
#: begin with `::`. A file or a server cannot add one: a line gets here only built by
#: `annotation`, from escaped parts.
_ANNOTATIONS: set[str] = set()

#: What may start a workflow command where a line starts: at the start of a write, a lone
#: `:` too, since the line may already hold another one (a write without a newline).
_COMMAND_START: Final = re.compile(r"\A *:|^ *::", re.MULTILINE)
#: Sequences that pass the sinks as they are, when asked: the colours of a styled render
#: (SGR), and a progress bar's carriage return and erase-line.
_STYLE: Final = r"\x1b\[[0-9;]*m"
_REDRAW: Final = r"\r|\x1b\[K"
_LINE_BREAK: Final = re.compile("([\r\n])")
_KEPT: Final = {
    (True, False): re.compile(f"({_STYLE})"),
    (False, True): re.compile(f"({_REDRAW})"),
    (True, True): re.compile(f"({_STYLE}|{_REDRAW})"),
}


def _escaped(char: str) -> str:
    return json.dumps(char)[1:-1]


def is_inert(text: str) -> bool:
    """Whether `text` shows as it is: every character prints and it holds no `##[`."""
    return text.isprintable() and _HASH_COMMAND not in text


def printable(text: str) -> str:
    """`text` on one inert line, as it is unless it needs escapes: each character that does
    not print (line breaks, escape sequences, bidi controls) and the `#` completing `##[`
    written as its JSON escape. A message quoting a server stays one inert line."""
    if not text.isprintable():
        text = "".join(char if char.isprintable() else _escaped(char) for char in text)
    return text.replace(_HASH_COMMAND, _HASH_SHOWN) if _HASH_COMMAND in text else text


def quoted(text: str) -> str:
    """`text` as an inert JSON string: `"hero"`; `"evil\\u202egnp.exe"`."""
    return inert_json(json.dumps(text, ensure_ascii=False))


def plain(text: str) -> str:
    """`text` as it is when it is inert, else as an inert JSON string: a name from a server
    cannot move the cursor, clear the terminal or fake a line, and reads back exactly."""
    return text if is_inert(text) else quoted(text)


def inert_json(document: str) -> str:
    """JSON text (`json.dumps`, any indent) with each character of its strings that could
    command a terminal or the runner written as its JSON escape: every JSON parser reads
    the same values. (Outside strings JSON holds only spaces, line breaks and ASCII
    punctuation; no line of it begins with `:`.)"""
    return "\n".join(printable(line) for line in document.split("\n"))


def leading_path(path: str) -> str:
    """A path that begins a line (`path:line:col: message`), inert; `./` before it when it
    would begin with `:` (a folder named `::add-mask::x` is still that folder)."""
    shown = printable(path)
    return f"./{shown}" if shown.lstrip(" ").startswith(":") else shown


def inert_output(text: str, *, styled: bool = False, redraw: bool = False) -> str:
    """`text`, one whole write of a sink (`core.output`), as it may be shown: line breaks
    kept, every line inert (`printable`), and the first `:` of a line that would begin a
    workflow command escaped, unless the line is an annotation made by `annotation`.
    A write may continue a line the previous one left open, or leave its own open: so a
    lone `:` beginning it, and a `#` ending it, are escaped too (either could complete
    `::` or `##[` with its neighbour). `styled`: the text's colour codes (SGR) are kept;
    `redraw`: a progress bar's carriage returns (each begins a line for the runner) and
    erase-line codes are kept."""
    lines = text.split("\n")
    if (
        "".join(lines).isprintable()
        and _HASH_COMMAND not in text
        and _COMMAND_START.search(text) is None
        and not text.endswith("#")
    ):
        return text
    kept = _KEPT.get((styled, redraw))
    lines = [_inert_line(line, kept, first=i == 0) for i, line in enumerate(lines)]
    if lines[-1].endswith("#"):
        lines[-1] = lines[-1][:-1] + _HASH_ESCAPED
    return "\n".join(lines)


def _inert_line(line: str, kept: re.Pattern[str] | None, *, first: bool) -> str:
    if line in _ANNOTATIONS:
        return line
    # With a capturing pattern, split gives text at even places and kept codes at odd ones.
    pieces = [line] if kept is None else kept.split(line)
    shown: list[str] = []
    at_start, lone_colon = True, first
    for index, piece in enumerate(pieces):
        if index % 2:
            shown.append(piece)
            if piece == "\r":
                at_start, lone_colon = True, False
            continue
        text = printable(piece)
        head = text.lstrip(" ")
        if at_start and head:
            at_start = False
            if head.startswith("::") or (lone_colon and head.startswith(":")):
                text = text[: len(text) - len(head)] + _COLON_SHOWN + head[1:]
        shown.append(text)
    return "".join(shown)


def annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> str:
    """A GitHub Actions annotation, `::error file=F,line=L,col=C,title=T::message`: the one
    kind of line the sinks let begin with `::`. Escaped by GitHub's rules (`%`, CR and LF
    in the message; also `:` and `,` in properties), after the rules of this module: the
    message is `printable`, and a property keeps only CR and LF exactly (GitHub decodes
    them, so the file named is the right one), every other character that does not print
    shown by its JSON escape."""
    if level not in ANNOTATION_LEVELS:
        raise ValueError(f"not an annotation level: {level!r}")
    properties = [
        f"{name}={value}"
        for name, value in (
            ("file", None if file is None else escape_property(file)),
            ("line", None if line is None else str(line)),
            ("col", None if col is None else str(col)),
            ("title", None if title is None else escape_property(title)),
        )
        if value is not None
    ]
    head = f"::{level} {','.join(properties)}" if properties else f"::{level}"
    made = f"{head}::{escape_data(printable(message))}"
    _ANNOTATIONS.add(made)
    return made


def escape_data(text: str) -> str:
    """The message of a workflow command, escaped by GitHub's rules."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property of a workflow command: inert (CR and LF aside, which GitHub's escapes
    carry exactly), then escaped by GitHub's rules."""
    pieces = _LINE_BREAK.split(text)  # text at even places, CR or LF at odd ones
    shown = "".join(piece if i % 2 else printable(piece) for i, piece in enumerate(pieces))
    return escape_data(shown).replace(":", "%3A").replace(",", "%2C")
