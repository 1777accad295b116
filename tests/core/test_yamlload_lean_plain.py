"""`yamlload.lean_plain`, the one-loop lean load of plain documents, builds exactly what
`yamlbuild.Builder(lean=True)` builds (values, types, every kept position, the shared empty
positions of mappings without collection values), and refuses what only the builder
handles; `load_bytes(lean=True)` then falls back to the builder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core.yamlbuild import NO_POSITIONS, Builder, PosDict, PosList, YamlProblem
from reconciler.core.yamlload import EVENT_PARSER, Document, Unusual, lean_plain, load_bytes
from support.cli_runner import CORPUS

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shape(value: Any) -> Any:
    """Everything a loaded value holds, positions included, as plain comparable data."""
    if isinstance(value, PosDict):
        return (
            "map",
            value.pos,
            value.key_pos is NO_POSITIONS,
            dict(value.key_pos),
            dict(value.value_pos),
            [(key, shape(item)) for key, item in value.items()],
        )
    if isinstance(value, PosList):
        return ("seq", value.pos, list(value.item_pos), [shape(item) for item in value])
    if isinstance(value, float) and value != value:
        return ("nan",)
    return (type(value).__name__, value)


def by_builder(data: bytes) -> tuple[Any, list[YamlProblem]] | None:
    """What the builder makes of `data` in a lean load; None when it raises."""
    problems: list[YamlProblem] = []
    try:
        return Builder(problems, lean=True).build(EVENT_PARSER(data)), problems
    except Exception:
        return None


def by_fast_loop(data: bytes) -> Any:
    return lean_plain(EVENT_PARSER(data))


def assert_agrees(data: bytes) -> bool:
    """The fast loop's value, when it gives one, is the builder's; True when it gave one."""
    try:
        fast = by_fast_loop(data)
    except Exception:
        return False
    built = by_builder(data)
    assert built is not None, data
    value, problems = built
    assert problems == []
    assert shape(fast) == shape(value), data
    return True


# -- generated plain documents: block and flow collections, every scalar style -------------

plain_scalars = st.one_of(
    st.sampled_from(["a", "desktop", "Home, tablet", "/home", "~", "null", "true", "False"]),
    st.sampled_from(["0", "-12", "+3", "0o17", "0x1F", "1.5", "-.5e3", ".inf", ".NaN", "1_0"]),
    st.sampled_from(["6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21", "12:30", "1e", "0b1", "yes"]),
    st.sampled_from(["1e5", "0o8", "2²", "١٢", "6e3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"]),
    st.from_regex(r"[a-z0-9][a-z0-9 ._/-]{0,12}[a-z0-9]", fullmatch=True),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.just("9" * 101),
)


def styled(text: str, style: int) -> str:
    if style == 1:
        return json.dumps(text)  # double-quoted
    if style == 2:
        return "'" + text.replace("'", "''") + "'"
    return text


@st.composite
def scalar_text(draw: st.DrawFn) -> str:
    text = draw(plain_scalars)
    style = draw(st.integers(0, 2))
    if style == 0 and (text[:1] in "-?:,[]{}#&*!|>'\"%@`" or ": " in text or " #" in text):
        style = 1
    return styled(text, style)


@st.composite
def block(draw: st.DrawFn, depth: int, indent: int) -> list[str]:
    """Lines of a block collection at `indent` (a mapping or a sequence)."""
    pad = " " * indent
    lines: list[str] = []
    if depth <= 0 or draw(st.booleans()):
        keys = draw(st.lists(scalar_text(), min_size=1, max_size=4))
        for key in keys:
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
    if draw(st.booleans()):
        lines.append("# the end")
    return ("\n".join(lines) + "\n").encode()


@_SETTINGS
@given(documents())
def test_generated_documents_load_as_the_builder_loads_them(data: bytes) -> None:
    assert_agrees(data)


@_SETTINGS
@given(documents())
def test_plain_documents_take_the_fast_loop(data: bytes) -> None:
    """The fast loop is really used: a generated document the builder loads in full without
    a problem (no duplicate key, no over-long integer) never needs the builder."""
    problems: list[YamlProblem] = []
    try:
        Builder(problems, lean=False).build(EVENT_PARSER(data))
    except Exception:  # not YAML after all (a generated scalar the scanner refuses)
        return
    if not problems:
        assert assert_agrees(data), data


@_SETTINGS
@given(st.text(alphabet="[]{}:-,&*!|>?'\"#%@` \t\nab01.~", max_size=120))
def test_punctuation_soup_never_loads_differently(text: str) -> None:
    assert_agrees(text.encode())


FILES = sorted(CORPUS.glob("*/*.y*ml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_files_load_as_the_builder_loads_them(path: Path) -> None:
    assert_agrees(path.read_bytes())


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchor, alias
        "a: !!str 1\n",  # tag on a value
        "!!map {a: 1}\n",  # tag on a collection
        "a: 1\na: 2\n",  # duplicate key
        "? [a]\n: 1\n",  # collection key
        f"a: {'9' * 101}\n",  # over-long integer
        "a: 1\n---\nb: 2\n",  # a second document
        "[" * 101 + "]" * 101 + "\n",  # deeper than MAX_DEPTH
    ],
)
def test_what_only_the_builder_handles_is_refused(text: str) -> None:
    with pytest.raises(Unusual):
        by_fast_loop(text.encode())


@pytest.mark.parametrize(
    "text",
    ["a: 1\na: 2\n", "a: !!python/name:os.system x\n", "a: [1\n", f"a: {'9' * 101}\n"],
)
def test_lean_loads_of_refused_documents_are_the_builders(text: str) -> None:
    """Refused or broken documents are loaded by the builder, problems and all."""
    data = text.encode()
    lean = load_bytes(data, lean=True)
    problems: list[YamlProblem] = []
    try:
        value = Builder(problems, lean=True).build(EVENT_PARSER(data))
    except Exception:
        assert lean.value is None or lean == load_bytes(data)
        assert lean.problems
        return
    assert lean == Document(value, tuple(problems))
    assert lean.problems


def test_a_snapshots_file_loads_through_the_fast_loop() -> None:
    data = (
        b"application_id: 6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21\n"
        b"views:\n  /home:\n    - snapshot_name: Home\n      device_type: desktop\n"
        b"      event_id: e-1\n      start: 1500\n  /empty: []\n"
    )
    value = by_fast_loop(data)
    assert shape(value) == shape(by_builder(data)[0])  # type: ignore[index]
    assert value.key_pos == {"views": (2, 1)}
    assert value["views"].key_pos == {"/home": (3, 3), "/empty": (8, 3)}
    assert value["views"]["/home"].item_pos == [(4, 7)]
    assert value["views"]["/home"][0].key_pos is NO_POSITIONS
    assert load_bytes(data, lean=True) == Document(value, ())
