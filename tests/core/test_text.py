"""Untrusted text made inert: whatever a file or a server wrote prints as one line that
cannot move the cursor, clear the screen, reorder text or fake a line."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.text import (
    annotation,
    escape_property,
    inert_json,
    inert_output,
    is_inert,
    leading_path,
    plain,
    printable,
    quoted,
)

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
    assert quoted == text if is_inert(text) else json.loads(quoted) == text


# -- what could command the CI runner (issue 22) ------------------------------------------

#: Text drawn mostly from the characters that form workflow commands, so that `::` at line
#: starts and `##[` come up often, with spaces, line breaks and controls among them.
COMMANDISH = st.text(st.sampled_from([":", "#", "[", "]", " ", "\n", "\r", "a", "\x1b", "\u202e"]))
#: What the runner skips before `::` (.NET's `TrimStart`: Unicode white space).
RUNNER_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def runner_lines(output: str) -> list[str]:
    """The lines the Actions runner reads of `output`: it splits at CR, LF and CR LF."""
    return RUNNER_LINE_BREAKS.split(output)


def begins_command(line: str) -> bool:
    return line.lstrip().startswith("::")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("##[error]x", "#\\u0023[error]x"),
        ("a ##[add-mask]b ##[stop-commands]", "a #\\u0023[add-mask]b #\\u0023[stop-commands]"),
        ("###[x", "##\\u0023[x"),
        ("##[##[", "#\\u0023[#\\u0023["),
        ("#[ and ## [", "#[ and ## ["),
    ],
)
def test_the_older_command_form_is_shown_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert json.loads(quoted(text)) == text  # `\\u0023` is `#` to a JSON parser


@given(COMMANDISH)
def test_no_text_keeps_a_hash_command_or_a_raw_control(text: str) -> None:
    for shown in (printable(text), plain(text), quoted(text)):
        assert "##[" not in shown
        assert shown.isprintable()


@given(st.text())
def test_quoted_text_reads_back_as_the_text(text: str) -> None:
    shown = quoted(text)
    assert json.loads(shown) == text
    assert shown.isprintable()
    assert "##[" not in shown


def test_quoted_is_what_json_writes_of_harmless_text() -> None:
    for text in ("hero", "café ☕", 'a "b" \\ c'):
        assert quoted(text) == json.dumps(text, ensure_ascii=False)
    assert quoted("evil\u202egnp.exe\x9b2J") == '"evil\\u202egnp.exe\\u009b2J"'


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | COMMANDISH | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(COMMANDISH, inner),
    )
)
def test_inert_json_keeps_every_value(value: object) -> None:
    for indent in (None, 2):
        document = inert_json(json.dumps(value, indent=indent, ensure_ascii=False))
        assert json.loads(document) == value
        assert "##[" not in document
        assert all(line.isprintable() for line in document.split("\n"))
        assert not any(begins_command(line) for line in document.split("\n"))


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("::add-mask::Plan/a.yaml", "./::add-mask::Plan/a.yaml"),
        ("  ::x/a.yaml", "./  ::x/a.yaml"),
        (":x/a.yaml", "./:x/a.yaml"),
        ("snapshots/a.yaml", "snapshots/a.yaml"),
        ("/abs/::x.yaml", "/abs/::x.yaml"),
        ("a\n::error::b.yaml", "a\\n::error::b.yaml"),
    ],
)
def test_a_path_that_begins_a_line_cannot_begin_a_command(path: str, shown: str) -> None:
    assert leading_path(path) == shown


@given(COMMANDISH)
def test_no_line_of_an_output_begins_a_command(text: str) -> None:
    for styled in (False, True):
        for redraw in (False, True):
            shown = inert_output(text, styled=styled, redraw=redraw)
            assert not any(begins_command(line) for line in runner_lines(shown))
            assert "##[" not in shown


@given(COMMANDISH, COMMANDISH)
def test_two_writes_on_one_line_cannot_join_into_a_command(first: str, second: str) -> None:
    """A write that leaves its line open (no newline at its end), then the next one: a
    lone `:` beginning a write and a `#` ending one are escaped."""
    joined = inert_output(first) + inert_output(second)
    assert not any(begins_command(line) for line in runner_lines(joined))
    assert "##[" not in joined


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("::add-mask::Plan/a.yaml:1:2: bad", "\\u003a:add-mask::Plan/a.yaml:1:2: bad"),
        ("ok\n  ::stop-commands::t\nok", "ok\n  \\u003a:stop-commands::t\nok"),
        (":", "\\u003a"),
        ("a\n:x", "a\n:x"),
        ("a::b\n", "a::b\n"),
        ("x\r::warning::y", "x\\r::warning::y"),
        ("ends in ##", "ends in #\\u0023"),
        ("ends in #\n", "ends in #\n"),
    ],
)
def test_a_line_that_would_begin_a_command_has_its_colon_escaped(text: str, shown: str) -> None:
    assert inert_output(text) == shown


def test_harmless_output_is_written_as_it_is() -> None:
    text = '+ create /checkout desktop "hero" (application a)\n    start = 1\n\nPlan: 1.\n'
    assert inert_output(text) is text
    assert inert_output("café ☕ ## [x] #[y]: a::b") == "café ☕ ## [x] #[y]: a::b"


def test_only_the_render_s_own_colour_and_redraw_codes_are_kept() -> None:
    coloured = "\x1b[32m\x1b[1m+\x1b[0m name \x1b]0;title\x07 \x1b[2J"
    assert inert_output(coloured, styled=True) == (
        "\x1b[32m\x1b[1m+\x1b[0m name \\u001b]0;title\\u0007 \\u001b[2J"
    )
    assert inert_output(coloured) == (
        "\\u001b[32m\\u001b[1m+\\u001b[0m name \\u001b]0;title\\u0007 \\u001b[2J"
    )
    bar = "\r\x1b[K::warning::x\n\r[##..] 1/2"
    assert inert_output(bar, redraw=True) == "\r\x1b[K\\u003a:warning::x\n\r[##..] 1/2"
    assert inert_output(bar) == "\\r\\u001b[K::warning::x\n\\r[##..] 1/2"


def test_annotations_are_the_only_lines_that_begin_with_two_colons() -> None:
    made = annotation("error", "bad ::add-mask::x ##[error]", file="::a,b/%.yaml", line=3, col=4)
    assert made == (
        "::error file=%3A%3Aa%2Cb/%25.yaml,line=3,col=4::bad ::add-mask::x #\\u0023[error]"
    )
    assert inert_output(f"{made}\n") == f"{made}\n"
    # The same grammar, not made by `annotation` (a path in a text line, a server's name):
    forged = "::error file=README.md,line=1::approved"
    assert inert_output(forged) == "\\u003a:error file=README.md,line=1::approved"
    with pytest.raises(ValueError, match="not an annotation level"):
        annotation("add-mask", "x")


def test_annotation_properties_keep_line_breaks_exactly_and_escape_the_rest() -> None:
    # GitHub decodes %0D and %0A in properties: the file named is the file itself.
    assert escape_property("a\r\nb,c:d%") == "a%0D%0Ab%2Cc%3Ad%25"
    assert escape_property("e\x1b]0;t\x07\u202e##[x") == "e\\u001b]0;t\\u0007\\u202e#\\u0023[x"
    made = annotation("warning", "m\r\n::x", title="t\n::y")
    assert made == "::warning title=t%0A%3A%3Ay::m\\r\\n::x"  # one line
