"""Isolation for the export tests."""

from __future__ import annotations

import pytest

from reconciler import secrets


@pytest.fixture(autouse=True)
def _fresh_secret_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The redactor remembers every key seen in the process; a short key registered by
    another test (e.g. "k") would otherwise redact letters of our exact outputs."""
    monkeypatch.setattr(secrets, "_KNOWN_SECRETS", set())
