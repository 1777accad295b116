"""`reconciler doctor`: check the API's unknowns against the configured org; print a report
and a suggested reconciler.yaml block. Exit 0 when every assumption holds, 1 otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import click

from reconciler import exitcodes
from reconciler.doctor import Report, diagnose
from reconciler.doctor_probe import DEFAULT_PROBE_VIEW, WriteProbe
from reconciler.engine import prepare
from reconciler.errors import UsageProblem
from reconciler.runtime import Runtime
from reconciler.secrets import redact

_WIDTH = max(len(status) for status in ("ok", "note", "unknown", "differs")) + 2


def run(
    *,
    config_path: str | None,
    overrides: Mapping[str, object],
    write_probe: bool,
    probe_view: str | None,
    runtime: Runtime = Runtime(),
) -> int:
    context, desired = prepare(config_path, overrides, runtime=runtime)
    scopes = sorted({view.scope for view in desired.views})
    probe = None
    view = DEFAULT_PROBE_VIEW if probe_view is None else probe_view.strip()
    if write_probe:
        if not view:
            raise UsageProblem("--probe-view must not be empty")
        if any(scope.view_name == view for scope in scopes):
            raise UsageProblem(
                f"--probe-view {view!r} is a managed view; name a scratch view that no "
                "snapshot file declares"
            )
        if scopes:
            probe = WriteProbe(scopes[0].application_id, view, runtime.clock)
    report = asyncio.run(diagnose(context, desired, probe=probe))
    click.echo(redact(render(report)), nl=False)
    return exitcodes.OK if report.holds else exitcodes.ERROR


def render(report: Report) -> str:
    """One line per finding, `STATUS  topic: message`, then the suggested settings and the
    verdict."""
    lines = [f"Doctor: {report.target}, {report.views} managed view(s)"]
    lines += [
        f"{finding.status:<{_WIDTH}}{finding.topic}: {finding.message}"
        for finding in report.findings
    ]
    lines.append("")
    if report.suggestions:
        lines.append("Suggested reconciler.yaml:")
        width = max(len(f"{key}: {value}") for key, (value, _) in report.suggestions.items())
        for key, (value, why) in sorted(report.suggestions.items()):
            lines.append(f"  {f'{key}: {value}':<{width}}  # {why}")
    else:
        lines.append("Suggested reconciler.yaml: nothing to change.")
    lines.append("")
    failed = sum(finding.status == "differs" for finding in report.findings)
    if failed:
        lines.append(f"{failed} assumption(s) do not hold.")
    else:
        lines.append("All assumptions hold.")
    return "\n".join(lines) + "\n"
