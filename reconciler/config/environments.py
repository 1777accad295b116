"""Environments: one repository driving several Datadog orgs or sites.

`environments:` in reconciler.yaml names each environment with its target (`site` or
`api_url`, under the same target policy as the top level), the environment variables that
hold its keys (default DD_API_KEY_<NAME> / DD_APP_KEY_<NAME>: never DD_API_KEY, which would
send one org's key to another), its application aliases and its overrides of the per-run
settings. A run selects environments with `--env NAME` (repeatable) or `--all-envs`; with
environments configured, one of the two is required, so that no command guesses an org.

Everything here is offline: every selected environment's settings, target and keys are
resolved before any of them is contacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from reconciler.config import settings as config
from reconciler.core.errors import InvalidInput, UsageProblem
from reconciler.core.secrets import API_KEY_PREFIX, APP_KEY_PREFIX, register_environment

_NOT_IN_A_VARIABLE: Final = re.compile(r"[^A-Za-z0-9_]")


class Environment(NamedTuple):
    """One selected environment, resolved: its settings, where its keys are, its aliases."""

    name: str
    settings: config.Settings
    api_key_env: str
    app_key_env: str
    #: alias -> application id in this environment's org.
    applications: Mapping[str, str] = MappingProxyType({})


class Selection(NamedTuple):
    """What the command line asked for: `--env` names (in order) and `--all-envs`."""

    names: tuple[str, ...] = ()
    all_envs: bool = False

    @property
    def given(self) -> bool:
        return bool(self.names) or self.all_envs


#: No `--env` and no `--all-envs`.
NO_SELECTION: Final = Selection()


def default_key_variables(name: str) -> tuple[str, str]:
    """What `api_key_env` / `app_key_env` default to: the name upper-cased, '-' as '_'."""
    suffix = _NOT_IN_A_VARIABLE.sub("_", name).upper()
    return API_KEY_PREFIX + suffix, APP_KEY_PREFIX + suffix


def declared(config_path: str | None) -> dict[str, Mapping[str, Any]]:
    """The `environments:` sections of reconciler.yaml by name (empty: none declared).
    Raises InvalidInput for a bad reconciler.yaml."""
    path = config.find_config(config_path)
    if path is None:
        return {}
    values, problems = config.read_config(path)
    if problems:
        raise InvalidInput(problems)
    sections = {
        str(name): section for name, section in (values.get(config.ENVIRONMENTS) or {}).items()
    }
    # Known before anything is printed, so that every output masks them.
    register_environment(variables=_variables(sections))
    return sections


def select(
    config_path: str | None,
    overrides: config.Overrides,
    environ: Mapping[str, str],
    selection: Selection,
    sections: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[Environment, ...] | None:
    """The selected environments, resolved, or None when reconciler.yaml declares none and
    none was asked for (a run as before environments). `sections`: `declared(config_path)`
    when the caller has read it. Raises UsageProblem for a selection that cannot be made,
    InvalidInput for a bad reconciler.yaml."""
    if sections is None:
        sections = declared(config_path)
    if not sections:
        if selection.given:
            raise UsageProblem(
                "--env and --all-envs need `environments:` in reconciler.yaml; none is declared"
            )
        return None
    _check_own_variables(sections)
    names = _chosen(sections, selection)
    if len(names) > 1 and (overrides.site or overrides.api_url):
        raise UsageProblem(
            "--site and --api-url apply to one environment (each has its own keys): "
            "select it with a single --env"
        )
    return tuple(
        _environment(config_path, overrides, environ, name, sections[name]) for name in names
    )


def _check_own_variables(sections: Mapping[str, Mapping[str, Any]]) -> None:
    """No two environments read a key from one variable: `--all-envs` would send one
    org's key to the other's host."""
    readers: dict[str, str] = {}
    for name, section in sections.items():
        for variable in key_variables(name, section):
            first = readers.setdefault(variable, name)
            if first != name:
                raise UsageProblem(
                    f"environments {first!r} and {name!r} read a key from the same variable "
                    f"{variable}: give each environment its own (api_key_env, app_key_env)"
                )


def _chosen(sections: Mapping[str, Any], selection: Selection) -> list[str]:
    known = ", ".join(sections)
    if not selection.given:
        raise UsageProblem(
            f"reconciler.yaml declares environments ({known}): choose with --env NAME or --all-envs"
        )
    if selection.all_envs:
        if selection.names:
            raise UsageProblem("--env and --all-envs cannot be combined")
        return list(sections)
    for name in selection.names:
        if name not in sections:
            raise UsageProblem(f"unknown environment {name!r} (reconciler.yaml declares: {known})")
    return list(dict.fromkeys(selection.names))


def _environment(
    config_path: str | None,
    overrides: config.Overrides,
    environ: Mapping[str, str],
    name: str,
    section: Mapping[str, Any],
) -> Environment:
    settings = config.load_settings(config_path, overrides, environ, environment=name)
    api_key_env, app_key_env = key_variables(name, section)
    return Environment(name, settings, api_key_env, app_key_env, applications_of(section))


def key_variables(name: str, section: Mapping[str, Any]) -> tuple[str, str]:
    """The variables environment `name` reads its API and application keys from."""
    api_default, app_default = default_key_variables(name)
    return (
        str(section.get("api_key_env") or api_default),
        str(section.get("app_key_env") or app_default),
    )


def applications_of(section: Mapping[str, Any]) -> dict[str, str]:
    """An environment's aliases: alias -> application id."""
    return {str(alias): str(value) for alias, value in (section.get("applications") or {}).items()}


def _variables(sections: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every variable the environments read keys from."""
    return [variable for name, s in sections.items() for variable in key_variables(name, s)]
