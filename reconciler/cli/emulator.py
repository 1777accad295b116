"""The `emulator` command: runs the local Datadog API emulator, each unknown behaviour of the
API an option (registered on the group by `reconciler.cli.main`).

The options of the settings that may change while it runs are made from the emulator's own
table of them (`EmulatorSettings`: default, type, help), so that the command line, the
config endpoint and the checks of values never disagree. They are made on first use: the
emulator (Starlette, the HTTP stack) is imported only when `emulator` runs or shows its
help, never by the offline commands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import fields
from typing import Any, Final, get_type_hints

import click

from reconciler.cli.options import configure_logging, verbose_option
from reconciler.core.errors import UsageProblem

#: The packages of the `emulator` extra (pyproject.toml), and how to install it: the package
#: is not published, so from a clone (docs/getting-started.md).
_EXTRA: Final = ("starlette", "uvicorn")
_INSTALL_THE_EXTRA: Final = (
    "the emulator needs the emulator extra (Starlette and uvicorn), which is not installed:"
    " in a clone of heatmap-reconciler, run pip install -c constraints/dev.txt '.[emulator]'"
)


@contextlib.contextmanager
def _with_the_extra() -> Iterator[None]:
    """Imports of the emulator, whose missing extra is a message saying how to install it."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in _EXTRA:
            raise
        raise UsageProblem(_INSTALL_THE_EXTRA) from None


def _live_options() -> list[click.Parameter]:
    """`--NAME` (dashed) for each live setting, shaped by its type and default."""
    # The emulator's package imports Starlette (most of a start-up again): only for emulator.
    with _with_the_extra():
        from reconciler.emulator.settings import CHOICES, HELP, EmulatorSettings

    types = get_type_hints(EmulatorSettings)
    defaults = {setting.name: setting.default for setting in fields(EmulatorSettings)}
    aliases = {"page_limit_max": ("--page-cap",)}  # the docs' spelling
    options: list[click.Parameter] = []
    for name, help_text in HELP.items():
        hint, default = types[name], defaults[name]
        shape: dict[str, Any]
        if hint is bool:
            shape = {"is_flag": True}
        elif name == "sparse_items":  # a tuple of names: comma-separated here
            help_text = help_text.rstrip(".") + ", comma-separated (e.g. start,application_id)."
            shape = {"default": "", "metavar": "FIELDS"}
        elif name in CHOICES:
            shape = {"type": click.Choice(CHOICES[name]), "default": default, "show_default": True}
        else:
            kind = float if hint is float else int
            shape = {"type": kind, "default": default, "show_default": default is not None}
        spellings = [f"--{name.replace('_', '-')}", *aliases.get(name, ()), name]
        options.append(click.Option(spellings, help=help_text, **shape))
    return options


class _EmulatorCommand(click.Command):
    """Adds the options of the live settings, before `--verbose`, when first asked for its
    parameters (to parse, complete or show help)."""

    _live_added = False

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if not self._live_added:
            at = next(i for i, param in enumerate(self.params) if param.name == "verbose")
            self.params[at:at] = _live_options()
            self._live_added = True
        return super().get_params(ctx)


def _not_empty(ctx: click.Context, param: click.Parameter, value: str) -> str:
    # The socket layer reads an empty host as every interface: never by accident.
    if not value:
        raise click.BadParameter("must not be empty (0.0.0.0 listens on every interface)")
    return value


@click.command(cls=_EmulatorCommand)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=_not_empty,
    help="Address to listen on (IPv4 or IPv6).",
)
@click.option(
    "--port",
    default=8126,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: a free one).",
)
@click.option("--db", "db_path", default=":memory:", show_default=True, help="SQLite file.")
@click.option("--api-key", default=None, help="Accept only this API key (with --app-key).")
@click.option("--app-key", default=None, help="Accept only this application key.")
@click.option(
    "--seed",
    "seed_file",
    default=None,
    metavar="FILE",
    help="Start holding the snapshots of FILE (JSON Lines: one object of attributes a line).",
)
@click.option("--demo", is_flag=True, help="Start holding a small demo org (the docs' examples).")
@click.option("--fault-seed", default=None, type=int, help="Seed of the fault injection.")
@verbose_option
def emulator(sparse_items: str, verbose: int, **options: Any) -> int:
    """Run the local Datadog API emulator (heatmap snapshot endpoints only).

    Any non-empty DD-API-KEY / DD-APPLICATION-KEY pair is accepted, unless --api-key and
    --app-key name the only pair accepted (others: 403). --seed and --demo need an empty
    database.
    """
    # Starlette and uvicorn, most of a start-up again: imported only when emulator runs.
    with _with_the_extra():
        from reconciler.cli.commands import emulator as command

    configure_logging(verbose)
    names = tuple(name.strip() for name in sparse_items.split(",") if name.strip())
    return command.run(sparse_items=names, **options)
