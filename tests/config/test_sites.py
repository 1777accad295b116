"""resolve_base_url: sites, api_url overrides, refusals."""

from __future__ import annotations

import pytest

from reconciler.config.sites import SITES, parse_api_url, resolve_base_url
from reconciler.core.errors import UsageProblem


@pytest.mark.parametrize("site", SITES)
def test_every_site_maps_to_its_api_host(site: str) -> None:
    assert resolve_base_url(site, None) == f"https://api.{site}"


def test_site_is_normalised() -> None:
    assert resolve_base_url("  DatadogHQ.EU ", None) == "https://api.datadoghq.eu"


def test_unknown_site_lists_valid_ones() -> None:
    with pytest.raises(UsageProblem) as info:
        resolve_base_url("datadoghq.co", None)
    message = str(info.value)
    assert "datadoghq.co'" in message
    for site in SITES:
        assert site in message


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("http://127.0.0.1:8126", "http://127.0.0.1:8126"),
        ("http://127.0.0.1:8126/", "http://127.0.0.1:8126"),
        ("http://127.8.9.10", "http://127.8.9.10"),
        ("http://localhost:9000", "http://localhost:9000"),
        ("http://LOCALHOST:9000", "http://localhost:9000"),
        ("http://[::1]:8126", "http://[::1]:8126"),
        ("https://proxy.example.com", "https://proxy.example.com"),
        ("https://proxy.example.com:8443/", "https://proxy.example.com:8443"),
    ],
)
def test_api_url_wins(api_url: str, expected: str) -> None:
    assert resolve_base_url("nonsense.example", api_url) == expected


def test_empty_api_url_falls_back_to_site() -> None:
    assert resolve_base_url("datadoghq.com", "  ") == "https://api.datadoghq.com"


@pytest.mark.parametrize(
    "api_url",
    ["http://example.com", "http://10.0.0.1:8126", "http://[2001:db8::1]", "http://localhost.evil"],
)
def test_plain_http_to_non_loopback_is_refused(api_url: str) -> None:
    with pytest.raises(UsageProblem, match="in clear"):
        resolve_base_url("datadoghq.com", api_url)


@pytest.mark.parametrize(
    "api_url",
    [
        "https://api.datadoghq.com/api/v2",
        "https://api.datadoghq.com/?x=1",
        "https://api.datadoghq.com/#frag",
        "ftp://127.0.0.1",
        "127.0.0.1:8126",
        "https://",
        "http://127.0.0.1:notaport",
    ],
)
def test_malformed_api_url_is_refused(api_url: str) -> None:
    with pytest.raises(UsageProblem, match="api_url"):
        resolve_base_url("datadoghq.com", api_url)


@pytest.mark.parametrize(
    ("api_url", "message"),
    [
        (
            "https://user:s3cr3t@api.datadoghq.com",
            "invalid api_url: user info (user:password@) is not allowed",
        ),
        # Refused for user info before the host's own problem, whose message quotes the URL.
        (
            "http://user:s3cr3t@999.1.1.1",
            "invalid api_url: user info (user:password@) is not allowed",
        ),
        (
            "ftp://user:s3cr3t@127.0.0.1",
            "invalid api_url: user info (user:password@) is not allowed",
        ),
        # A URL that does not parse is quoted without what precedes its `@`.
        (
            "http://u:s3cr3t@127.0.0.1:99999",
            "invalid api_url 'http://***@127.0.0.1:99999': Port out of range 0-65535",
        ),
        ("http://u:s3cr3t@[::1", "invalid api_url 'http://***@[::1': Invalid IPv6 URL"),
        # Everything up to the last `@` is hidden, whatever comes before or after it.
        (
            "user:s3cr3t@host://path",
            "invalid api_url '***@host://path': expected http(s)://host[:port], "
            "e.g. http://127.0.0.1:8126",
        ),
        (
            "http://a@b:s3cr3t@127.0.0.1:99999",
            "invalid api_url 'http://***@127.0.0.1:99999': Port out of range 0-65535",
        ),
        (
            "http://u:s3cr3t@h:99999/x://y",
            "invalid api_url 'http://***@h:99999/x://y': Port out of range 0-65535",
        ),
        (
            "http:/u:s3cr3t@host",
            "invalid api_url '***@host': expected http(s)://host[:port], e.g. http://127.0.0.1:8126",
        ),
    ],
)
def test_user_info_is_refused_without_echoing_it(api_url: str, message: str) -> None:
    with pytest.raises(UsageProblem) as info:
        resolve_base_url("datadoghq.com", api_url)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("api_url", "problem"),
    [
        ("https://999.1.1.1", "not an IPv4 address"),
        ("https://a\x7fb.example", "not printable (a control character)"),
        ("http://a\x01b", "not printable (a control character)"),
        ("https://xn--zz", "not a valid international domain name (Invalid A-label)"),
        # httpx encodes a name that is not ASCII: a label too long once encoded is refused.
        (
            "https://" + "\u00fc" * 60 + ".example",
            "not a valid international domain name (Label too long)",
        ),
        (
            "https://a\u200db.example",
            "not a valid international domain name"
            " (Joiner U+200D not allowed at position 2 in 'a\\u200db')",
        ),
    ],
)
def test_a_host_the_http_client_would_refuse_is_named_with_why(api_url: str, problem: str) -> None:
    """The client's own rules, checked before any request: one message, no internal error."""
    with pytest.raises(UsageProblem) as info:
        parse_api_url(api_url)
    assert str(info.value) == f"invalid api_url {api_url!r}: the host is {problem}"


@pytest.mark.parametrize(
    ("api_url", "host"),
    [
        ("https://1.2.3.4", "1.2.3.4"),
        ("https://b\u00fccher.example", "b\u00fccher.example"),
        ("https://B\u00dcCHER.example", "b\u00fccher.example"),
        ("https://xn--bcher-kva.example", "xn--bcher-kva.example"),
        # An ASCII name is only decoded, as httpx does: a long plain label is the resolver's.
        ("https://xn--bcher-kva." + "a" * 64, "xn--bcher-kva." + "a" * 64),
    ],
)
def test_hosts_the_http_client_takes_are_taken(api_url: str, host: str) -> None:
    assert parse_api_url(api_url).host == host
