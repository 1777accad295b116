"""The offline rules of environments: settings per environment, selection, aliases and
files limited to environments. In-process and without a server: none is needed before the
first request, and none may be contacted when these rules refuse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.config.environments import Selection, select
from reconciler.config.settings import Overrides
from reconciler.core.errors import InvalidInput, UsageProblem
from reconciler.core.model import Problem
from reconciler.desired.load import load_report
from reconciler.desired.placement import for_environment, without_environments

STAGING = "11111111-1111-4111-8111-111111111111"
PRODUCTION = "22222222-2222-4222-8222-222222222222"

CONFIG = f"""parallelism: 8
safety: {{max_delete_fraction: 0.5}}
environments:
  staging:
    api_url: http://127.0.0.1:9001
    parallelism: 2
    prune: false
    applications: {{storefront: {STAGING}}}
  production:
    site: datadoghq.eu
    safety: {{max_delete_fraction: 0.1}}
    applications: {{storefront: {PRODUCTION}}}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    previous = os.getcwd()
    os.chdir(tmp_path)
    (tmp_path / "reconciler.yaml").write_text(CONFIG)
    (tmp_path / "snapshots").mkdir()
    try:
        yield tmp_path
    finally:
        os.chdir(previous)


def chosen(*names: str, all_envs: bool = False, **overrides: object) -> dict[str, object]:
    environments = select(None, Overrides(**overrides), {}, Selection(names, all_envs))
    assert environments is not None
    return {e.name: e for e in environments}


def test_each_environment_layers_its_section_over_the_top_level(repo: Path) -> None:
    envs = chosen(all_envs=True)
    staging, production = envs["staging"], envs["production"]
    assert list(envs) == ["staging", "production"]  # in the file's order
    assert (staging.settings.parallelism, staging.settings.prune) == (2, False)  # type: ignore[attr-defined]
    assert staging.settings.max_delete_fraction == 0.5  # type: ignore[attr-defined]
    assert (production.settings.parallelism, production.settings.prune) == (8, True)  # type: ignore[attr-defined]
    assert production.settings.max_delete_fraction == 0.1  # type: ignore[attr-defined]
    assert staging.settings.api_url == "http://127.0.0.1:9001"  # type: ignore[attr-defined]
    assert (production.settings.site, production.settings.api_url) == ("datadoghq.eu", None)  # type: ignore[attr-defined]
    assert (staging.api_key_env, staging.app_key_env) == (  # type: ignore[attr-defined]
        "DD_API_KEY_STAGING",
        "DD_APP_KEY_STAGING",
    )
    # a command-line option still wins, in every environment
    assert chosen("staging", parallelism=16)["staging"].settings.parallelism == 16  # type: ignore[attr-defined]


def test_the_target_variables_of_the_environment_are_not_read_with_environments(
    repo: Path,
) -> None:
    environ = {"DD_SITE": "datadoghq.com", "RECONCILER_API_URL": "http://127.0.0.1:1"}
    [production] = select(None, Overrides(), environ, Selection(("production",))) or ()
    assert (production.settings.site, production.settings.api_url) == ("datadoghq.eu", None)


def test_a_command_line_target_needs_a_single_environment(repo: Path) -> None:
    assert chosen("production", site="datadoghq.com")["production"].settings.site == (  # type: ignore[attr-defined]
        "datadoghq.com"
    )
    with pytest.raises(UsageProblem, match="--site and --api-url apply to one environment"):
        chosen(all_envs=True, api_url="http://127.0.0.1:2")


@pytest.mark.parametrize(
    ("names", "all_envs", "message"),
    [
        ((), False, "choose with --env NAME or --all-envs"),
        (("prod",), False, "unknown environment 'prod'"),
        (("staging",), True, "--env and --all-envs cannot be combined"),
    ],
)
def test_a_selection_that_cannot_be_made_is_a_usage_problem(
    repo: Path, names: tuple[str, ...], all_envs: bool, message: str
) -> None:
    with pytest.raises(UsageProblem, match=message):
        select(None, Overrides(), {}, Selection(names, all_envs))


def test_without_environments_nothing_changes_and_env_options_are_refused(repo: Path) -> None:
    (repo / "reconciler.yaml").write_text("parallelism: 3\n")
    assert select(None, Overrides(), {}, Selection()) is None
    with pytest.raises(UsageProblem, match=r"need `environments:` in reconciler\.yaml"):
        select(None, Overrides(), {}, Selection(("staging",)))


def config_problem(repo: Path, old: str, new: str) -> Problem:
    """The one problem of CONFIG with `old` replaced by `new`, selecting staging."""
    (repo / "reconciler.yaml").write_text(CONFIG.replace(old, new))
    with pytest.raises(InvalidInput) as caught:
        select(None, Overrides(), {}, Selection(("staging",)))
    [problem] = caught.value.problems
    return problem


def test_an_environment_api_url_passes_the_target_policy_at_its_place(repo: Path) -> None:
    problem = config_problem(
        repo, "api_url: http://127.0.0.1:9001", "api_url: https://attacker.example"
    )
    assert (problem.path, problem.line, problem.col) == ("reconciler.yaml", 5, 14)
    assert "attacker.example" in problem.message


def write(repo: Path, name: str, text: str) -> None:
    (repo / "snapshots" / name).write_text(text)


