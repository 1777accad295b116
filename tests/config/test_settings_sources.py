"""Precedence command line > environment > file > default for every setting, and each
value's recorded source (what `-v` and the target policy read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.settings import Overrides, load_settings

FILE = """\
site: datadoghq.eu
snapshots: from-file
prune: false
page_limit: 11
parallelism: 3
"""
ENV = {
    "DD_SITE": "us3.datadoghq.com",
    "RECONCILER_SNAPSHOTS": "from-env",
    "RECONCILER_PRUNE": "true",
    "RECONCILER_PAGE_LIMIT": "22",
    "RECONCILER_PARALLELISM": "5",
}
OPTIONS = Overrides(site="ap1.datadoghq.com", snapshots="from-option", page_limit=33)


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "reconciler.yaml"
    path.write_text(FILE)
    return str(path)


def test_each_layer_wins_over_the_ones_below(config: str) -> None:
    settings = load_settings(config, OPTIONS, ENV)
    assert (settings.site, settings.snapshots, settings.page_limit) == (
        "ap1.datadoghq.com",
        "from-option",
        33,
    )
    assert (settings.prune, settings.parallelism) == (True, 5)  # no option given: environment
    assert settings.min_existing == 10
    sources = {name: settings.source(name) for name in ("site", "snapshots", "page_limit")}
    assert sources == dict.fromkeys(sources, "option")
    assert settings.source("prune") == "environment"
    assert settings.source("parallelism") == "environment"
    assert settings.source("min_existing") == "default"


def test_the_file_wins_over_defaults(config: str) -> None:
    settings = load_settings(config, Overrides(), {})
    assert (settings.site, settings.prune, settings.page_limit) == ("datadoghq.eu", False, 11)
    assert settings.source("site") == "file"
    assert settings.source("api_url") == "default"


@pytest.mark.parametrize(
    ("options", "env", "site", "api_url"),
    [
        ({}, {}, "datadoghq.com", "http://127.0.0.1:9"),
        ({"site": "datadoghq.eu"}, {}, "datadoghq.eu", None),
        ({}, {"DD_SITE": "datadoghq.eu"}, "datadoghq.eu", None),
        ({}, {"RECONCILER_API_URL": "http://127.0.0.1:7"}, "datadoghq.com", "http://127.0.0.1:7"),
        # Both in one layer: api_url overrides site, as it always did.
        (
            {},
            {"DD_SITE": "datadoghq.eu", "RECONCILER_API_URL": "http://[::1]:7"},
            "datadoghq.eu",
            "http://[::1]:7",
        ),
        # A higher layer's site replaces a lower layer's api_url.
        (
            {"site": "datadoghq.eu"},
            {"RECONCILER_API_URL": "http://127.0.0.1:7"},
            "datadoghq.eu",
            None,
        ),
    ],
)
def test_a_target_given_higher_up_replaces_the_whole_lower_target(
    tmp_path: Path, options: dict[str, object], env: dict[str, str], site: str, api_url: str | None
) -> None:
    path = tmp_path / "reconciler.yaml"
    path.write_text("api_url: http://127.0.0.1:9\n")
    settings = load_settings(str(path), Overrides(**options), env)
    assert (settings.site, settings.api_url) == (site, api_url)
