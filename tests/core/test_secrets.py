"""The key registry behind every redaction."""

from __future__ import annotations

import pytest

from reconciler.core.errors import UsageProblem
from reconciler.core.secrets import Credentials, redact, register_environment


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


def test_a_key_echoed_in_another_case_is_masked() -> None:
    """Keys are hexadecimal: a server may echo one upper-cased, whole or in pieces. Only
    ASCII letters fold, so every other character keeps its place (`İ` lowers to two)."""
    api, app = "b7379f996ee78a9f7f02224aea1019c2", "5d29e700e7ce64ba8b9fc819393ad4858ae8715b"
    Credentials(api.upper(), app)
    assert redact(f"invalid key {api.upper()} / {app.upper()}") == "invalid key *** / ***"
    assert redact(f"İ {api} İ {app[:20].upper()}x") == "İ *** İ ***x"


def test_overlapping_and_repeated_pieces_become_one_mask() -> None:
    Credentials(KEY, "unit-app-key-0000000000000000000000000000")
    assert redact(KEY + KEY + " " + KEY[:20] + KEY[4:]) == "*** ***"


# -- which keys are known ------------------------------------------------------------------


def test_a_key_of_eight_characters_is_masked_and_seven_are_not() -> None:
    Credentials("q7#kz!w2", "x9@vv%m")
    assert redact("a q7#kz!w2 b x9@vv%m c") == "a *** b x9@vv%m c"


def test_the_keys_of_the_environment_are_known_before_anything_prints() -> None:
    environ = {
        "DD_API_KEY": "  env-k3y-a1b2c3d4e5f60718  ",  # surrounding space is not the key
        "DD_APP_KEY": "env-k3y-b1b2c3d4e5f60718",
        # Undeclared environments' default variables: values as long as a key.
        "DD_API_KEY_STAGING": "env-k3y-c1b2c3d4e5f60718c1b2c3d4",
        "DD_APP_KEY_PROD": "env-k3y-d1b2c3d4e5f60718d1b2c3d4e5f60718",
        "DD_APP_KEY_ID": "reconciler.yaml",  # no key: too short to be one
        "SHOP_KEY": "env-k3y-e1b2c3d4e5f60718",
        "UNRELATED": "a plain value, not a key",
    }
    register_environment(environ, variables=("SHOP_KEY",))
    shown = redact(" ".join(value.strip() for value in environ.values()))
    assert shown == "*** *** *** *** reconciler.yaml *** a plain value, not a key"


API_SHAPED = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"  # 32 hexadecimal characters, as Datadog's
APP_SHAPED = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3"  # 40


def test_keys_are_read_from_the_environment_stripped() -> None:
    environ = {"DD_API_KEY": f" {API_SHAPED} \n", "DD_APP_KEY": APP_SHAPED}
    credentials = Credentials.from_environ(environ)
    assert (credentials.api_key, credentials.app_key) == (API_SHAPED, APP_SHAPED)
    named = Credentials.from_environ(
        {"A": API_SHAPED.upper(), "B": APP_SHAPED.upper()}, api_key_env="A", app_key_env="B"
    )
    assert (named.api_key, named.app_key) == (API_SHAPED.upper(), APP_SHAPED.upper())


def refusal(environ: dict[str, str], **names: str) -> str:
    with pytest.raises(UsageProblem) as raised:
        Credentials.from_environ(environ, **names)
    return str(raised.value)


HIDDEN = "(the value is not shown: it may be a key)"


@pytest.mark.parametrize(
    ("api_key", "app_key", "refused"),
    [
        ("your API key", APP_SHAPED, "DD_API_KEY cannot be a Datadog key: it holds whitespace"),
        (API_SHAPED, "your application key", "DD_APP_KEY cannot be a Datadog key: it holds"),
        (API_SHAPED[:16] + "\t" + API_SHAPED[16:], APP_SHAPED, "DD_API_KEY cannot be a Data"),
        (API_SHAPED[:-1], APP_SHAPED, "DD_API_KEY cannot be a Datadog key: it is shorter than 32"),
        (API_SHAPED, APP_SHAPED[:-1], "DD_APP_KEY cannot be a Datadog key: it is shorter than 40"),
        # An application key in place of the API key passes; the API key as both does not.
        (API_SHAPED, API_SHAPED, "DD_APP_KEY cannot be a Datadog key: it is shorter than 40"),
        (API_SHAPED + "\u00e9", APP_SHAPED, "DD_API_KEY cannot be a Datadog key: it holds a cha"),
        (f'"{API_SHAPED}"', APP_SHAPED, "DD_API_KEY cannot be a Datadog key: it is quoted: "),
        (API_SHAPED, f"'{APP_SHAPED}'", "DD_APP_KEY cannot be a Datadog key: it is quoted: "),
    ],
)
def test_a_value_that_cannot_be_a_key_is_refused_naming_its_variable(
    api_key: str, app_key: str, refused: str
) -> None:
    message = refusal({"DD_API_KEY": api_key, "DD_APP_KEY": app_key})
    assert message.startswith(refused)
    assert message.endswith(HIDDEN)
    assert "\n" not in message
    for value in (api_key, app_key):
        assert value.strip() not in message


def test_a_refused_key_of_an_environment_names_the_environment_and_its_variable() -> None:
    message = refusal(
        {"DD_API_KEY_EU": API_SHAPED, "DD_APP_KEY_EU": "eu-app-key"},
        api_key_env="DD_API_KEY_EU",
        app_key_env="DD_APP_KEY_EU",
        environment="eu",
    )
    assert message == (
        "environment 'eu': DD_APP_KEY_EU cannot be a Datadog key: it is shorter than 40"
        f" characters, the length of Datadog's keys {HIDDEN}"
    )


def test_keys_of_the_shortest_lengths_and_longer_ones_are_accepted() -> None:
    # Registered for masking from then on, in this whole process: nothing another test writes.
    shortest = ("9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", "4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c")
    longer = ("ddapi_" + "7a6b5c4d3e2f1a0b" * 4, "8c9d0e1f2a3b4c5d" * 4)
    for api_key, app_key in (shortest, longer):
        credentials = Credentials.from_environ({"DD_API_KEY": api_key, "DD_APP_KEY": app_key})
        assert (credentials.api_key, credentials.app_key) == (api_key, app_key)


def test_missing_keys_are_named_and_never_read_from_files() -> None:
    with pytest.raises(UsageProblem) as raised:
        Credentials.from_environ({"DD_API_KEY": "   "})
    assert str(raised.value) == (
        "missing DD_API_KEY and DD_APP_KEY: set the Datadog API key in DD_API_KEY and the "
        "application key in DD_APP_KEY (keys are never read from files)"
    )
    with pytest.raises(UsageProblem) as raised:
        Credentials.from_environ(
            {"DD_API_KEY_EU": "env-k3y-4a1b2c3d4e5f6071"},
            api_key_env="DD_API_KEY_EU",
            app_key_env="DD_APP_KEY_EU",
            environment="eu",
        )
    assert str(raised.value) == (
        "environment 'eu': missing DD_APP_KEY_EU: set its Datadog API key in DD_API_KEY_EU and "
        "its application key in DD_APP_KEY_EU (keys are never read from files)"
    )


def test_text_shorter_than_any_key_is_returned_as_it_is() -> None:
    Credentials(KEY, "unit-app-key-0000000000000000000000000000")
    assert redact("") == ""
    assert redact("short") == "short"
