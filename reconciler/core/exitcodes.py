"""Exit codes, defined once. Every error exits 1 so that 2 always means "changes"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

OK: Final = 0
ERROR: Final = 1
CHANGES: Final = 2
#: Interrupted by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED: Final = 130
#: Stopped by SIGTERM (128 + 15): CI runners and `docker stop` send it on cancel; apply
#: handles it as Ctrl-C (nothing new starts, the summary is printed) and exits with this.
TERMINATED: Final = 143


def combined(codes: Sequence[int]) -> int:
    """The exit code of a run over several environments: an interruption first, then 1 if
    any environment erred, else 2 if any has changes, else 0."""
    for code in (TERMINATED, INTERRUPTED, ERROR, CHANGES):
        if code in codes:
            return code
    return OK
