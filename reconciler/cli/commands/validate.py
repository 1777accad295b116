"""`reconciler validate [PATH...]`: offline checks of snapshot files and reconciler.yaml."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.config import environments
from reconciler.config import settings as config
from reconciler.config.sites import resolve_target
from reconciler.core import exitcodes
from reconciler.core.errors import InvalidInput, UsageProblem
from reconciler.core.files import display_path
from reconciler.core.model import Problem
from reconciler.core.output import echo
from reconciler.desired import load as desired
from reconciler.desired import placement
from reconciler.render.problems import Summary, render


def run(*, paths: list[str], output_format: str, config_path: str | None) -> int:
    """Print every problem (or a summary line) to stdout; 0 valid, 1 invalid."""
    problems: list[Problem] = []
    config_shown: str | None = None
    root: str | None = None  # explicit paths: the working directory is the repository
    if paths:
        targets: list[str] = []
        for path in paths:
            if Path(path).name in desired.CONFIG_NAMES and os.path.isfile(path):
                values, found = config.read_config(path)
                problems.extend(found or config.file_target_problems(path, values, os.environ))
                config_shown = display_path(path)
            else:
                targets.append(path)
    else:
        try:
            settings = config.load_settings(config_path, config.Overrides(), os.environ)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            settings = _salvaged_settings(config_path)
        except UsageProblem as exc:
            # A missing --config file, or a bad environment variable (no file to point at).
            missing_config = config_path is not None and not os.path.isfile(config_path)
            where = config_path if missing_config and config_path else "(environment)"
            problems.append(Problem(where, 1, 1, str(exc)))
            settings = config.Settings()
        else:
            problems.extend(_target_problems(settings))
        if settings.config_path is not None:
            config_shown = display_path(settings.config_path)
        targets = [settings.snapshots]
        root = settings.repository_root
    report = desired.load_report(targets, root=root) if targets else None
    if report is not None:
        problems.extend(report.problems)
        problems.extend(_placement_problems(report, config_path))
    summary = Summary(
        files=report.files if report else 0,
        snapshots=len(report.state.snapshots) if report else 0,
        views=len(report.state.views) if report else 0,
        config=config_shown,
    )
    echo(render(problems, output_format, summary))
    return exitcodes.ERROR if problems else exitcodes.OK


def _placement_problems(report: desired.LoadReport, config_path: str | None) -> list[Problem]:
    """Every alias resolved in every environment; files limited to known environments."""
    try:
        sections = environments.declared(config_path)
    except (InvalidInput, UsageProblem):
        sections = {}  # a bad reconciler.yaml is reported on its own
    if not sections:
        return placement.without_environments(report.placed)
    found = placement.unknown_environments(report.placed, list(sections))
    for name, section in sections.items():
        found += _environment_target_problems(config_path, name)
        applications = environments.applications_of(section)
        found += placement.for_environment(report.state, report.placed, name, applications)[1]
    return sorted(set(found))


def _environment_target_problems(config_path: str | None, name: str) -> list[Problem]:
    """The target checks of one environment, as `plan --env NAME` makes them."""
    try:
        settings = config.load_settings(
            config_path, config.Overrides(), os.environ, environment=name
        )
    except InvalidInput as exc:
        return list(exc.problems)
    except UsageProblem:
        return []  # a bad environment variable: reported once, with the top level
    try:
        resolve_target(settings)
    except UsageProblem as exc:
        path = settings.config_path or config.DEFAULT_CONFIG
        key = "api_url" if settings.api_url else "site"
        line, col = config.setting_position(path, key, (config.ENVIRONMENTS, name))
        return [Problem(display_path(path), line, col, f"environment {name!r}: {exc}")]
    return []


def _target_problems(settings: config.Settings) -> list[Problem]:
    """The target checks `plan` makes before any connection (an unknown site, a bad
    api_url), offline: validate never says OK to a configuration plan refuses."""
    try:
        resolve_target(settings)
    except UsageProblem as exc:
        name = "api_url" if settings.api_url else "site"
        if settings.source(name) == "file" and settings.config_path is not None:
            line, col = config.setting_position(settings.config_path, name)
            return [Problem(display_path(settings.config_path), line, col, str(exc))]
        return [Problem("(environment)", 1, 1, str(exc))]
    return []


def _salvaged_settings(config_path: str | None) -> config.Settings:
    """Settings from the valid parts of a reconciler.yaml that has problems."""
    try:
        path = config.find_config(config_path)
    except (InvalidInput, UsageProblem):
        path = None
    snapshots = config.Settings.snapshots
    if path is not None:
        values, _ = config.read_config(path)
        snapshots = values.get("snapshots") or os.path.join(os.path.dirname(path), snapshots)
    snapshots = os.environ.get("RECONCILER_SNAPSHOTS", "").strip() or snapshots
    return config.Settings(config_path=path, snapshots=snapshots)
