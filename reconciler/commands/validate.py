"""`reconciler validate [PATH...]`: offline checks of snapshot files and reconciler.yaml."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from reconciler import config, desired, exitcodes
from reconciler.errors import InvalidInput, UsageProblem
from reconciler.model import Problem
from reconciler.problem_output import Summary, render
from reconciler.secrets import API_KEY_VAR, APP_KEY_VAR, redact, register_secret


def run(*, paths: list[str], output_format: str, config_path: str | None) -> int:
    """Print every problem (or a summary line) to stdout; 0 valid, 1 invalid."""
    problems: list[Problem] = []
    config_shown: str | None = None
    root: str | None = None  # explicit paths: the working directory is the repository
    if paths:
        targets: list[str] = []
        for path in paths:
            if Path(path).name in desired.CONFIG_NAMES and Path(path).is_file():
                problems.extend(config.read_config(path)[1])
                config_shown = desired.display_path(path)
            else:
                targets.append(path)
    else:
        try:
            settings = config.load_settings(config_path, {}, os.environ)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            settings = _salvaged_settings(config_path)
        except UsageProblem as exc:
            # A missing --config file, or a bad environment variable (no file to point at).
            missing_config = config_path is not None and not Path(config_path).is_file()
            where = config_path if missing_config and config_path else "(environment)"
            problems.append(Problem(where, 1, 1, str(exc)))
            settings = config.Settings()
        if settings.config_path is not None:
            config_shown = desired.display_path(settings.config_path)
        targets = [settings.snapshots]
        root = settings.repository_root
    report = desired.load_report(targets, root=root) if targets else None
    if report is not None:
        problems.extend(report.problems)
    summary = Summary(
        files=report.files if report else 0,
        snapshots=len(report.state.snapshots) if report else 0,
        views=len(report.state.views) if report else 0,
        config=config_shown,
    )
    _register_environment_keys()
    # Messages quote file values: a key pasted into a file is masked like everywhere else.
    sys.stdout.write(redact(render(problems, output_format, summary)) + "\n")
    return exitcodes.ERROR if problems else exitcodes.OK


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


def _register_environment_keys() -> None:
    """validate needs no keys, but masks them if the environment holds them."""
    for name in (API_KEY_VAR, APP_KEY_VAR):
        value = os.environ.get(name, "").strip()
        if value:
            register_secret(value)
