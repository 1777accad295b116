"""The `emulator` command: runs the local Datadog API emulator, each unknown behaviour of the
API an option (registered on the group by `reconciler.cli`).

The options of the settings that may change while it runs are made from the emulator's own
table of them (`EmulatorSettings`: default, type, help), so that the command line, the
config endpoint and the checks of values never disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, Final, TypeVar, get_type_hints

import click

from reconciler.cli_options import configure_logging, verbose_option
from reconciler.emulator.settings import CHOICES, HELP, EmulatorSettings

F = TypeVar("F", bound=Callable[..., Any])

#: Other spellings of an option (the README's `--page-cap`).
_ALIASES: Final = {"page_limit_max": ("--page-cap",)}
_DEFAULTS: Final = {setting.name: setting.default for setting in fields(EmulatorSettings)}
_TYPES: Final = get_type_hints(EmulatorSettings)


def _live_option(name: str) -> Callable[[F], F]:
    """`--NAME` (dashed) for the live setting `name`, shaped by its type and default."""
    hint, default = _TYPES[name], _DEFAULTS[name]
    spellings = (f"--{name.replace('_', '-')}", *_ALIASES.get(name, ()), name)
    if hint is bool:
        return click.option(*spellings, is_flag=True, help=HELP[name])
    if name == "sparse_items":  # a tuple of names: comma-separated on the command line
        described = HELP[name].rstrip(".") + ", comma-separated (e.g. start,application_id)."
        return click.option(*spellings, default="", metavar="FIELDS", help=described)
    if name in CHOICES:
        shape: dict[str, Any] = {"type": click.Choice(CHOICES[name]), "show_default": True}
    else:
        shape = {"type": float if hint is float else int, "show_default": default is not None}
    return click.option(*spellings, default=default, help=HELP[name], **shape)


def _live_options(command: F) -> F:
    """An option per live setting, in the emulator's order."""
    for name in reversed(HELP):
        command = _live_option(name)(command)
    return command


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8126, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", "db_path", default=":memory:", show_default=True, help="SQLite file.")
@click.option("--api-key", default=None, help="Accept only this API key (with --app-key).")
@click.option("--app-key", default=None, help="Accept only this application key.")
@click.option("--seed", default=None, type=int, help="Seed of the fault injection.")
@_live_options
@verbose_option
def emulator(sparse_items: str, verbose: int, **options: Any) -> int:
    """Run the local Datadog API emulator (heatmap snapshot endpoints only).

    Any non-empty DD-API-KEY / DD-APPLICATION-KEY pair is accepted, unless --api-key and
    --app-key name the only pair accepted (others: 403).
    """
    from reconciler.commands import emulator as command

    configure_logging(verbose)
    names = tuple(name.strip() for name in sparse_items.split(",") if name.strip())
    return command.run(sparse_items=names, **options)
