"""The `reconciler` command (and `python -m reconciler`): the click group of
`reconciler.cli.main` parses every command line."""

from __future__ import annotations

import sys

from reconciler.cli.main import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