def loaded(repo: Path) -> tuple[object, list[str]]:
    report = load_report(["snapshots"], root=repo)
    return report, [str(p) for p in report.problems]


def test_files_limited_to_different_environments_may_manage_the_same_view(repo: Path) -> None:
    write(repo, "a.yaml", "application: storefront\nenvironments: [staging]\nviews: {/home: []}\n")
    write(
        repo, "b.yaml", "application: storefront\nenvironments: [production]\nviews: {/home: []}\n"
    )
    report = load_report(["snapshots"], root=repo)
    assert report.problems == []
    staging, problems = for_environment(
        report.state, report.placed, "staging", {"storefront": STAGING}
    )
    assert problems == []
    assert [(v.scope.application_id, v.position.path) for v in staging.views] == [
        (STAGING, "snapshots/a.yaml")
    ]


def test_one_view_managed_twice_in_an_environment_is_a_problem_there(repo: Path) -> None:
    write(repo, "a.yaml", "application: storefront\nviews: {/home: []}\n")
    write(
        repo,
        "b.yaml",
        f"application_id: {STAGING}\nenvironments: [staging]\nviews: {{/home: []}}\n",
    )
    report = load_report(["snapshots"], root=repo)
    assert report.problems == []
    _, staging = for_environment(report.state, report.placed, "staging", {"storefront": STAGING})
    _, production = for_environment(
        report.state, report.placed, "production", {"storefront": PRODUCTION}
    )
    assert [str(p) for p in staging] == [
        f"snapshots/b.yaml:3:9: view '/home' of application {STAGING} is managed in two files "
        "in environment 'staging' (first declared at snapshots/a.yaml:2:9)"
    ]
    assert production == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"application_id: {STAGING}\napplication: storefront\nviews: {{}}\n",
            "snapshots/x.yaml:2:1: 'application_id' and 'application' cannot both be given: "
            "use one",
        ),
        ("views: {}\n", "snapshots/x.yaml:1:1: missing required field 'application_id'"),
        (
            "applications: storefront\nviews: {}\n",
            "snapshots/x.yaml:1:1: unknown field 'applications' (did you mean 'application'?)",
        ),
        (
            "application: storefront\nenvironments: []\nviews: {}\n",
            "snapshots/x.yaml:2:15: 'environments' must name at least one environment",
        ),
        (
            "application: storefront\nenvironments: [a, a]\nviews: {}\n",
            "snapshots/x.yaml:2:15: 'environments' names an environment twice",
        ),
    ],
    ids=["both", "neither", "misspelled", "empty-environments", "repeated-environment"],
)
def test_a_file_names_its_application_exactly_once(repo: Path, text: str, message: str) -> None:
    write(repo, "x.yaml", text)
    _, problems = loaded(repo)
    assert problems == [message]


def test_an_alias_without_environments_is_a_problem_naming_what_to_add(repo: Path) -> None:
    (repo / "reconciler.yaml").write_text("")
    write(repo, "x.yaml", "application: storefront\nenvironments: [staging]\nviews: {}\n")
    report = load_report(["snapshots"], root=repo)
    assert [str(p) for p in without_environments(report.placed)] == [
        "snapshots/x.yaml:1:14: application alias 'storefront' needs `environments:` with "
        "`applications:` in reconciler.yaml; or write application_id",
        "snapshots/x.yaml:2:15: 'environments' needs `environments:` in reconciler.yaml",
    ]


def test_two_environments_may_not_read_a_key_from_one_variable(repo: Path) -> None:
    (repo / "reconciler.yaml").write_text(
        CONFIG.replace(
            "    prune: false\n", "    prune: false\n    api_key_env: DD_API_KEY_PRODUCTION\n"
        )
    )
    with pytest.raises(UsageProblem) as caught:
        select(None, Overrides(), {}, Selection(("staging",)))
    assert str(caught.value) == (
        "environments 'staging' and 'production' read a key from the same variable "
        "DD_API_KEY_PRODUCTION: give each environment its own (api_key_env, app_key_env)"
    )


def test_a_key_variable_must_be_a_datadog_one(repo: Path) -> None:
    problem = config_problem(
        repo, "    prune: false\n", "    prune: false\n    api_key_env: AWS_SECRET\n"
    )
    assert (problem.line, problem.col) == (8, 18)
    assert "'environments.staging.api_key_env'" in problem.message


def test_an_unknown_site_of_an_environment_names_the_environment(repo: Path) -> None:
    from reconciler.plan.engine import prepare_all

    (repo / "reconciler.yaml").write_text(
        CONFIG.replace("site: datadoghq.eu", "site: datadoghq.xx")
    )
    write(repo, "a.yaml", "application: storefront\nviews: {/home: []}\n")
    with pytest.raises(UsageProblem) as caught:
        prepare_all(None, Overrides(), selection=Selection(("production",)))
    assert str(caught.value).startswith(
        "environment 'production': unknown Datadog site 'datadoghq.xx'"
    )


def test_a_bad_environment_name_is_named_with_what_it_must_match(repo: Path) -> None:
    problem = config_problem(repo, "  staging:\n", '  "bad name!":\n')
    assert (problem.line, problem.col, problem.message) == (
        4,
        3,
        "'environments.bad name!' must be matching ^[A-Za-z][A-Za-z0-9_-]{0,62}$, got 'bad name!'",
    )
