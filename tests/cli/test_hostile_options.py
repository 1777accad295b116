"""Property: whatever the command line holds (any text for every option and argument of every
command, paths that are folders, devices, too long or not UTF-8), the answer is a usage error
or a one-line message, never an internal error."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.api.runtime import Runtime
from reconciler.cli.main import cli, main
from reconciler.emulator import EmulatorSettings, create_app
from reconciler.emulator.app import emulator_of
from support.cli_runner import Run
from support.factories import APP
from support.hostile_values import BOUNDED, argument_text, assert_handled, environment
from support.workspace import Workspace, snapshot

#: `emulator` serves until stopped: its options are parsed by tests of its own.
COMMANDS = tuple(name for name in cli.commands if name != "emulator")

#: The keys of the runs, and those of the environment `prod` of reconciler.yaml.
KEYS = {
    "DD_API_KEY": "hostile-options-api-key-01234567",
    "DD_APP_KEY": "hostile-options-app-key-0123456789abcdef",
    "DD_API_KEY_PROD": "hostile-options-prod-api-key-012",
    "DD_APP_KEY_PROD": "hostile-options-prod-app-key-0123456789a",
}
#: Files of the repository each run starts in, for values that name one.
_EXISTING = ("snapshots", "snapshots/a.yaml", "saved.plan", "reconciler.yaml", ".", "..")
_NEW = ("new.plan", "new/folder", "out.yaml")
_PATHS = st.sampled_from(_EXISTING + _NEW) | argument_text
#: Values that pass an option's first check, by option name.
_PLAUSIBLE: dict[str, st.SearchStrategy[str]] = {
    "application_id": st.just(APP),
    "views": st.sampled_from(("/v", "/checkout")),
    "site": st.sampled_from(("datadoghq.com", "datadoghq.eu")),
    "api_url": st.sampled_from(("http://127.0.0.1:9", "https://api.datadoghq.com")),
    "targets": st.sampled_from(("view:/v", "*", "app:" + APP, "file:snapshots/a.yaml")),
    "env_names": st.sampled_from(("prod", "staging")),
    "probe_view": st.just("/probe"),
    "base": st.sampled_from(("HEAD", "main")),
}


def _value(param: click.Parameter) -> st.SearchStrategy[str]:
    """Text for one option or argument: a value of its kind, or any text."""
    kind = param.type
    if isinstance(kind, click.Choice):
        typed: st.SearchStrategy[str] = st.sampled_from([str(c) for c in kind.choices])
    elif isinstance(kind, click.types.IntParamType):
        typed = st.integers(-2, 70).map(str)
    elif isinstance(kind, click.types.FloatParamType):
        typed = st.floats(-1, 1e6).map(str)
    elif isinstance(kind, click.Path):
        typed = _PATHS
    else:
        typed = _PLAUSIBLE.get(param.name or "", argument_text)
    return st.one_of(typed, typed, argument_text)


def _option(option: click.Option) -> st.SearchStrategy[list[str]]:
    spelling = st.sampled_from([*option.opts, *option.secondary_opts])
    if option.is_flag or option.count:
        return spelling.map(lambda name: [name])
    return st.tuples(spelling, _value(option)).map(list)


def command_lines(name: str) -> st.SearchStrategy[list[str]]:
    """`[-C DIR] NAME` with some of its options (any order) and its arguments."""
    command = cli.commands[name]
    options = [p for p in command.params if isinstance(p, click.Option)]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    positional = st.tuples(
        *(st.lists(_value(p), min_size=0, max_size=1 if p.nargs == 1 else 3) for p in arguments)
    ).map(lambda lists: [value for values in lists for value in values])
    return st.tuples(
        st.just([]) | st.just([]) | st.tuples(st.sampled_from(("-C", "--chdir")), _PATHS).map(list),
        st.lists(st.sampled_from(options).flatmap(_option), max_size=5),
        positional,
        st.booleans(),
    ).map(
        lambda parts: [
            *parts[0],
            name,
            *(word for given in parts[1] for word in given),
            *(["--"] if parts[3] else []),
            *parts[2],
        ]
    )


command_line = st.sampled_from(COMMANDS).flatmap(command_lines)


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    application = create_app(EmulatorSettings())
    yield application
    emulator_of(application).store.close()


@pytest.fixture(scope="module")
def template(app: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository: a snapshots file, a plan saved from it, no reconciler.yaml."""
    root = tmp_path_factory.mktemp("template")
    (root / "snapshots").mkdir()
    document = {"application_id": APP, "views": {"/v": [snapshot("s")]}}
    (root / "snapshots" / "a.yaml").write_text(json.dumps(document))
    previous = os.getcwd()
    os.chdir(root)
    try:
        with environment(KEYS):
            saved = main(
                ["plan", "--out", "saved.plan", "--api-url", "http://127.0.0.1:9"],
                runtime=Runtime(transport=httpx.ASGITransport(app=app)),
            )
    finally:
        os.chdir(previous)
    assert saved == 0
    return root


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


