"""The key registry behind every redaction."""

from __future__ import annotations

from reconciler.secrets import Credentials, redact


def test_keys_are_masked_and_never_in_a_repr() -> None:
    credentials = Credentials("canary-api-key-1234567890", "canary-app-key-0987654321")
    assert "canary" not in repr(credentials)
    assert "canary" not in str(credentials)
    assert redact("sent canary-api-key-1234567890 and canary-app-key-0987654321") == (
        "sent *** and ***"
    )


def test_very_short_values_are_not_masked() -> None:
    # A one-letter test key must not garble every message that contains the letter.
    Credentials("k", "q")
    assert redact("/checkout") == "/checkout"
