"""`reconciler doctor`: check the API's unknowns against the configured org; print a report
and a suggested reconciler.yaml block. Exit 0 when every assumption holds, 1 otherwise."""

from __future__ import annotations

import asyncio

from reconciler.api.runtime import Runtime
from reconciler.apply.interrupts import run_loop
from reconciler.config.environments import NO_SELECTION, Selection
from reconciler.config.settings import Overrides
from reconciler.core import exitcodes
from reconciler.core.errors import UsageProblem
from reconciler.core.output import echo
from reconciler.doctor.checks import diagnose
from reconciler.doctor.probe import DEFAULT_PROBE_VIEW, WriteProbe
from reconciler.doctor.report import Report
from reconciler.plan.engine import prepare_all

_WIDTH = max(len(status) for status in ("ok", "note", "unknown", "differs")) + 2


def run(
    *,
    config_path: str | None,
    overrides: Overrides,
    write_probe: bool,
    probe_view: str | None,
    runtime: Runtime = Runtime(),
    selection: Selection = NO_SELECTION,
) -> int:
    prepared = prepare_all(config_path, overrides, runtime=runtime, selection=selection)
    view = DEFAULT_PROBE_VIEW if probe_view is None else probe_view.strip()
    jobs = []
    for context, desired in prepared:
        scopes = sorted({view.scope for view in desired.views})
        probe = None
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
        jobs.append((context, desired, probe))

    async def diagnose_all() -> list[Report]:
        return list(await asyncio.gather(*(diagnose(c, d, probe=p) for c, d, p in jobs)))

    reports = run_loop(diagnose_all)
    sections = []
    for (context, _, _), report in zip(jobs, reports, strict=True):
        sections.append(render(report, context.environment))
    echo("\n".join(sections), nl=False)
    return exitcodes.combined(
        [exitcodes.OK if report.holds else exitcodes.ERROR for report in reports]
    )


def render(report: Report, environment: str | None = None) -> str:
    """One line per finding, `STATUS  topic: message`, then the suggested settings and the
    verdict."""
    where = "" if environment is None else f"environment {environment}, "
    block = "reconciler.yaml" if environment is None else f"environments.{environment}"
    lines = [f"Doctor: {where}{report.target}, {report.views} managed view(s)"]
    lines += [
        f"{finding.status:<{_WIDTH}}{finding.topic}: {finding.message}"
        for finding in report.findings
    ]
    lines.append("")
    if report.suggestions:
        lines.append(f"Suggested {block}:")
        width = max(len(f"{key}: {value}") for key, (value, _) in report.suggestions.items())
        for key, (value, why) in sorted(report.suggestions.items()):
            lines.append(f"  {f'{key}: {value}':<{width}}  # {why}")
    else:
        lines.append(f"Suggested {block}: nothing to change.")
    lines.append("")
    failed = sum(finding.status == "differs" for finding in report.findings)
    if failed:
        lines.append(f"{failed} assumption(s) do not hold.")
    else:
        lines.append("All assumptions hold.")
    return "\n".join(lines) + "\n"
