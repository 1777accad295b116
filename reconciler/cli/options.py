"""Options and helpers shared by the commands of `reconciler.cli.main`: logging, `--format`,
the connection options, `--timeout`, `--target`, and the `Runtime` each command receives.

Imports nothing of the HTTP stack at module level: the offline commands load this module too.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, TypeVar, cast

import click

from reconciler.config.environments import Selection
from reconciler.config.settings import Overrides
from reconciler.core.deadline import DEFAULT_TIMEOUT
from reconciler.core.output import LogHandler

if TYPE_CHECKING:  # the offline commands must not import the HTTP stack
    from reconciler.api.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


def verbose_option(func: F) -> F:
    """`-v` / `--verbose` on every command: each request to stderr; twice for debug."""
    return click.option(
        "-v",
        "--verbose",
        count=True,
        help="Log each HTTP request (method, path, status, time, retries) to stderr.",
    )(func)


def configure_logging(verbose: int) -> None:
    """Log to stderr through the sink of log lines (`core.output.LogHandler`): keys are
    never logged by the client, and every line is made inert and masked there (a server's
    text may carry a key, a line break or an escape sequence)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger("reconciler")
    root.handlers[:] = [LogHandler()]
    root.setLevel(level)
    root.propagate = False


class _Described(Protocol):
    @property
    def help(self) -> str: ...


def described(formats: Mapping[str, _Described]) -> str:
    """The help of `--format`: what each format of a registry of them is."""
    return "; ".join(chosen.help for chosen in formats.values()) + "."


def format_option(formats: Iterable[str], help_text: str | None = None) -> Callable[[F], F]:
    """`--format`, default text, with the formats each command offers (the names of a
    registry of them, in its order)."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(formats)),
        default="text",
        show_default=True,
        help=help_text,
    )


def use_color(no_color: bool = False) -> bool:
    """Colours only on a terminal that shows them (not TERM=dumb), never with --no-color or
    NO_COLOR set (https://no-color.org)."""
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb" and escapes_allowed(no_color)


def escapes_allowed(no_color: bool) -> bool:
    """Whether output may hold escape codes at all (colours, the live line's erase): not
    with --no-color or NO_COLOR, which promise plain text. NO_COLOR counts when it is set
    and not empty, as no-color.org says."""
    return not no_color and not os.environ.get("NO_COLOR")


def _in_ci() -> bool:
    """CI=true (or any value but an empty one, 0 or false): what CI services set."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def live_progress(verbose: int) -> bool:
    """The live progress line (`render.progress`) only where a person watches a terminal:
    stderr is one, not in CI (a runner may give a pseudo-terminal, and its log would keep
    every redraw), not on a dumb terminal, and not with -v, whose log lines would tear it."""
    return sys.stderr.isatty() and not verbose and not _in_ci() and os.environ.get("TERM") != "dumb"


#: `--no-color` of the commands that colour their output.
no_color_option = click.option(
    "--no-color",
    is_flag=True,
    help="Plain text: no colours, and no escape code in the progress line (as NO_COLOR).",
)


class Connection(TypedDict):
    """What the commands that talk to the API take from the connection options."""

    config_path: str | None
    overrides: Overrides
    selection: Selection


def connection_options(func: F) -> F:
    """Options shared by the commands that talk to the API (each overrides
    reconciler.yaml) and the environments to work in; the command receives them as one
    `connection: Connection` argument."""

    @functools.wraps(func)
    def command(
        *args: Any,
        config_path: str | None,
        site: str | None,
        api_url: str | None,
        snapshots_dir: str | None,
        parallelism: int | None,
        page_limit: int | None,
        env_names: tuple[str, ...],
        all_envs: bool,
        **kwargs: Any,
    ) -> Any:
        overrides = Overrides(
            site=site,
            api_url=api_url,
            snapshots=snapshots_dir,
            parallelism=parallelism,
            page_limit=page_limit,
        )
        connection = Connection(
            config_path=config_path,
            overrides=overrides,
            selection=Selection(tuple(env_names), all_envs),
        )
        return func(*args, connection=connection, **kwargs)

    options = [
        click.option("--config", "config_path", type=click.Path(), help="Path of reconciler.yaml."),
        click.option("--site", help="Datadog site, e.g. datadoghq.eu (default: DD_SITE)."),
        click.option("--api-url", help="API base URL; overrides the site (emulator, proxy)."),
        click.option("--snapshots", "snapshots_dir", help="Folder of snapshot files."),
        click.option("--parallelism", type=click.IntRange(1, 64), help="Concurrent requests."),
        click.option("--page-limit", type=click.IntRange(1), help="page[limit] of each listing."),
        click.option(
            "--env",
            "env_names",
            multiple=True,
            metavar="NAME",
            help="Only this environment of reconciler.yaml (repeatable).",
        ),
        click.option(
            "--all-envs", is_flag=True, help="Every environment of reconciler.yaml, concurrently."
        ),
    ]
    decorated: Any = command
    for option in reversed(options):
        decorated = option(decorated)
    return cast(F, decorated)


def timeout_option(func: F) -> F:
    """`--timeout SECONDS`: the run's deadline, which no server can stretch."""
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


def runtime(timeout: float | None = None, *, consistency_window: float | None = None) -> Runtime:
    """The seam handed to `main` (tests: a transport, a clock, a retry policy), else the
    defaults; with the run's deadline `timeout` seconds from now, and an option given on the
    command line in place of its field."""
    # httpx, which nearly doubles the start-up: only the commands that talk to the API get here.
    from reconciler.api.runtime import Runtime

    given = click.get_current_context().find_root().obj
    chosen = given if isinstance(given, Runtime) else Runtime()
    if consistency_window is not None:
        chosen = dataclasses.replace(chosen, consistency_window=consistency_window)
    return chosen.with_timeout(timeout)
