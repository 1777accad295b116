"""Exported YAML printed to stdout passes the output sink like every other output (issue
22): a name holding `##[` is double-quoted with that `#` escaped (`#\\u0023[`), so that the
sink has nothing to change and the file a redirect writes reads back as the very name."""

from __future__ import annotations

import pytest

from reconciler.core.output import shown
from reconciler.core.yamlload import load_bytes
from reconciler.desired.export import scalar


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("a##[error]b", '"a#\\u0023[error]b"'),
        ("/view##[add-mask]x", '"/view#\\u0023[add-mask]x"'),
        ("::add-mask::x", '"::add-mask::x"'),
    ],
)
def test_a_name_that_could_command_the_runner_is_quoted_inert(text: str, written: str) -> None:
    assert scalar(text) == written
    line = f"{scalar(text)}: {scalar(text)}\n"
    assert shown(line) == line  # the sink leaves it as it is
    document = load_bytes(line.encode())
    assert document.problems == ()
    assert document.value == {text: text}
