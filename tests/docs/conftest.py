"""The documentation tests: README.md and docs/ci/ checked against the real CLI."""

from __future__ import annotations

import sys
from pathlib import Path

# Test modules here import docs_support; make it importable before they are collected.
sys.path.insert(0, str(Path(__file__).resolve().parent))
