"""Command line: parses arguments, calls one function per command, maps errors to exit codes.

Every command function in `reconciler.commands` takes plain values and returns an exit code.
This module is the only place that turns exceptions into exit codes: every error exits 1
(click's usage errors included) so that 2 always means "changes pending".
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler import __version__, exitcodes
from reconciler.errors import InvalidInput, ReconcilerError

if TYPE_CHECKING:  # the offline commands must not import the HTTP stack
    from reconciler.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


def verbose_option(func: F) -> F:
    """`-v` / `--verbose` on every command: each request to stderr; twice for debug."""
    return click.option(
        "-v",
        "--verbose",
        count=True,
        help="Log each HTTP request (method, path, status, time, retries) to stderr.",
    )(func)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `sys.stderr` as it is when each record is emitted, not when configured
    (a stream swapped since, as tests do, must not receive records after it is closed)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass

    def format(self, record: logging.LogRecord) -> str:
        from reconciler.secrets import redact

        return redact(super().format(record))  # the one sink of every log line


def configure_logging(verbose: int) -> None:
    """Log to stderr; keys are never logged by the client, and the handler masks every
    line (a server's text may carry one)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("reconciler")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


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
        os.chdir(chdir)  # `main` changes back: in-process callers keep their directory


def format_option(choices: list[str], help_text: str | None = None) -> Callable[[F], F]:
    """`--format`, default text, with the choices each command offers."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help=help_text,
    )


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@format_option(
    ["text", "github", "json"],
    "text: path:line:col: message; github: Actions annotations; json: a list.",
)
@click.option("--config", "config_path", type=click.Path(), help="Path of reconciler.yaml.")
@verbose_option
def validate(
    paths: tuple[str, ...], output_format: str, config_path: str | None, verbose: int
) -> int:
    """Check snapshot files offline (default: the configured snapshots folder).

    Reports every problem at once as path:line:col: message. Exit 0 valid, 1 invalid.
    """
    from reconciler.commands import validate as command

    configure_logging(verbose)
    return command.run(paths=list(paths), output_format=output_format, config_path=config_path)


def use_color() -> bool:
    """Colours only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def connection_options(func: F) -> F:
    """Options shared by the commands that talk to the API; each overrides reconciler.yaml."""
    options = [
        click.option("--config", "config_path", type=click.Path(), help="Path of reconciler.yaml."),
        click.option("--site", help="Datadog site, e.g. datadoghq.eu (default: DD_SITE)."),
        click.option("--api-url", help="API base URL; overrides the site (emulator, proxy)."),
        click.option("--snapshots", "snapshots_dir", help="Folder of snapshot files."),
        click.option("--parallelism", type=click.IntRange(1, 64), help="Concurrent requests."),
        click.option("--page-limit", type=click.IntRange(1), help="page[limit] of each listing."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def timeout_option(func: F) -> F:
    """`--timeout SECONDS`: the run's deadline, which no server can stretch."""
    from reconciler.deadline import DEFAULT_TIMEOUT

    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="Give up after this long: no request starts and no wait lasts past it.",
    )(func)


#: `--target GLOB` of plan and apply.
target_option = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="GLOB",
    help=(
        "Only operations of app:ID, file:PATH, view:NAME, or a snapshot or view name GLOB "
        "(repeatable; only * and ? are wildcards; kinds combine with AND)."
    ),
)


def overrides_from(
    site: str | None,
    api_url: str | None,
    snapshots_dir: str | None,
    parallelism: int | None,
    page_limit: int | None,
) -> dict[str, object]:
    return {
        "site": site,
        "api_url": api_url,
        "snapshots": snapshots_dir,
        "parallelism": parallelism,
        "page_limit": page_limit,
    }


@cli.command()
@connection_options
@format_option(
    ["text", "markdown", "json", "github"],
    "text like Terraform; markdown for a pull-request comment; json (plan.schema.json); "
    "github: Actions annotations.",
)
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
    help="A git ref (the pull request's base): warn about views managed there and no longer.",
)
@timeout_option
@verbose_option
def plan(
    config_path: str | None,
    site: str | None,
    api_url: str | None,
    snapshots_dir: str | None,
    parallelism: int | None,
    page_limit: int | None,
    output_format: str,
    out: str | None,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    base: str | None,
    timeout: float,
    verbose: int,
) -> int:
    """Show what apply would do: list each managed view, diff, print the plan.

    Exit 0 no changes (or changes without --detailed-exitcode), 2 changes with
    --detailed-exitcode, 1 any error.
    """
    from reconciler.commands import plan as command

    configure_logging(verbose)
    return command.run(
        config_path=config_path,
        overrides=overrides_from(site, api_url, snapshots_dir, parallelism, page_limit),
        output_format=output_format,
        out=out,
        detailed_exitcode=detailed_exitcode,
        targets=targets,
        color=use_color() and output_format == "text",
        base=base,
        runtime=runtime(timeout),
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
@format_option(["text", "json"], "json: the result of each operation as JSON on stdout.")
@target_option
@timeout_option
@verbose_option
def apply(
    plan_path: str | None,
    config_path: str | None,
    site: str | None,
    api_url: str | None,
    snapshots_dir: str | None,
    parallelism: int | None,
    page_limit: int | None,
    auto_approve: bool,
    force: bool,
    consistency_window: float | None,
    output_format: str,
    targets: tuple[str, ...],
    timeout: float,
    verbose: int,
) -> int:
    """Apply changes: plan, show, confirm, then create / patch / delete.

    With a saved PLAN (from `plan --out`), apply exactly its operations, without a prompt,
    after checking that nothing changed since (else: "saved plan is stale").
    Exit 0 applied or nothing to do, 1 error or refused, 130 interrupted.
    """
    from reconciler.commands import apply as command

    configure_logging(verbose)
    if plan_path is not None and targets:
        raise click.UsageError("--target cannot be combined with a saved PLAN")
    return command.run(
        plan_path=plan_path,
        config_path=config_path,
        overrides=overrides_from(site, api_url, snapshots_dir, parallelism, page_limit),
        auto_approve=auto_approve,
        force=force,
        output_format=output_format,
        targets=targets,
        color=use_color() and output_format == "text",
        interactive=sys.stdin.isatty(),
        progress=sys.stdout.isatty() and output_format == "text",
        runtime=runtime(timeout, consistency_window=consistency_window),
    )


@cli.command()
@click.argument("plan_path", metavar="PLAN", type=click.Path())
@format_option(["text", "markdown", "json", "github"])
@verbose_option
def show(plan_path: str, output_format: str, verbose: int) -> int:
    """Render a saved plan (from `plan --out`)."""
    from reconciler.commands import show as command

    configure_logging(verbose)
    return command.run(
        plan_path=plan_path,
        output_format=output_format,
        color=use_color() and output_format == "text",
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
    application_id: str,
    views: tuple[str, ...],
    output: str | None,
    merge: str | None,
    force: bool,
    config_path: str | None,
    site: str | None,
    api_url: str | None,
    snapshots_dir: str | None,
    parallelism: int | None,
    page_limit: int | None,
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
    from reconciler.commands import export as command

    configure_logging(verbose)
    return command.run(
        application_id=application_id,
        views=list(views),
        output=output,
        merge=merge,
        config_path=config_path,
        overrides=overrides_from(site, api_url, snapshots_dir, parallelism, page_limit),
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
    help="Scratch view of --write-probe (default: /reconciler-doctor-probe).",
)
@timeout_option
@verbose_option
def doctor(
    config_path: str | None,
    site: str | None,
    api_url: str | None,
    snapshots_dir: str | None,
    parallelism: int | None,
    page_limit: int | None,
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
    from reconciler.commands import doctor as command

    configure_logging(verbose)
    return command.run(
        config_path=config_path,
        overrides=overrides_from(site, api_url, snapshots_dir, parallelism, page_limit),
        write_probe=write_probe,
        probe_view=probe_view,
        runtime=runtime(timeout),
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8126, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", "db_path", default=":memory:", show_default=True, help="SQLite file.")
@click.option("--fail-rate", default=0.0, type=float, help="Fraction of requests answered 5xx.")
@click.option("--latency-ms", default=0.0, type=float, help="Added latency per request.")
@click.option(
    "--drop-after-commit-rate",
    default=0.0,
    type=float,
    help="Fraction of writes committed, then answered by a dropped connection or a 502.",
)
@click.option(
    "--rate-limit",
    default=None,
    type=int,
    help="Requests allowed per period, per operation (default: unlimited).",
)
@click.option("--rate-period", default=1, type=int, show_default=True, help="Seconds.")
@click.option("--page-limit-default", default=100, type=int, show_default=True)
@click.option(
    "--page-limit-max",
    "--page-cap",
    "page_limit_max",
    default=1000,
    type=int,
    show_default=True,
    help="The server's page cap.",
)
@click.option(
    "--page-cap-mode",
    type=click.Choice(["silent", "reject"]),
    default="silent",
    show_default=True,
    help="Above the cap: cut the page silently, or answer 400 'page[limit] must be <= N'.",
)
@click.option("--list-lag-ms", default=0.0, type=float, help="Writes show in listings this late.")
@click.option(
    "--sparse-items",
    default="",
    metavar="FIELDS",
    help="Attributes left out of list items, comma-separated (e.g. start,application_id).",
)
@click.option(
    "--timestamp-precision",
    type=click.Choice(["fixed", "variable"]),
    default="fixed",
    show_default=True,
    help="variable: created_at / modified_at with 0 to 6 fraction digits.",
)
@click.option(
    "--normalize-view-names",
    is_flag=True,
    help="Store view names as NFC, lower case, without trailing slash; filter likewise.",
)
@click.option(
    "--error-style",
    type=click.Choice(["strings", "objects"]),
    default="strings",
    show_default=True,
    help='{"errors": ["..."]} or {"errors": [{"status", "title", "detail"}]}.',
)
@click.option("--extra-attributes", is_flag=True, help="Unknown extra attributes on items.")
@click.option("--api-key", default=None, help="Accept only this API key (with --app-key).")
@click.option("--app-key", default=None, help="Accept only this application key.")
@click.option("--repeat-ids-rate", default=0.0, type=float, help="Listings with an id twice.")
@click.option(
    "--create-without-id-rate",
    default=0.0,
    type=float,
    help="Creates committed and answered 201 without data.id (or without a body).",
)
@click.option(
    "--concurrent-writer-rate",
    default=0.0,
    type=float,
    help="Creates that another writer makes too, at the same moment.",
)
@click.option("--seed", default=None, type=int, help="Seed of the fault injection.")
@verbose_option
def emulator(
    host: str,
    port: int,
    db_path: str,
    sparse_items: str,
    api_key: str | None,
    app_key: str | None,
    seed: int | None,
    verbose: int,
    **options: Any,
) -> int:
    """Run the local Datadog API emulator (heatmap snapshot endpoints only).

    Any non-empty DD-API-KEY / DD-APPLICATION-KEY pair is accepted, unless --api-key and
    --app-key name the only pair accepted (others: 403).
    """
    from reconciler.commands import emulator as command

    configure_logging(verbose)
    fields = tuple(name.strip() for name in sparse_items.split(",") if name.strip())
    return command.run(
        host=host,
        port=port,
        db_path=db_path,
        seed=seed,
        api_key=api_key,
        app_key=app_key,
        sparse_items=fields,
        **options,
    )


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
    from reconciler.commands import init as command

    configure_logging(verbose)
    return command.run(directory=directory, ci=ci)


def runtime(timeout: float | None = None, *, consistency_window: float | None = None) -> Runtime:
    """The seam handed to `main` (tests: a transport, a clock, a retry policy), else the
    defaults; with the run's deadline `timeout` seconds from now, and an option given on the
    command line in place of its field."""
    import dataclasses

    from reconciler.runtime import Runtime

    given = click.get_current_context().find_root().obj
    chosen = given if isinstance(given, Runtime) else Runtime()
    if consistency_window is not None:
        chosen = dataclasses.replace(chosen, consistency_window=consistency_window)
    return chosen.with_timeout(timeout)


def main(argv: Sequence[str] | None = None, *, runtime: Runtime | None = None) -> int:
    """Entry point: run the command and turn every outcome into an exit code."""
    previous = os.getcwd()
    try:
        return guarded(
            lambda: cli.main(args=argv, prog_name="reconciler", standalone_mode=False, obj=runtime)
        )
    finally:
        os.chdir(previous)  # after --chdir


def guarded(call: Callable[[], object]) -> int:
    """The one place where outcomes become exit codes; messages pass the key redactor."""
    from reconciler.output import echo
    from reconciler.secrets import register_environment

    register_environment()
    try:
        result = call()
    except click.exceptions.Exit as exc:  # --help, --version
        return int(exc.exit_code)
    except click.ClickException as exc:  # usage errors: 1, not click's 2
        shown = io.StringIO()
        exc.show(file=shown)  # masked like every other output: it may quote an argument
        echo(shown.getvalue(), err=True, nl=False)
        return exitcodes.ERROR
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (and end of input at a prompt) into Abort.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):
            echo("Interrupted.", err=True)
            return _interrupted_code(cause)
        echo("Aborted.", err=True)
        return exitcodes.ERROR
    except InvalidInput as exc:
        for problem in exc.problems:
            echo(str(problem), err=True)
        return exitcodes.ERROR
    except ReconcilerError as exc:
        echo(f"error: {exc}", err=True)
        return exitcodes.ERROR
    except KeyboardInterrupt as exc:
        echo("Interrupted.", err=True)
        return _interrupted_code(exc)
    except Exception as exc:
        if os.environ.get("RECONCILER_DEBUG"):
            raise
        # A bug of ours, not bad input: one line, no traceback (RECONCILER_DEBUG=1 shows it).
        name = type(exc).__name__
        echo(f"internal error: {name}: {exc} (please report it)", err=True)
        return exitcodes.ERROR
    return result if isinstance(result, int) else exitcodes.OK


def _interrupted_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (which apply raises as `Terminated`)."""
    from reconciler.interrupts import Terminated

    return exitcodes.TERMINATED if isinstance(exc, Terminated) else exitcodes.INTERRUPTED
