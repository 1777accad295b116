"""The one YAML value builder: a lean load (positions of keys and values only where the
value is a collection) gives the values and the problems of a full load, on the corpus, on
generated documents of every style, and on what the builder refuses or repairs; invalid
files are explained from a full load."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core.yamlload import NO_POSITIONS, PosDict, PosList, load_bytes
from support.cli_runner import CORPUS

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shape(value: Any, lean: bool = False) -> Any:
    """Everything a loaded value holds, positions included, as plain comparable data; with
    `lean`, only the positions a lean load would keep of them."""
    if isinstance(value, PosDict):
        key_pos, value_pos = dict(value.key_pos), dict(value.value_pos)
        if lean:
            kept = [key for key, item in value.items() if _collection(item)]
            key_pos = {key: key_pos[key] for key in kept}
            value_pos = {key: value_pos[key] for key in kept}
        return (
            "map",
            value.pos,
            key_pos,
            value_pos,
            [(key, shape(item, lean)) for key, item in value.items()],
        )
    if isinstance(value, PosList):
        return ("seq", value.pos, list(value.item_pos), [shape(item, lean) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


def _collection(value: Any) -> bool:
    return isinstance(value, PosDict | PosList)


def assert_lean_is_full_without_plain_positions(data: bytes) -> None:
    """A lean load is the full load without the positions of plain values; a document with
    a duplicate key (whose message names the first one's line) is loaded in full."""
    lean, full = load_bytes(data, lean=True), load_bytes(data)
    assert lean.problems == full.problems, data
    duplicate = any(problem.message.startswith("duplicate key") for problem in full.problems)
    assert shape(lean.value) == shape(full.value, lean=not duplicate), data


FILES = sorted(CORPUS.glob("*/*.y*ml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lean_and_full_loads_of_the_corpus_agree(path: Path) -> None:
    assert_lean_is_full_without_plain_positions(path.read_bytes())


def test_lean_keeps_positions_of_collections_only() -> None:
    data = b"a: 1\nviews:\n  /x:\n    - {n: 1}\n"
    lean = load_bytes(data, lean=True).value
    full = load_bytes(data).value
    assert isinstance(lean, PosDict)
    assert lean.key_pos == {"views": (2, 1)}
    assert full.key_pos == {"a": (1, 1), "views": (2, 1)}
    assert full.value_pos == {"a": (1, 4), "views": (3, 3)}
    assert lean["views"].key_pos == full["views"].key_pos == {"/x": (3, 3)}
    assert lean["views"]["/x"].item_pos == [(4, 7)]
    # One empty table for all mappings without collection values (one per snapshot).
    assert lean["views"]["/x"][0].key_pos is NO_POSITIONS
    assert lean["views"]["/x"][0].value_pos is NO_POSITIONS


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "a: &x [1]\nb: *x\n",  # anchor, alias
        "a: !!str 1\nb: !!python/name:os.system x\n",  # tags, a refused one
        "!!map {a: 1}\n",  # tag on a collection
        "? [a]\n: 1\nb: 2\n",  # collection key
        f"a: {'9' * 101}\n",  # over-long integer
        "a: 1\n---\nb: 2\n",  # a second document
        "[" * 101 + "]" * 101 + "\n",  # deeper than MAX_DEPTH
        "a: [1\n",  # a syntax error
    ],
)
def test_lean_and_full_loads_agree_on_what_the_builder_refuses(text: str) -> None:
    assert_lean_is_full_without_plain_positions(text.encode())


def test_a_duplicate_key_in_a_lean_load_is_explained_in_full() -> None:
    data = b"a: 1\na: 2\n"
    assert load_bytes(data, lean=True) == load_bytes(data)
    assert [p.message for p in load_bytes(data, lean=True).problems] == [
        "duplicate key 'a' (first defined at line 1)"
    ]


# -- generated documents: block and flow collections, every scalar style -------------------

plain_scalars = st.one_of(
    st.sampled_from(["a", "desktop", "Home, tablet", "/home", "~", "null", "true", "False"]),
    st.sampled_from(["0", "-12", "+3", "0o17", "0x1F", "1.5", "-.5e3", ".inf", ".NaN", "1_0"]),
    st.sampled_from(["6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21", "12:30", "1e", "0b1", "yes"]),
    st.from_regex(r"[a-z0-9][a-z0-9 ._/-]{0,12}[a-z0-9]", fullmatch=True),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


@st.composite
def scalar_text(draw: st.DrawFn) -> str:
    text = draw(plain_scalars)
    style = draw(st.integers(0, 2))
    if style == 0 and (text[:1] in "-?:,[]{}#&*!|>'\"%@`" or ": " in text or " #" in text):
        style = 1
    if style == 1:
        return json.dumps(text)  # double-quoted
    if style == 2:
        return "'" + text.replace("'", "''") + "'"
    return text


@st.composite
def block(draw: st.DrawFn, depth: int, indent: int) -> list[str]:
    """Lines of a block collection at `indent` (a mapping or a sequence)."""
    pad = " " * indent
    lines: list[str] = []
    if depth <= 0 or draw(st.booleans()):
        for key in draw(st.lists(scalar_text(), min_size=1, max_size=4)):
            lines.extend(draw(entry(depth, indent, f"{pad}{key}:")))
    else:
        for _ in range(draw(st.integers(1, 4))):
            lines.extend(draw(entry(depth, indent, f"{pad}-")))
    return lines


@st.composite
def entry(draw: st.DrawFn, depth: int, indent: int, lead: str) -> list[str]:
    kind = draw(st.integers(0, 4)) if depth > 0 else 0
    if kind == 0:
        return [f"{lead} {draw(scalar_text())}"]
    if kind == 1:
        return [f"{lead}"]  # an empty (null) value
    if kind == 2:
        items = draw(st.lists(scalar_text(), max_size=3))
        if draw(st.booleans()):
            return [f"{lead} [{', '.join(items)}]"]
        pairs = ", ".join(f"k{number}: {item}" for number, item in enumerate(items))
        return [f"{lead} {{{pairs}}}"]
    if kind == 3:
        return [f"{lead} |", " " * (indent + 2) + "block text", " " * (indent + 2) + "more"]
    return [f"{lead}  # a comment", *draw(block(depth - 1, indent + 2))]


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    lines = draw(block(draw(st.integers(0, 4)), 0))
    if draw(st.booleans()):
        lines.insert(0, "---")
    return ("\n".join(lines) + "\n").encode()


@_SETTINGS
@given(documents())
def test_lean_and_full_loads_of_generated_documents_agree(data: bytes) -> None:
    assert_lean_is_full_without_plain_positions(data)


@_SETTINGS
@given(st.text(alphabet="[]{}:-,&*!|>?'\"#%@` \t\nab01.~", max_size=120))
def test_lean_and_full_loads_of_punctuation_soup_agree(text: str) -> None:
    assert_lean_is_full_without_plain_positions(text.encode())
