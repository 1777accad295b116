"""Exit codes: 2 always means changes, every error is 1, and a run over several environments
exits with the most telling code of them."""

from __future__ import annotations

import pytest

from reconciler.core.exitcodes import CHANGES, ERROR, INTERRUPTED, OK, TERMINATED, combined


def test_the_codes_as_shells_report_them() -> None:
    # A signal's code is 128 + its number: SIGINT 2, SIGTERM 15.
    assert (OK, ERROR, CHANGES, INTERRUPTED, TERMINATED) == (0, 1, 2, 128 + 2, 128 + 15)


@pytest.mark.parametrize(
    ("codes", "code"),
    [
        ([], OK),
        ([OK, OK], OK),
        ([OK, CHANGES], CHANGES),
        ([CHANGES, ERROR, OK], ERROR),
        ([ERROR, INTERRUPTED, CHANGES], INTERRUPTED),
        ([INTERRUPTED, TERMINATED], TERMINATED),
        ([TERMINATED], TERMINATED),
    ],
)
def test_several_environments_exit_with_the_most_telling_code(codes: list[int], code: int) -> None:
    assert combined(codes) == code
