"""The one glob rule of `ignore` and `--target`: `*` is any run of characters, `?` any one
character, every other character is itself (brackets too); the whole text must match, case
counts."""

from __future__ import annotations

import pytest

from reconciler.core.globs import any_match, glob_match


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", ""),
        ("", "*"),
        ("anything at all", "*"),
        ("Experiment, x", "Experiment, *"),
        ("ab", "a?"),
        ("abc", "a*c"),
        ("ac", "a*c"),
        ("a\nb", "a*b"),  # a line break is a character like any other
        ("a\nb", "a?b"),
        ("Product [beta] hero", "Product [beta] hero"),
        ("/product/[id]", "/product/[*]"),
        ("[!x]", "[!x]"),
        ("a.b+c(d)|e^f$g{2}\\h", "a.b+c(d)|e^f$g{2}\\h"),
        ("*?", "*?"),
        ("*", "?"),
        ("café ☕", "caf? ?"),
    ],
)
def test_matches(text: str, pattern: str) -> None:
    assert glob_match(text, pattern)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("x", ""),
        ("abc", "a?"),  # the whole text, not a prefix
        ("xabc", "abc*"),  # nor a suffix
        ("a", "a?"),  # ? is exactly one character
        ("Product b hero", "Product [beta] hero"),  # [beta] is not a character class
        ("/product/i", "/product/[id]"),
        ("a", "[a]"),
        ("axb", "a.b"),  # . is a dot
        ("aab", "a+b"),
        ("Hero", "hero"),  # case counts
        ("HERO", "*ero"),
        ("a\\b", "a\\\\b"),
    ],
)
def test_does_not_match(text: str, pattern: str) -> None:
    assert not glob_match(text, pattern)


def test_any_of_several_patterns() -> None:
    assert any_match("Experiment, x", ["nope", "Experiment*"])
    assert not any_match("Experiment, x", ["nope", "experiment*"])
    assert not any_match("anything", [])
