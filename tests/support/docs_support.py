"""Finding `reconciler ...` command lines in documents and checking them against the CLI.

A command line is checked by introspecting the click objects of `reconciler.cli.main.cli`: the
subcommand exists, every option used exists for that subcommand, a value follows each option
that takes one, choices (such as --format values) are valid, and finally click itself
parses the whole line (types, required options and arguments) without running anything.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

import click

from reconciler.cli.main import cli

ROOT_OPTIONS = ("--help", "-h", "--version")
#: click's completion variable for the `reconciler` entry point.
COMPLETE_VAR = "_RECONCILER_COMPLETE"
#: Words that may come before a command in a shell line without being the command.
_PREFIX_WORDS = frozenset({"if", "then", "else", "elif", "while", "until", "do", "!", "time"})
_SEPARATORS = frozenset({";", ";;", "&", "&&", "|", "||", "|&", "(", ")"})


@dataclass(frozen=True)
class CommandLine:
    """One `reconciler` invocation found in a document."""

    where: str  # "file:line" for messages
    args: tuple[str, ...]  # the words after `reconciler`, redirections removed
    comment: str = ""  # a trailing `# ...` comment, if any
    env: tuple[tuple[str, str], ...] = ()  # `NAME=value` words before the command

    def __str__(self) -> str:
        return "reconciler " + shlex.join(self.args)


def join_continuations(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines of shell text with their first line number (1-based): a line ending
    with a backslash continues on the next one."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        yield start, " ".join(part.strip() for part in pending)
        pending = []
    if pending:
        yield start, " ".join(part.strip() for part in pending)


def split_comment(line: str) -> tuple[str, str]:
    """The line without a trailing shell comment, and the comment's text."""
    # A `#` that starts a word outside quotes.
    in_single = in_double = False
    previous = " "
    for index, char in enumerate(line):
        if char == "'" and not in_double:
            in_single = not in_single
        elif char == '"' and not in_single and previous != "\\":
            in_double = not in_double
        elif char == "#" and not in_single and not in_double and previous.isspace():
            return line[:index].rstrip(), line[index + 1 :].strip()
        previous = char
    return line, ""


def simple_commands(line: str) -> Iterator[list[str]]:
    """The simple commands of one shell line, split at ; && || | & ( ), with their
    redirections (`> file`, `2>&1`, `< file`) removed."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    tokens = list(lexer)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in _SEPARATORS:
            if words:
                yield words
            words = []
        elif token and token[0] in "<>":
            if words and words[-1].isdigit():
                words.pop()  # the file descriptor of 2> / 2>&
            index += 1  # skip the redirection's target
        else:
            words.append(token)
        index += 1
    if words:
        yield words


def find_in_shell(text: str, where: str, first_line: int = 1) -> Iterator[CommandLine]:
    """Every `reconciler` invocation in shell text (a `run:` or `script:` block)."""
    for number, logical in join_continuations(text):
        code, comment = split_comment(logical)
        if code.lstrip().startswith("$ "):
            code = code.lstrip()[2:]
        for words in simple_commands(code):
            env: list[tuple[str, str]] = []
            while words and (words[0] in _PREFIX_WORDS or _is_assignment(words[0])):
                if _is_assignment(words[0]):
                    name, _, value = words[0].partition("=")
                    env.append((name, value))
                words = words[1:]
            if words and words[0] == "reconciler":
                where_line = f"{where}:{first_line + number - 1}"
                yield CommandLine(where_line, tuple(words[1:]), comment, tuple(env))


def _is_assignment(word: str) -> bool:
    name, equals, _ = word.partition("=")
    return bool(equals) and name.isidentifier()


def check(command: CommandLine) -> list[str]:
    """Problems with one command line; an empty list when the CLI accepts it."""
    args = list(command.args)
    if COMPLETE_VAR in dict(command.env):
        return []  # shell completion: click's own, checked by running it
    if not args:
        return [f"{command.where}: `reconciler` without a subcommand"]
    if args[0].startswith("-"):
        if args[0] in ROOT_OPTIONS:
            return []
        return [f"{command.where}: `{command}`: unknown option {args[0]} of reconciler"]
    name, rest = args[0], args[1:]
    sub = cli.commands.get(name)
    if sub is None:
        known = ", ".join(sorted(cli.commands))
        return [f"{command.where}: `{command}`: no subcommand {name!r} (known: {known})"]
    problems = [f"{command.where}: `{command}`: {p}" for p in _check_options(sub, rest)]
    if problems or any(word in ("--help", "-h") for word in rest):
        return problems
    try:
        sub.make_context(name, list(rest), parent=click.Context(cli, info_name="reconciler"))
    except click.ClickException as exc:
        problems.append(f"{command.where}: `{command}`: click refuses it: {exc.format_message()}")
    return problems


def options_of(command: click.Command) -> dict[str, click.Option]:
    """Every option spelling of a command (its --help too) and the option it belongs to."""
    found: dict[str, click.Option] = {}
    for param in command.get_params(click.Context(command)):
        if isinstance(param, click.Option):
            for spelling in (*param.opts, *param.secondary_opts):
                found[spelling] = param
    return found


def _check_options(command: click.Command, words: list[str]) -> Iterator[str]:
    options = options_of(command)
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            return
        if not word.startswith("-") or word == "-":
            continue
        spelling, equals, inline = word.partition("=")
        option = options.get(spelling)
        if option is None and not spelling.startswith("--") and len(spelling) > 2:
            option = options.get(spelling[:2])  # -vv: a repeated short flag
            if option is not None and not (option.count or option.is_flag):
                equals, inline = "=", spelling[2:]
        if option is None:
            yield f"no option {spelling} for `reconciler {command.name}`"
            continue
        if option.is_flag or option.count:
            continue
        if equals:
            value = inline
        elif index < len(words):
            value = words[index]
            index += 1
        else:
            yield f"option {spelling} needs a value"
            continue
        if isinstance(option.type, click.Choice) and value not in option.type.choices:
            choices = "|".join(map(str, option.type.choices))
            yield f"{value!r} is not a valid value of {spelling} ({choices})"


#: Languages of fenced blocks that hold shell commands.
SHELL_LANGUAGES = frozenset({"", "sh", "bash", "shell", "console", "zsh"})


@dataclass(frozen=True)
class Block:
    """A fenced code block of a markdown page."""

    page: str  # the page's path, for messages
    language: str
    first_line: int  # line number of the block's first content line
    text: str
    marker: str  # an HTML comment on the line before the block (`<!-- name -->`), or ""


def blocks(text: str, page: str) -> list[Block]:
    """The fenced code blocks of a markdown text, each with the marker comment before it."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = re.match(r"^(```+)\s*([\w-]*)", lines[index])
        if not match:
            index += 1
            continue
        fence, language = match.groups()
        previous = next((line for line in reversed(lines[:index]) if line.strip()), "").strip()
        marker = previous if previous.startswith("<!--") and previous.endswith("-->") else ""
        end = index + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        found.append(Block(page, language, index + 2, "\n".join(lines[index + 1 : end]), marker))
        index = end + 1
    return found
