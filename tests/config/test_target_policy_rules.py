"""The target policy's rules one by one (config/sites.py), with the exact messages a user
reads: what counts as loopback, what an `api_url` and a `RECONCILER_ALLOWED_HOSTS` entry may
hold, how a host without a port matches an allowed port, and where `-v` says the target
came from."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from reconciler.config.sites import (
    DEFAULT,
    ENVIRONMENT,
    FILE,
    OPTION,
    SITES,
    Target,
    TargetRefused,
    allowed_hosts,
    check_file_api_url,
    is_loopback,
    parse_api_url,
    resolve_base_url,
    resolve_target,
)
from reconciler.core.errors import UsageProblem

ENTRY_HINT = "is not host[:port] (comma-separated, e.g. proxy.example.com:8443)"


def refusal(url: str, netloc: str) -> str:
    return (
        f"api_url {url} is neither a Datadog site nor a loopback address, and a repository "
        f"file may not send the keys elsewhere; to allow it, set RECONCILER_ALLOWED_HOSTS="
        f"{netloc} (or RECONCILER_API_URL={url}) in the environment, or choose a Datadog "
        "`site:` instead"
    )


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "localhost.", "127.0.0.2", "::1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["localhost.evil", ".localhost", "127.0.0.1 ", "10.0.0.1", ""])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_plain_http_to_a_host_written_with_a_space_is_refused() -> None:
    with pytest.raises(UsageProblem) as info:
        resolve_base_url("datadoghq.com", "http://127.0.0.1 :8126")
    assert str(info.value) == (
        "refusing plain http to 127.0.0.1 : the API keys would travel in clear; use https "
        "(http is only allowed for 127.0.0.1, ::1 or localhost)"
    )


def test_plain_http_to_localhost_with_its_final_dot_is_allowed() -> None:
    assert resolve_base_url("datadoghq.com", "http://localhost.:8126") == "http://localhost.:8126"


@pytest.mark.parametrize(
    "api_url", ["https://user@api.datadoghq.com", "https://user:pw@api.datadoghq.com"]
)
def test_user_info_alone_or_with_a_password_is_refused(api_url: str) -> None:
    with pytest.raises(UsageProblem) as info:
        parse_api_url(api_url)
    assert str(info.value) == "invalid api_url: user info (user:password@) is not allowed"


def test_a_path_is_refused_saying_what_to_give() -> None:
    with pytest.raises(UsageProblem) as info:
        parse_api_url("https://api.datadoghq.com/api")
    assert str(info.value) == (
        "invalid api_url 'https://api.datadoghq.com/api': give only scheme://host[:port], "
        "without a path or query (the client adds /api/v2/...)"
    )


def test_an_unknown_site_lists_every_site_comma_separated() -> None:
    with pytest.raises(UsageProblem) as info:
        resolve_base_url("nope", None)
    assert str(info.value) == f"unknown Datadog site 'nope': expected one of {', '.join(SITES)}"
    assert ", us3.datadoghq.com, " in str(info.value)


@pytest.mark.parametrize(
    ("value", "entries"),
    [
        ("", []),
        ("A.Example", [("a.example", None)]),
        ("a.example,b.example:8443", [("a.example", None), ("b.example", 8443)]),
        (" a.example , , b.example ", [("a.example", None), ("b.example", None)]),
    ],
)
def test_allowed_hosts_entries(value: str, entries: list[tuple[str, int | None]]) -> None:
    assert allowed_hosts({"RECONCILER_ALLOWED_HOSTS": value}) == entries


def test_no_allowed_hosts_variable_allows_nothing() -> None:
    assert allowed_hosts({}) == []


@pytest.mark.parametrize("entry", [":8443", "a.example/x", "u@a.example", "a.example:port"])
def test_an_entry_that_is_not_host_and_port_is_refused(entry: str) -> None:
    with pytest.raises(UsageProblem) as info:
        allowed_hosts({"RECONCILER_ALLOWED_HOSTS": f"ok.example,{entry}"})
    assert str(info.value) == f"RECONCILER_ALLOWED_HOSTS: {entry!r} {ENTRY_HINT}"


@pytest.mark.parametrize(
    ("api_url", "entry"),
    [
        ("https://collector.example.net", "collector.example.net:443"),
        ("http://collector.example.net", "collector.example.net:80"),
        ("https://collector.example.net:8443", "collector.example.net:8443"),
    ],
)
def test_a_url_without_a_port_matches_its_schemes_default_port(api_url: str, entry: str) -> None:
    check_file_api_url(api_url, {"RECONCILER_ALLOWED_HOSTS": entry})


@pytest.mark.parametrize(
    ("api_url", "entry", "netloc"),
    [
        ("https://collector.example.net", "collector.example.net:80", "collector.example.net"),
        ("http://collector.example.net", "collector.example.net:443", "collector.example.net"),
        ("https://[2001:db8::1]:8443", "2001:db8::1", None),
    ],
)
def test_a_refusal_names_the_entry_that_would_allow_it(
    api_url: str, entry: str, netloc: str | None
) -> None:
    with pytest.raises(TargetRefused) as info:
        check_file_api_url(api_url, {"RECONCILER_ALLOWED_HOSTS": entry if netloc else ""})
    assert str(info.value) == refusal(api_url, netloc or "[2001:db8::1]:8443")


@dataclass(frozen=True)
class Given:
    """What the policy reads of the settings, with the source of each."""

    site: str = "datadoghq.com"
    api_url: str | None = None
    config_path: str | None = None
    site_source: str = DEFAULT
    api_url_source: str = DEFAULT

    def source(self, name: str) -> str:
        return self.site_source if name == "site" else self.api_url_source


@pytest.mark.parametrize(
    ("given", "target"),
    [
        (
            Given(),
            Target(
                "https://api.datadoghq.com",
                "api.datadoghq.com",
                "site datadoghq.com from the default",
            ),
        ),
        (
            Given(" DatadogHQ.EU", site_source=ENVIRONMENT),
            Target(
                "https://api.datadoghq.eu", "api.datadoghq.eu", "site datadoghq.eu from DD_SITE"
            ),
        ),
        (
            Given("us5.datadoghq.com", site_source=OPTION),
            Target(
                "https://api.us5.datadoghq.com",
                "api.us5.datadoghq.com",
                "site us5.datadoghq.com from --site",
            ),
        ),
        (
            Given("ap1.datadoghq.com", site_source=FILE),
            Target(
                "https://api.ap1.datadoghq.com",
                "api.ap1.datadoghq.com",
                "site ap1.datadoghq.com from reconciler.yaml",
            ),
        ),
        (
            Given("datadoghq.eu", site_source=FILE, config_path="conf/r.yaml"),
            Target(
                "https://api.datadoghq.eu", "api.datadoghq.eu", "site datadoghq.eu from conf/r.yaml"
            ),
        ),
        (
            Given("nope", "http://127.0.0.1:8126", api_url_source=FILE),
            Target("http://127.0.0.1:8126", "127.0.0.1:8126", "api_url from reconciler.yaml"),
        ),
        (
            Given(api_url="http://[::1]:9", api_url_source=FILE, config_path="c.yaml"),
            Target("http://[::1]:9", "[::1]:9", "api_url from c.yaml"),
        ),
        (
            Given(api_url="http://localhost", api_url_source=ENVIRONMENT),
            Target("http://localhost", "localhost", "api_url from RECONCILER_API_URL"),
        ),
        (
            Given(api_url="http://localhost:1", api_url_source=OPTION),
            Target("http://localhost:1", "localhost:1", "api_url from --api-url"),
        ),
    ],
)
def test_the_target_and_where_it_came_from(given: Given, target: Target) -> None:
    assert resolve_target(given) == target
