"""Where the keys may go: Datadog's sites, `api_url` parsing, and the target policy.

The policy (SPEC section 3): the command line and the environment decide where keys go. A
repository file (`reconciler.yaml`, which anyone with push access can edit, and which CI
plans pull requests on with the real keys) may only choose among Datadog's own sites or a
loopback `api_url` (the local emulator). Any other host named by a file is refused unless
the environment allows it: `RECONCILER_API_URL` set to it, or `RECONCILER_ALLOWED_HOSTS`
listing it. Everything here is offline and pure: no connection or name lookup happens
before the policy has passed (the host is compared as text, never resolved).

This module must not import the HTTP stack: `validate` uses it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol
from urllib.parse import urlsplit

from reconciler.core.errors import UsageProblem

SITES: Final[tuple[str, ...]] = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "datadoghq.eu",
    "ddog-gov.com",
    "us2.ddog-gov.com",
)

#: Comma-separated `host[:port]` entries that a file's `api_url` may name (a host without a
#: port allows every port of it).
ALLOWED_HOSTS_VAR: Final = "RECONCILER_ALLOWED_HOSTS"
API_URL_VAR: Final = "RECONCILER_API_URL"

#: What the HTTP client (httpx) takes for an IPv4 address, and then requires to be one.
_IPV4_STYLE: Final = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")

#: Where a setting came from, highest precedence first.
OPTION, ENVIRONMENT, FILE, DEFAULT = "option", "environment", "file", "default"


class TargetRefused(UsageProblem):
    """A file named a host the environment does not allow."""


class TargetSettings(Protocol):
    """What the policy reads of the settings (`config.Settings` is one)."""

    @property
    def site(self) -> str: ...

    @property
    def api_url(self) -> str | None: ...

    @property
    def config_path(self) -> str | None: ...

    def source(self, name: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Target:
    """The resolved API base URL and why it was chosen."""

    base_url: str
    #: host[:port], the port when the URL names one (for `-v`)
    host: str
    #: e.g. "site datadoghq.eu from DD_SITE" or "api_url from reconciler.yaml"
    origin: str


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`, judged on the text (never resolved)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ApiUrl:
    scheme: str
    host: str  # lower case, without brackets
    port: int | None
    base_url: str  # scheme://netloc, lower case


def parse_api_url(text: str) -> ApiUrl:
    """`scheme://host[:port]`, checked: a path, query, fragment or user info is refused (a
    path would silently double `/api/v2`; user info would be a credential in a URL)."""
    text = text.strip()
    shown = _shown(text)
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as exc:
        raise UsageProblem(f"invalid api_url {shown!r}: {exc}") from None
    if parts.username is not None or parts.password is not None:
        raise UsageProblem("invalid api_url: user info (user:password@) is not allowed")
    if parts.scheme not in ("http", "https") or not host:
        raise UsageProblem(
            f"invalid api_url {shown!r}: expected http(s)://host[:port], e.g. http://127.0.0.1:8126"
        )
    unusable = _host_problem(host)
    if unusable is not None:
        raise UsageProblem(f"invalid api_url {shown!r}: the host is {unusable}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageProblem(
            f"invalid api_url {shown!r}: give only scheme://host[:port], without a path "
            "or query (the client adds /api/v2/...)"
        )
    return ApiUrl(parts.scheme, host, port, f"{parts.scheme}://{parts.netloc.lower()}")


def _shown(text: str) -> str:
    """The api_url as a message quotes it: what comes before an `@` may be a credential
    (user info), so it is never shown, whether or not the URL parses."""
    if "@" not in text:
        return text
    scheme, separator, _ = text.partition("://")
    prefix = f"{scheme}://" if separator and "@" not in scheme else ""
    return f"{prefix}***@{text.rpartition('@')[2]}"


def _host_problem(host: str) -> str | None:
    """Why the HTTP client would refuse to build a request to `host` (lower case, without
    brackets), by its own rules: checked here without importing it (only `idna`, which it
    uses, for an international name); None when it would not."""
    if _IPV4_STYLE.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "not an IPv4 address"
        return None
    if host.isascii():
        if not host.isprintable():
            return "not printable (a control character)"
        if not host.startswith("xn--"):
            return None
    # An international name: encoded (or, written as xn--, decoded) as the client does.
    import idna

    try:
        idna.decode(host) if host.isascii() else idna.encode(host)
    except idna.IDNAError as exc:
        return f"not a valid international domain name ({exc})"
    return None


def resolve_base_url(site: str, api_url: str | None) -> str:
    """The API base URL: `api_url` when given (emulator, proxy), else `https://api.{site}`.

    Plain http is refused unless the host is loopback: the keys would travel in clear.
    This checks the URL only; `resolve_target` adds the policy on where a value came from.
    """
    if api_url is not None and api_url.strip():
        url = parse_api_url(api_url)
        if url.scheme == "http" and not is_loopback(url.host):
            raise UsageProblem(
                f"refusing plain http to {url.host}: the API keys would travel in clear; "
                "use https (http is only allowed for 127.0.0.1, ::1 or localhost)"
            )
        return url.base_url
    name = site.strip().lower()
    if name not in SITES:
        raise UsageProblem(f"unknown Datadog site {site!r}: expected one of {', '.join(SITES)}")
    return f"https://api.{name}"


def allowed_hosts(environ: Mapping[str, str]) -> list[tuple[str, int | None]]:
    """`RECONCILER_ALLOWED_HOSTS` as (host, port or None) pairs; blank entries skipped."""
    entries: list[tuple[str, int | None]] = []
    for raw in environ.get(ALLOWED_HOSTS_VAR, "").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        try:
            parts = urlsplit(f"//{entry}")
            host, port = parts.hostname or "", parts.port
        except ValueError:
            raise UsageProblem(
                f"{ALLOWED_HOSTS_VAR}: {raw.strip()!r} is not host[:port] "
                "(comma-separated, e.g. proxy.example.com:8443)"
            ) from None
        if not host or parts.path or parts.username is not None:
            raise UsageProblem(
                f"{ALLOWED_HOSTS_VAR}: {raw.strip()!r} is not host[:port] "
                "(comma-separated, e.g. proxy.example.com:8443)"
            )
        entries.append((host, port))
    return entries


def _environment_allows(url: ApiUrl, environ: Mapping[str, str]) -> bool:
    given = environ.get(API_URL_VAR, "").strip()
    if given:
        try:
            if parse_api_url(given).base_url == url.base_url:
                return True
        except UsageProblem:
            pass  # a bad RECONCILER_API_URL is reported where it is used
    default_port = 443 if url.scheme == "https" else 80
    port = url.port if url.port is not None else default_port
    return any(
        host == url.host and (allowed is None or allowed == port)
        for host, allowed in allowed_hosts(environ)
    )


def _netloc(url: ApiUrl) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    return host if url.port is None else f"{host}:{url.port}"


def check_file_api_url(api_url: str, environ: Mapping[str, str]) -> None:
    """The policy on an `api_url` written in a repository file: loopback, or a host the
    environment allows. Checked whether or not a higher level replaces it, so that a file
    that would send the keys elsewhere is an error everywhere (validate included).

    Raises UsageProblem (TargetRefused for the policy), one line saying how to allow it.
    """
    url = parse_api_url(api_url)
    if is_loopback(url.host) or _environment_allows(url, environ):
        return
    raise TargetRefused(
        f"api_url {url.base_url} is neither a Datadog site nor a loopback address, and a "
        f"repository file may not send the keys elsewhere; to allow it, set "
        f"{ALLOWED_HOSTS_VAR}={_netloc(url)} (or {API_URL_VAR}={url.base_url}) in the "
        "environment, or choose a Datadog `site:` instead"
    )


def resolve_target(settings: TargetSettings) -> Target:
    """The base URL the keys go to, and where it came from (for `-v`). The file policy was
    applied when the settings were loaded (`check_file_api_url`)."""
    if settings.api_url is not None and settings.api_url.strip():
        where = _describe(
            settings.source("api_url"), settings.config_path, API_URL_VAR, "--api-url"
        )
        base_url = resolve_base_url(settings.site, settings.api_url)
        return Target(base_url, _netloc(parse_api_url(settings.api_url)), f"api_url from {where}")
    base_url = resolve_base_url(settings.site, None)
    where = _describe(settings.source("site"), settings.config_path, "DD_SITE", "--site")
    name = settings.site.strip().lower()
    return Target(base_url, f"api.{name}", f"site {name} from {where}")


def _describe(source: str, config_path: str | None, variable: str, option: str) -> str:
    if source == FILE:
        return config_path or "reconciler.yaml"
    if source == ENVIRONMENT:
        return variable
    if source == OPTION:
        return option
    return "the default"
