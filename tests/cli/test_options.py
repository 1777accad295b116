"""The options of the commands that talk to the API reach them as typed values: the
settings given (`Overrides`), the environments chosen (`Selection`) and the config path;
and `--format` offers each command the formats of its registry."""

from __future__ import annotations

from typing import Any

import click
import pytest

from reconciler.cli import main as cli
from reconciler.cli.commands import doctor, export, plan
from reconciler.config.environments import Selection
from reconciler.config.settings import Overrides, Settings, load_settings
from reconciler.render.formats import APPLY_FORMATS, PLAN_FORMATS
from reconciler.render.problems import PROBLEM_FORMATS

EVERY_OPTION = [
    "--config",
    "infra/reconciler.yaml",
    "--site",
    "datadoghq.eu",
    "--api-url",
    "http://127.0.0.1:9",
    "--snapshots",
    "desired",
    "--parallelism",
    "3",
    "--page-limit",
    "50",
    "--env",
    "staging",
    "--env",
    "production",
]


def connection_given(
    monkeypatch: pytest.MonkeyPatch, module: Any, argv: list[str]
) -> dict[str, object]:
    """What `reconciler ARGV` hands the command `module.run` of the connection options."""
    received: dict[str, object] = {}

    def run(**arguments: object) -> int:
        received.update(arguments)
        return 0

    monkeypatch.setattr(module, "run", run)
    assert cli.main(argv) == 0
    return {name: received[name] for name in ("config_path", "overrides", "selection")}


@pytest.mark.parametrize(
    ("module", "command"),
    [(plan, ["plan"]), (doctor, ["doctor"]), (export, ["export", "--application-id", "a"])],
)
def test_the_connection_options_arrive_as_typed_values(
    monkeypatch: pytest.MonkeyPatch, module: Any, command: list[str]
) -> None:
    views = ["--view", "/home"] if command[0] == "export" else []
    given = connection_given(monkeypatch, module, [*command, *views, *EVERY_OPTION])
    assert given == {
        "config_path": "infra/reconciler.yaml",
        "overrides": Overrides(
            site="datadoghq.eu",
            api_url="http://127.0.0.1:9",
            snapshots="desired",
            parallelism=3,
            page_limit=50,
        ),
        "selection": Selection(("staging", "production"), all_envs=False),
    }
    none = connection_given(monkeypatch, module, [*command, *views, "--all-envs"])
    assert none == {"config_path": None, "overrides": Overrides(), "selection": Selection((), True)}


def test_every_override_is_a_setting_given_as_an_option() -> None:
    given = Overrides(
        site="datadoghq.eu",
        api_url="http://127.0.0.1:9",
        snapshots="desired",
        prune=False,
        page_limit=50,
        server_page_cap=100,
        parallelism=3,
    )
    settings = load_settings(None, given, {})
    assert settings == Settings(
        site="datadoghq.eu",
        api_url="http://127.0.0.1:9",
        snapshots="desired",
        prune=False,
        page_limit=50,
        server_page_cap=100,
        parallelism=3,
    )
    assert {name: settings.source(name) for name in given.given()} == dict.fromkeys(
        given.given(), "option"
    )


@pytest.mark.parametrize(
    ("command", "formats"),
    [
        ("validate", list(PROBLEM_FORMATS)),
        ("plan", list(PLAN_FORMATS)),
        ("show", list(PLAN_FORMATS)),
        ("apply", list(APPLY_FORMATS)),
    ],
)
def test_format_offers_the_formats_of_the_commands_registry(
    command: str, formats: list[str]
) -> None:
    options = {param.name: param for param in cli.cli.commands[command].params}
    choice = options["output_format"].type
    assert isinstance(choice, click.Choice)
    assert list(choice.choices) == formats
