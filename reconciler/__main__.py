"""The `reconciler` command (and `python -m reconciler`): a fast start for the offline lines
people run most, then `reconciler.cli.main` for everything else.

`reconciler --version` and plain `reconciler validate [--format F] [--config C] [PATH...]`
(pre-commit runs it on every commit) start here without importing click, logging or the
HTTP stack: importing those costs several times the interpreter's own start. Any other
command line, or a validate line not recognised exactly as one of those forms, goes to
`reconciler.cli.main.main` unchanged, which parses it with click as always. Both routes call the
same command function and print the same bytes; `tests/desired/test_desired_startup.py`
compares them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

#: The `--format` choices of `reconciler.cli.main.validate` (the test compares them).
VALIDATE_FORMATS = ("text", "github", "json")
#: The validate options read here; any other option goes to click.
_VALIDATE_OPTIONS = ("--format", "--config")
#: click's shell-completion switch for the program name "reconciler".
_COMPLETION_VAR = "_RECONCILER_COMPLETE"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: `sys.argv[1:]`); returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not os.environ.get(_COMPLETION_VAR):
        if args == ["--version"] and _print_version():
            return 0
        options = validate_options(args)
        if options is not None:
            return _validate(*options)
    from reconciler.cli.main import main as cli_main

    return cli_main(args)


def _print_version() -> bool:
    """What click's `--version` prints; False (nothing printed) when stdout cannot take it,
    so that click fails there and reports it as it always did."""
    from reconciler import __version__

    stream = sys.stdout
    if stream is None:
        return False
    try:
        stream.write(f"reconciler, version {__version__}\n")
        stream.flush()
    except (OSError, ValueError):
        return False
    return True


def validate_options(args: Sequence[str]) -> tuple[list[str], str, str | None] | None:
    """(paths, format, config path) of `validate` with only those options, each at most
    once, with values click would accept as they are; None for anything else."""
    if not args or args[0] != "validate":
        return None
    paths: list[str] = []
    given: dict[str, str] = {}
    rest = list(args[1:])
    while rest:
        token = rest.pop(0)
        if not token.startswith("-"):
            if not _path_accepted(token):
                return None
            paths.append(token)
            continue
        name, equals, value = token.partition("=")
        if name not in _VALIDATE_OPTIONS or name in given:
            return None
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        if value.startswith("-"):
            return None
        if name == "--format" and value not in VALIDATE_FORMATS:
            return None
        if name == "--config" and not _path_accepted(value):
            return None
        given[name] = value
    return paths, given.get("--format", "text"), given.get("--config")


def _path_accepted(value: str) -> bool:
    """Whether click.Path() takes `value` as it is: missing, or there and readable."""
    if not value:
        return False
    try:
        os.stat(value)
    except OSError:
        return True
    except ValueError:
        return False
    return os.access(value, os.R_OK)


def _validate(paths: list[str], output_format: str, config_path: str | None) -> int:
    """`reconciler.cli.main.validate` without click: the same command, the same outcomes."""
    from reconciler.cli.outcomes import guarded

    def run() -> int:
        from reconciler.cli.commands import validate as command

        return command.run(paths=paths, output_format=output_format, config_path=config_path)

    previous = os.getcwd()
    try:
        return guarded(run)
    finally:
        os.chdir(previous)


if __name__ == "__main__":
    sys.exit(main())
