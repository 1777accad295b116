"""`yamlscalar.resolve_plain` (one combined match, a digits-only shortcut) resolves every
text as the core schema's two separate matches did, types included."""

from __future__ import annotations

import math
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.yamlscalar import CONSTANTS, NUMBER_START, resolve_plain

_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def reference(text: str) -> Any:
    """resolve_plain as it was written first: the integer forms, then the float form."""
    if text in CONSTANTS:
        return CONSTANTS[text]
    if text[0] not in NUMBER_START:
        return text
    if _INT.fullmatch(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def same(text: str) -> None:
    got, wanted = resolve_plain(text), reference(text)
    assert type(got) is type(wanted), text
    assert got == wanted or (math.isnan(got) and math.isnan(wanted)), text


number_like = st.text(alphabet="0123456789+-.eEoxXabfAF_ ٣²", min_size=1, max_size=12)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(number_like, st.from_regex(_FLOAT, fullmatch=True), st.uuids().map(str)))
def test_number_like_texts_resolve_as_before(text: str) -> None:
    same(text)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=20))
def test_any_text_resolves_as_before(text: str) -> None:
    same(text)


def test_each_form() -> None:
    for text in ["0", "007", "-12", "+3", "0o17", "0x1F", "1.5", "-.5e3", "1e5", "1.", "1_0"]:
        same(text)
    for text in ["6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21", "0o8", "0x", "1e", "٣", "²", "-0o1"]:
        same(text)
        assert resolve_plain(text) == text
