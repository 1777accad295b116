"""The key registry behind every redaction."""

from __future__ import annotations

from reconciler.core.secrets import Credentials, redact


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


KEY = "unit-api-key-4d5e6f708192a3b4c5d6"


def test_any_run_of_twelve_characters_of_a_key_is_masked() -> None:
    Credentials(KEY, "unit-app-key-0000000000000000000000000000")
    assert redact(f"prefix {KEY[:12]} suffix {KEY[-12:]} middle {KEY[9:25]}") == (
        "prefix *** suffix *** middle ***"
    )
    assert redact(f"[{KEY[:11]}]") == f"[{KEY[:11]}]"  # 11 in a row: allowed by the rule


def test_a_key_split_in_two_fields_is_masked_in_each() -> None:
    Credentials(KEY, "unit-app-key-0000000000000000000000000000")
    half = len(KEY) // 2
    assert redact(f'{{"title": "{KEY[:half]}", "detail": "{KEY[half:]}"}}') == (
        '{"title": "***", "detail": "***"}'
    )


def test_overlapping_and_repeated_pieces_become_one_mask() -> None:
    Credentials(KEY, "unit-app-key-0000000000000000000000000000")
    assert redact(KEY + KEY + " " + KEY[:20] + KEY[4:]) == "*** ***"
