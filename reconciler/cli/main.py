"""Command line: parses arguments, calls one function per command, maps errors to exit codes.

Every command function in `reconciler.cli.commands` takes plain values and returns an exit code.
`main` hands every outcome to `outcomes.guarded`, the only place that turns exceptions into
exit codes: every error exits 1 (click's usage errors included) so that 2 always means
"changes pending".
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import click

from reconciler import __version__
from reconciler.apply.interrupts import terminate_as_interrupt
from reconciler.cli.commands import show as show_command
from reconciler.cli.commands import validate as validate_command
from reconciler.cli.emulator import emulator
from reconciler.cli.options import (
    Connection,
    configure_logging,
    connection_options,
    described,
    escapes_allowed,
    format_option,
    live_progress,
    no_color_option,
    runtime,
    target_option,
    timeout_option,
    use_color,
    verbose_option,
)
from reconciler.cli.outcomes import guarded
from reconciler.render.formats import APPLY_FORMATS, PLAN_FORMATS
from reconciler.render.problems import PROBLEM_FORMATS

if TYPE_CHECKING:  # the offline commands must not import the HTTP stack
    from reconciler.api.runtime import Runtime

__all__ = ["cli", "guarded", "main", "use_color"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "-C",
    "--chdir",
    type=click.Path(exists=True, file_okay=False),
    metavar="DIR",
    help="Run as if started in DIR (like git -C): reconciler.yaml, snapshots/ and every"
    " relative path are found there.",
)
def cli(chdir: str | None) -> None:
    """GitOps for Datadog RUM replay heatmap snapshots.

    YAML files under snapshots/ declare which heatmap snapshots should exist; reconciler
    validates them, plans create / patch / delete operations against Datadog and applies
    them. Credentials come from DD_API_KEY and DD_APP_KEY; the site from DD_SITE.
    """
    if chdir is not None:
        try:
            os.chdir(chdir)  # `main` changes back: in-process callers keep their directory
        except OSError as exc:  # a device or a FIFO passes click's check of a folder
            raise click.BadParameter(
                f"cannot change to {click.format_filename(chdir)!r}: {exc.strerror or exc}",
                param_hint="'-C' / '--chdir'",
            ) from None


def _sent_as_text(
    ctx: click.Context, param: click.Parameter, value: str | tuple[str, ...] | None
) -> str | tuple[str, ...] | None:
    """A value the API receives (in JSON or a URL) must be text: bytes of the command line
    that are not UTF-8 reach Python as lone surrogates, which no request can carry."""
    for item in (value,) if isinstance(value, str) else value or ():
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            raise click.BadParameter(f"{item!r} is not UTF-8 text") from None
    return value


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@format_option(PROBLEM_FORMATS, described(PROBLEM_FORMATS))
@click.option("--config", "config_path", type=click.Path(), help="Path of reconciler.yaml.")
@verbose_option
def validate(
    paths: tuple[str, ...], output_format: str, config_path: str | None, verbose: int
) -> int:
    """Check snapshot files offline (default: the configured snapshots folder).

    Reports every problem at once as path:line:col: message. Exit 0 valid, 1 invalid.
    """
    configure_logging(verbose)
    return validate_command.run(
        paths=list(paths), output_format=output_format, config_path=config_path
    )


@cli.command()
@connection_options
@format_option(PLAN_FORMATS, described(PLAN_FORMATS))
@click.option("--out", type=click.Path(), help="Save the plan to this file for `apply PLAN`.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0 none, 1 error), for drift checks.",
)
@target_option
@click.option(
    "--base",
    metavar="REF",
    help="A git ref (the pull request's base, or the commit last applied): label each change "
    "change, drift or conflict (docs/drift.md); warn about views managed there and no longer.",
)
@timeout_option
@no_color_option
@verbose_option
def plan(
    connection: Connection,
    output_format: str,
    out: str | None,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    base: str | None,
    timeout: float,
    no_color: bool,
    verbose: int,
) -> int:
    """Show what apply would do: list each managed view, diff, print the plan.

    Exit 0 no changes (or changes without --detailed-exitcode), 2 changes with
    --detailed-exitcode, 1 any error.
    """
    # httpx and the API client nearly double the start-up: imported only when plan runs.
    from reconciler.cli.commands import plan as command

    configure_logging(verbose)
    return command.run(
        **connection,
        output_format=output_format,
        out=out,
        detailed_exitcode=detailed_exitcode,
        targets=targets,
        color=use_color(no_color) and output_format == "text",
        base=base,
        runtime=runtime(timeout),
        progress=live_progress(verbose),
        escapes=escapes_allowed(no_color),
    )


@cli.command()
@click.argument("plan_path", metavar="[PLAN]", required=False, type=click.Path())
@connection_options
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (required when not on a TTY)."
)
@click.option("--force", is_flag=True, help="Apply a plan marked unsafe by the safety checks.")
@click.option(
    "--consistency-window",
    type=click.FloatRange(0, 600),
    help="Seconds to watch a view's listing for a create whose answer was lost, before "
    "sending it again (listings may lag writes). Default 10.",
)
@format_option(APPLY_FORMATS, "json: the result of each operation as JSON on stdout.")
@target_option
@timeout_option
@no_color_option
@verbose_option
def apply(
    connection: Connection,
    plan_path: str | None,
    auto_approve: bool,
    force: bool,
    consistency_window: float | None,
    output_format: str,
    targets: tuple[str, ...],
    timeout: float,
    no_color: bool,
    verbose: int,
) -> int:
    """Apply changes: plan, show, confirm, then create / patch / delete.

    With a saved PLAN (from `plan --out`), apply exactly its operations, without a prompt,
    after checking that nothing changed since (else: "saved plan is stale").
    Exit 0 applied or nothing to do, 1 error or refused, 130 interrupted.
    """
    # httpx and the API client nearly double the start-up: imported only when apply runs.
    from reconciler.cli.commands import apply as command

    configure_logging(verbose)
    if plan_path is not None and targets:
        raise click.UsageError("--target cannot be combined with a saved PLAN")
    return command.run(
        plan_path=plan_path,
        **connection,
        auto_approve=auto_approve,
        force=force,
        output_format=output_format,
        targets=targets,
        color=use_color(no_color) and output_format == "text",
        interactive=sys.stdin.isatty(),
        progress=live_progress(verbose),
        runtime=runtime(timeout, consistency_window=consistency_window),
        escapes=escapes_allowed(no_color),
    )


@cli.command()
@click.argument("plan_path", metavar="PLAN", type=click.Path())
@format_option(PLAN_FORMATS)
@no_color_option
@verbose_option
def show(plan_path: str, output_format: str, no_color: bool, verbose: int) -> int:
    """Render a saved plan (from `plan --out`)."""
    configure_logging(verbose)
    return show_command.run(
        plan_path=plan_path, output_format=output_format, color=use_color(no_color)
    )


@cli.command()
@click.option(
    "--application-id",
    required=True,
    metavar="ID",
    help="The RUM application's id (a UUID).",
)
@click.option(
    "--view",
    "views",
    required=True,
    multiple=True,
    metavar="V",
    callback=_sent_as_text,
    help="A view to export (repeatable). The API cannot list views: name each one.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write the file here (default: stdout); an existing file only with --force.",
)
@click.option(
    "--merge",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Update this existing snapshots file in place, keeping its comments and layout.",
)
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
@connection_options
@timeout_option
@verbose_option
def export(
    connection: Connection,
    application_id: str,
    views: tuple[str, ...],
    output: str | None,
    merge: str | None,
    force: bool,
    timeout: float,
    verbose: int,
) -> int:
    """Write a snapshots file from the snapshots that exist remotely.

    The API cannot list views, so name each view to export with --view. Each named view is
    written as managed (a view with no snapshots as `[]`), so `plan` on the result shows
    no changes. With --merge FILE, only the named views of FILE are updated: changed
    values in place, new snapshots appended, snapshots gone remotely removed; comments and
    everything else are kept. Exit 0 written, 1 any error (nothing written).
    """
    # httpx and the API client nearly double the start-up: imported only when export runs.
    from reconciler.cli.commands import export as command

    configure_logging(verbose)
    return command.run(
        application_id=application_id,
        views=list(views),
        output=output,
        merge=merge,
        **connection,
        runtime=runtime(timeout),
        force=force,
    )


@cli.command()
@connection_options
@click.option(
    "--write-probe",
    is_flag=True,
    help="Also create, patch and delete one probe snapshot in a scratch view.",
)
@click.option(
    "--probe-view",
    metavar="VIEW",
    default=None,
    callback=_sent_as_text,
    help="Scratch view of --write-probe (default: /reconciler-doctor-probe).",
)
@timeout_option
@verbose_option
def doctor(
    connection: Connection,
    write_probe: bool,
    probe_view: str | None,
    timeout: float | None,
    verbose: int,
) -> int:
    """Check what reconciler assumes of the API against the configured org.

    Keys and read permission, reachability, rate-limit headers, page[limit] behaviour and
    the shape of the managed views' listings; prints a report and a suggested
    reconciler.yaml block. Read-only unless --write-probe. Exit 0 when every assumption
    holds, 1 otherwise.
    """
    # httpx and the API client nearly double the start-up: imported only when doctor runs.
    from reconciler.cli.commands import doctor as command

    configure_logging(verbose)
    return command.run(
        **connection,
        write_probe=write_probe,
        probe_view=probe_view,
        runtime=runtime(timeout),
    )


cli.add_command(emulator)


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--ci",
    type=click.Choice(["github", "gitlab", "none"]),
    default="github",
    show_default=True,
    help="Which CI recipes to write (.github/workflows/ or .gitlab-ci.yml).",
)
@verbose_option
def init(directory: str, ci: str, verbose: int) -> int:
    """Start a repository of snapshot files (default: the current folder).

    Writes reconciler.yaml, schemas/, an example snapshots file, .pre-commit-config.yaml and
    the CI workflows. Never overwrites a file: lists what it created and what it skipped.
    Offline. Exit 0.
    """
    # importlib.resources (tempfile, shutil, the compression modules): a tenth of validate's
    # start-up, imported only when init runs.
    from reconciler.cli.commands import init as command

    configure_logging(verbose)
    return command.run(directory=directory, ci=ci)


def main(argv: Sequence[str] | None = None, *, runtime: Runtime | None = None) -> int:
    """Entry point: run the command and turn every outcome into an exit code."""

    def command() -> object:
        # Before click parses a word: a signal at any moment of the run says it was
        # interrupted (`outcomes.guarded`), instead of ending the process without a word.
        with terminate_as_interrupt():
            return cli.main(args=argv, prog_name="reconciler", standalone_mode=False, obj=runtime)

    previous = os.getcwd()
    try:
        with _escaping_what_cannot_be_written():
            return guarded(command)
    finally:
        os.chdir(previous)  # after --chdir


@contextlib.contextmanager
def _escaping_what_cannot_be_written() -> Iterator[None]:
    """stdout and stderr, when strict, write a character their encoding cannot hold as an
    escape (`\\udce9`) for the run: a file name or a variable holding a byte that is not
    UTF-8 reaches Python as a lone surrogate, which a strict stream refuses with an error."""
    changed: list[io.TextIOWrapper] = []
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
            changed.append(stream)
    try:
        yield
    finally:
        for stream in changed:
            stream.reconfigure(errors="strict")
