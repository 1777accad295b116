"""Untrusted text made inert: whatever a file or a server wrote prints as one line that
cannot move the cursor, clear the screen, reorder text or fake a line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.text import plain, printable

C0_AND_ESC = [chr(c) for c in range(0x20)]
#: Every C0 control and DEL, the C1 controls (the 8-bit CSI among them), the line and
#: paragraph separators, the bidirectional overrides, embeddings and isolates, the marks
#: and zero-width characters, and the byte-order mark.
HOSTILE = (
    C0_AND_ESC
    + ["\x7f"]
    + [chr(c) for c in range(0x80, 0xA0)]
    + ["\u2028", "\u2029"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c", "\u200b", "\u200d", "\ufeff"]
)


def code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


@pytest.mark.parametrize("char", HOSTILE, ids=code_point)
def test_printable_escapes_every_control_separator_and_bidi_character(char: str) -> None:
    shown = printable(f"a{char}b")
    assert shown == "a" + json.dumps(char)[1:-1] + "b"
    assert shown.isprintable()


@pytest.mark.parametrize("char", C0_AND_ESC, ids=code_point)
def test_plain_quotes_a_text_with_a_control_character(char: str) -> None:
    quoted = plain(f"a{char}b")
    assert quoted == json.dumps(f"a{char}b")
    assert quoted.isprintable()


def test_escapes_read_as_their_json_spelling() -> None:
    assert printable("\x1b[2J\x1b[H\r\n\t\x00\x9b31m\u202egnp.exe") == (
        "\\u001b[2J\\u001b[H\\r\\n\\t\\u0000\\u009b31m\\u202egnp.exe"
    )


@pytest.mark.parametrize(
    "text", ["", "hero", "café ☕ 日本 🎉", 'quote " and \\ backslash', "a  b"]
)
def test_text_that_prints_is_left_as_it_is(text: str) -> None:
    assert printable(text) == text
    assert plain(text) == text


def test_plain_quotes_the_whole_text_keeping_what_prints() -> None:
    assert plain('name "x"\nline') == '"name \\"x\\"\\nline"'
    assert plain("café\t") == '"café\\t"'  # not ASCII-escaped: only what does not print


@given(st.text())
def test_any_text_comes_out_printable(text: str) -> None:
    assert printable(text).isprintable()


@given(st.text())
def test_plain_text_reads_back_as_the_text(text: str) -> None:
    quoted = plain(text)
    assert quoted == text if text.isprintable() else json.loads(quoted) == text