_ENVIRONMENTS = 'environments: {prod: {api_url: "http://127.0.0.1:9"}}\n'


@BOUNDED
@given(argv=command_line, config=st.sampled_from(("", _ENVIRONMENTS, None)))
def test_no_command_line_makes_an_internal_error(
    app: Any,
    template: Path,
    keys: None,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    config: str | None,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        # Three levels down: `..` and `-C ..` stay inside the test's folder.
        root = Path(folder, "a", "b", "repository")
        shutil.copytree(template, root)
        if config is not None:
            (root / "reconciler.yaml").write_text(config)
        previous = os.getcwd()
        os.chdir(root)
        try:
            capsys.readouterr()
            code = main(argv, runtime=Runtime(transport=httpx.ASGITransport(app=app)))
            out, err = capsys.readouterr()
        finally:
            os.chdir(previous)
    assert_handled(code, out, err)


LONG = "x" * 300  # longer than a file name may be (255 bytes)


@pytest.mark.parametrize(
    ("argv", "code", "out", "err"),
    [
        (
            ["plan", "--config", "."],
            1,
            "",
            "error: config file not found: . is a directory (name the reconciler.yaml in it)\n",
        ),
        (
            ["plan", "--config", LONG],
            1,
            "",
            f"error: cannot read config file {LONG}: File name too long\n",
        ),
        (
            ["validate", "--config", LONG],
            1,
            f"{LONG}:1:1: cannot read config file {LONG}: File name too long\n",
            "",
        ),
        (
            ["-C", "/dev/null", "validate"],
            1,
            "",
            "Usage: reconciler [OPTIONS] COMMAND [ARGS]...\n"
            "Try 'reconciler --help' for help.\n\nError: Invalid value for '-C' / '--chdir':"
            " cannot change to '/dev/null': Not a directory\n",
        ),
        (["init", "/dev/null/x"], 1, "", "error: cannot write in /dev/null/x: Not a directory\n"),
        (["init", LONG], 1, "", f"error: cannot write in {LONG}: File name too long\n"),
        (
            ["export", "--application-id", APP, "--view", "/caf\udce9"],
            1,
            "",
            "Usage: reconciler export [OPTIONS]\nTry 'reconciler export --help' for help.\n\n"
            "Error: Invalid value for '--view': '/caf\\udce9' is not UTF-8 text\n",
        ),
        (
            ["doctor", "--write-probe", "--probe-view", "/caf\udce9"],
            1,
            "",
            "Usage: reconciler doctor [OPTIONS]\nTry 'reconciler doctor --help' for help.\n\n"
            "Error: Invalid value for '--probe-view': '/caf\\udce9' is not UTF-8 text\n",
        ),
        (
            ["show", "/dev/zero"],
            1,
            "",
            "error: /dev/zero: cannot read saved plan: it is a"
            " character device, not a regular file\n",
        ),
        (
            ["apply", "/dev/zero"],
            1,
            "",
            "error: /dev/zero: cannot read saved plan: it is a"
            " character device, not a regular file\n",
        ),
        (
            ["plan", "--api-url", "https://xn--zz"],
            1,
            "",
            "error: invalid api_url 'https://xn--zz': the host is not a valid international"
            " domain name (Invalid A-label)\n",
        ),
        (
            ["plan", "--api-url", "https://999.1.1.1"],
            1,
            "",
            "error: invalid api_url 'https://999.1.1.1': the host is not an IPv4 address\n",
        ),
        # A byte that is not UTF-8, printed on a strict stream (capsys's): escaped, no crash.
        (
            ["validate", "caf\udce9"],
            1,
            "caf\\udce9:1:1: no such file or directory: {cwd}/caf\\udce9\n",
            "",
        ),
    ],
)
def test_what_the_property_found(
    ws: Workspace, run: Run, argv: list[str], code: int, out: str, err: str
) -> None:
    """Each input that made an internal error once (`/dev/zero` as a saved plan: a read
    until memory ran out), now a message naming the fix."""
    ws.write_snapshots({"/v": [snapshot("s")]})
    assert run(*argv) == (code, out.format(cwd=os.getcwd()), err)
