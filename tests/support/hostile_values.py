"""Values a user, a repository or a CI job can hand the command: text for options, arguments,
environment variables and the values of reconciler.yaml (hypothesis strategies), and the
check that a command's answer to them is a message, never a crash."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from reconciler.core import secrets

#: Bounded and the same on every run (derandomized), so the default suite never flakes.
BOUNDED = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)

#: What argv and the environment can carry besides text: bytes that are not UTF-8, which
#: Python hands over as lone surrogates U+DC80..U+DCFF (surrogateescape). Nothing else that is
#: a surrogate, and never NUL: no process can receive either.
_UNDECODABLE = st.integers(0x80, 0xFF).map(lambda byte: chr(0xDC00 + byte))
_CHARACTERS = st.one_of(
    *[st.characters(exclude_categories=["Cs"], exclude_characters="\0")] * 7, _UNDECODABLE
)

#: Values that reach the file system or a URL parser in ways random text rarely finds. No
#: path here can write outside the test's folder (the tests run as any user, root included):
#: the absolute ones name a device, a read-only tree or nothing at all.
_SHAPED = (
    "",
    " ",
    ".",
    "..",
    "../x",
    "a/b",
    "a//b/",
    "-",
    "--",
    "-v",
    "x" * 300,
    "x" * 5000,
    "/dev/null",
    "/dev/full",
    "/dev/null/x",
    "/dev/null/" + "x" * 300,
    "/proc/self/status",
    "~",
    "$HOME",
    "%s%n",
    "{0}",
    "\udcff",
    "caf\udce9",
    "\x85\u2028\u202e",
    "\x1b[31m::error::x",
    "##[error]x",
    "\r\n",
    "http://127.0.0.1:9",
    "https://127.0.0.1:99999",
    "http://[::1",
    "http://[zz]:1",
    "http://user:pass@127.0.0.1",
    "http://127.0.0.1:9/path?q#f",
    "http://\udcff",
    "https://\udcff",
    "https://xn--zz",
    "https://999.1.1.1",
    "https://a\x01b",
    "https://exa mple.com",
    "https://api.datadoghq.com",
    "datadoghq.eu",
    "DD_API_KEY",
    "0",
    "-1",
    "1e999",
    "inf",
    "nan",
    "1" * 400,
    "٣",
    "true",
    "*",
    "app:*",
    "file:../x",
    "view:\udcff",
)

#: Text as argv and the environment can hold it.
environment_text = st.one_of(st.sampled_from(_SHAPED), st.text(_CHARACTERS, max_size=40))
#: The same for arguments and options, which may name a file to write: no slash but those of
#: `_SHAPED`, so that no value names a place outside the test's folder.
argument_text = st.one_of(
    st.sampled_from(_SHAPED),
    st.text(_CHARACTERS.filter(lambda character: character != "/"), max_size=40),
)

#: Text a YAML file can hold: NUL and any other character YAML can escape (a lone surrogate
#: only rarely: the whole file is then a syntax error).
file_text = st.one_of(
    st.sampled_from(tuple(text for text in _SHAPED if text.isascii() or text.isprintable())),
    st.sampled_from(("\0", "a\0b", "snapshots\0", "\ufeff", "\ufffe", "\x85", "\udce9")),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
)

_SCALARS: st.SearchStrategy[Any] = st.one_of(
    file_text,
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
)

#: Any value a YAML mapping can hold, nested.
file_values: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(file_text, inner, max_size=3),
    max_leaves=8,
)


def assert_handled(code: int, out: str, err: str) -> None:
    """A command's answer to any input: an exit code of the contract and a message, never an
    internal error or a traceback."""
    text = out + err
    assert code in (0, 1, 2), (code, text)
    assert "internal error" not in text, text
    assert "Traceback" not in text, text


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` set in os.environ for the block; afterwards the previous values, and the
    keys known to the masking of output as they were: every run registers the key variables'
    values for the rest of the process, and a "key" such as `datadoghq.eu` would mask that
    text in every later test."""
    saved = {name: os.environ.get(name) for name in values}
    known, fragments = set(secrets._KNOWN_SECRETS), set(secrets._FRAGMENTS)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        secrets._KNOWN_SECRETS.intersection_update(known)
        secrets._FRAGMENTS.intersection_update(fragments)
