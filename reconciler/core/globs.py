"""The one glob rule of `ignore` and `--target`: `*` is any run of characters, `?` any one
character, and every other character is itself. Brackets are literal (a snapshot named
`Product [beta] hero`, a view `/product/[id]`), unlike fnmatch's character classes.
Case-sensitive."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def glob_match(text: str, pattern: str) -> bool:
    """Does the whole of `text` match `pattern`?"""
    return _compiled(pattern).fullmatch(text) is not None


def any_match(text: str, patterns: Iterable[str]) -> bool:
    return any(glob_match(text, pattern) for pattern in patterns)
