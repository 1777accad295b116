"""The emulator's settings: which may change while it runs, and `setting_problems`, the one
authority on valid values for the command line and `POST /_emulator/config` alike."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from reconciler.emulator import EmulatorSettings
from reconciler.emulator.settings import (
    CHOICES,
    CONFIGURABLE,
    HELP,
    apply_settings,
    setting_problems,
)
from support.emulatorkit import PLAIN_CONFIG


def quoted(name: str) -> str:
    return f"'{name}'"


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


def test_only_the_live_settings_are_configurable_each_with_its_help() -> None:
    assert set(CONFIGURABLE) == set(PLAIN_CONFIG)
    assert not {"db_path", "accepted_keys", "seed", "clock", "wall_clock", "drop_style"} & set(
        CONFIGURABLE
    )
    assert set(HELP) == set(CONFIGURABLE)
    assert all(text.strip() for text in HELP.values())
    assert CHOICES == {
        "page_cap_mode": ("silent", "reject"),
        "timestamp_precision": ("fixed", "variable"),
        "error_style": ("strings", "objects"),
    }


def test_every_default_is_the_plain_behaviour() -> None:
    defaults = asdict(EmulatorSettings())
    assert {name: defaults[name] for name in PLAIN_CONFIG} == PLAIN_CONFIG | {"sparse_items": ()}


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        ({"colour": 1}, ["'colour' cannot be configured"]),
        ({"seed": 1}, ["'seed' cannot be configured"]),
        ({"fail_rate": "0.5"}, ["'fail_rate' has the wrong type"]),
        ({"fail_rate": True}, ["'fail_rate' has the wrong type"]),
        ({"rate_limit": True}, ["'rate_limit' has the wrong type"]),
        ({"rate_limit": 2.5}, ["'rate_limit' has the wrong type"]),
        ({"normalize_view_names": 1}, ["'normalize_view_names' has the wrong type"]),
        ({"sparse_items": "start"}, ["'sparse_items' has the wrong type"]),
        ({"page_cap_mode": "loud"}, ["'page_cap_mode' must be one of silent, reject"]),
        ({"error_style": "Strings"}, ["'error_style' must be one of strings, objects"]),
        (
            {"sparse_items": ["start", "colour", 3]},
            ["'sparse_items': unknown attribute(s) colour, 3"],
        ),
        ({"fail_rate": 1.01}, ["'fail_rate' must be between 0 and 1"]),
        ({"repeat_ids_rate": -0.1}, ["'repeat_ids_rate' must be between 0 and 1"]),
        ({"latency_ms": -1}, ["'latency_ms' must not be negative"]),
        ({"rate_limit": -1}, ["'rate_limit' must not be negative"]),
        ({"rate_period": 0}, ["'rate_period' must be at least 1"]),
        ({"page_limit_default": 0}, ["'page_limit_default' must be at least 1"]),
        ({"page_limit_max": 0}, ["'page_limit_max' must be at least 1"]),
        (
            {"fail_rate": 2, "colour": 1, "rate_period": 0},
            [
                "'fail_rate' must be between 0 and 1",
                "'colour' cannot be configured",
                "'rate_period' must be at least 1",
            ],
        ),
    ],
)
def test_each_bad_value_is_named_with_why(values: dict[str, Any], problems: list[str]) -> None:
    assert setting_problems(values, quoted) == problems


@pytest.mark.parametrize(
    "values",
    [
        {"fail_rate": 0, "drop_after_commit_rate": 1, "concurrent_writer_rate": 0.5},
        {"rate_limit": None},
        {"rate_limit": 0, "latency_ms": 0, "list_lag_ms": 2.5},
        {"rate_period": 1, "page_limit_default": 1, "page_limit_max": 1},
        {"sparse_items": [], "normalize_view_names": False, "extra_attributes": True},
        {"sparse_items": ("created_by", "org_id")},
        {"page_cap_mode": "reject", "timestamp_precision": "variable", "error_style": "objects"},
    ],
)
def test_good_values_have_no_problems(values: dict[str, Any]) -> None:
    assert setting_problems(values, quoted) == []


def test_the_caller_spells_the_setting() -> None:
    assert setting_problems({"list_lag_ms": -5}, option) == ["--list-lag-ms must not be negative"]


def test_applied_lists_become_tuples() -> None:
    settings = EmulatorSettings()
    apply_settings(settings, {"sparse_items": ["start"], "fail_rate": 0.5, "rate_limit": None})
    assert settings.sparse_items == ("start",)
    assert (settings.fail_rate, settings.rate_limit) == (0.5, None)
