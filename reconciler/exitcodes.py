"""Exit codes, defined once. Every error exits 1 so that 2 always means "changes"."""

from __future__ import annotations

from typing import Final

OK: Final = 0
ERROR: Final = 1
CHANGES: Final = 2
#: Interrupted by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED: Final = 130
