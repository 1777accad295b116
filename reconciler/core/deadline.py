"""The run's default deadline, importable by the command line without the async stack."""

from __future__ import annotations

from typing import Final

#: `--timeout` of plan, apply, export and doctor when not given, in seconds.
DEFAULT_TIMEOUT: Final = 900.0
