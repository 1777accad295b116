"""Keeping API keys out of every output.

Keys come only from the environment (DD_API_KEY, DD_APP_KEY). They are held in a
`Credentials` value whose repr hides them, and every log record passes a filter that
replaces any known key with `***`, as a second guard.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.errors import UsageProblem

API_KEY_VAR = "DD_API_KEY"
APP_KEY_VAR = "DD_APP_KEY"

#: Every key value seen in this process, so that the log filter can mask it.
_KNOWN_SECRETS: set[str] = set()

#: Shorter values are not masked: masking "k" would garble every message, and real Datadog
#: keys are 32 (API) and 40 (application) characters long.
MIN_MASKED_LENGTH = 8


def register_secret(value: str) -> None:
    if len(value) >= MIN_MASKED_LENGTH:
        _KNOWN_SECRETS.add(value)


def redact(text: str) -> str:
    """Replace every known key in `text` with `***`."""
    for secret in _KNOWN_SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


@dataclass(frozen=True, slots=True)
class Credentials:
    """The two Datadog keys. Never printed: repr and str show `***`."""

    api_key: str = field(repr=False)
    app_key: str = field(repr=False)

    def __post_init__(self) -> None:
        register_secret(self.api_key)
        register_secret(self.app_key)

    def __repr__(self) -> str:
        return "Credentials(api_key='***', app_key='***')"

    __str__ = __repr__

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        missing = [name for name in (API_KEY_VAR, APP_KEY_VAR) if not env.get(name, "").strip()]
        if missing:
            raise UsageProblem(
                f"missing {' and '.join(missing)}: set the Datadog API key in {API_KEY_VAR} "
                f"and the application key in {APP_KEY_VAR} (keys are never read from files)"
            )
        return cls(env[API_KEY_VAR].strip(), env[APP_KEY_VAR].strip())


class RedactingFilter(logging.Filter):
    """Masks known keys in every log record that passes through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
