"""reconciler.yaml and the environment: precedence, validation with positions, no credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.settings import Overrides, Settings, load_settings
from reconciler.core.errors import InvalidInput, UsageProblem


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems_of(config: str, cwd: Path) -> list[str]:
    (cwd / "reconciler.yaml").write_text(config)
    with pytest.raises(InvalidInput) as caught:
        load_settings(None, Overrides(), {})
    return [str(problem) for problem in caught.value.problems]


def test_defaults_without_a_file(cwd: Path) -> None:
    assert load_settings(None, Overrides(), {}) == Settings()


def test_file_values_and_safety_are_flattened(cwd: Path) -> None:
    (cwd / "reconciler.yaml").write_text(
        "site: datadoghq.eu\napi_url: http://127.0.0.1:8126\nsnapshots: desired\nprune: false\n"
        "page_limit: 500\nparallelism: 8\n"
        "safety: {max_delete_fraction: 0.5, max_update_fraction: 1, min_existing: 3}\n"
        "ignore: ['manual-*', 'keep']\n"
    )
    assert load_settings(None, Overrides(), {}) == Settings(
        site="datadoghq.eu",
        api_url="http://127.0.0.1:8126",
        snapshots="desired",
        prune=False,
        page_limit=500,
        parallelism=8,
        max_delete_fraction=0.5,
        max_update_fraction=1.0,
        min_existing=3,
        ignore=("manual-*", "keep"),
        config_path="reconciler.yaml",
    )


def test_precedence_option_over_env_over_file_over_default(cwd: Path) -> None:
    (cwd / "reconciler.yaml").write_text("site: file.example\npage_limit: 10\nparallelism: 2\n")
    env = {"DD_SITE": "env.example", "RECONCILER_PAGE_LIMIT": "20"}
    settings = load_settings(None, Overrides(site="option.example", parallelism=None), env)
    assert settings.site == "option.example"  # option beats env and file
    assert settings.page_limit == 20  # env beats file
    assert settings.parallelism == 2  # file beats default; None means "option not given"
    assert settings.prune is True  # default


def test_environment_variables(cwd: Path) -> None:
    env = {
        "DD_SITE": "us5.datadoghq.com",
        "RECONCILER_API_URL": "https://proxy.example",
        "RECONCILER_SNAPSHOTS": "desired",
        "RECONCILER_PRUNE": "0",
        "RECONCILER_PAGE_LIMIT": "100",
        "RECONCILER_PARALLELISM": "16",
        "DD_API_KEY": "never-a-setting",
    }
    assert load_settings(None, Overrides(), env) == Settings(
        site="us5.datadoghq.com",
        api_url="https://proxy.example",
        snapshots="desired",
        prune=False,
        page_limit=100,
        parallelism=16,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RECONCILER_PRUNE", "maybe", "RECONCILER_PRUNE must be true or false, got 'maybe'"),
        (
            "RECONCILER_PAGE_LIMIT",
            "ten",
            "RECONCILER_PAGE_LIMIT must be an integer (at least 1), got 'ten'",
        ),
        (
            "RECONCILER_PARALLELISM",
            "0",
            "RECONCILER_PARALLELISM must be an integer from 1 to 64, got '0'",
        ),
        (
            "RECONCILER_API_URL",
            "localhost:8126",
            "RECONCILER_API_URL must be an http:// or https:// URL, got 'localhost:8126'",
        ),
    ],
)
def test_bad_environment_names_the_variable(
    cwd: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(UsageProblem) as caught:
        load_settings(None, Overrides(), {variable: value})
    assert str(caught.value) == message


def test_explicit_config_path(cwd: Path) -> None:
    (cwd / "other.yaml").write_text("prune: false\n")
    assert load_settings("other.yaml", Overrides(), {}).prune is False
    with pytest.raises(UsageProblem, match=r"config file not found: missing\.yaml"):
        load_settings("missing.yaml", Overrides(), {})


def test_empty_config_file_sets_nothing(cwd: Path) -> None:
    (cwd / "reconciler.yaml").write_text("# nothing configured\n")
    assert load_settings(None, Overrides(), {}) == Settings(config_path="reconciler.yaml")


def test_validation_errors_have_positions(cwd: Path) -> None:
    assert problems_of(
        "site: 5\nprune: maybe\npage_limit: 0\nparallelism: 65\n"
        "safety:\n  max_delete_fraction: 1.5\n  min_exisitng: 3\nignore: [a, '']\n"
        "api_url: ftp://x\nsnapshot: desired\n",
        cwd,
    ) == [
        "reconciler.yaml:1:7: 'site' must be a string, got 5 (quote it to make it a string)",
        "reconciler.yaml:2:8: 'prune' must be true or false, got 'maybe'",
        "reconciler.yaml:3:13: 'page_limit' must be at least 1, got 0",
        "reconciler.yaml:4:14: 'parallelism' must be at most 64, got 65",
        "reconciler.yaml:6:24: 'safety.max_delete_fraction' must be at most 1, got 1.5",
        "reconciler.yaml:7:3: unknown field 'min_exisitng' (did you mean 'min_existing'?)",
        "reconciler.yaml:8:13: item 2 of 'ignore' must not be empty",
        "reconciler.yaml:9:10: 'api_url' must be an http:// or https:// URL, got 'ftp://x'",
        "reconciler.yaml:10:1: unknown field 'snapshot' (did you mean 'snapshots'?)",
    ]


@pytest.mark.parametrize("key", ["api_key", "app_key", "DD_APP_KEY", "application_key"])
def test_credentials_are_rejected_without_echoing_them(cwd: Path, key: str) -> None:
    problems = problems_of(f"site: datadoghq.com\n{key}: s3cr3t-value\n", cwd)
    assert problems == [
        f"reconciler.yaml:2:1: credentials are never read from reconciler.yaml: remove '{key}';"
        " keys come only from environment variables (DD_API_KEY / DD_APP_KEY, or those an"
        " environment names in api_key_env / app_key_env)"
    ]
    assert "s3cr3t" not in "".join(problems)


def test_config_syntax_error_and_non_mapping(cwd: Path) -> None:
    assert problems_of("site: [\n", cwd) == [
        "reconciler.yaml:2:1: YAML syntax error: did not find expected node content"
    ]
    assert problems_of("- site\n", cwd) == [
        "reconciler.yaml:1:1: reconciler.yaml must be a mapping of settings, got a list"
    ]


def test_validate_command_checks_config_given_as_path(cwd: Path, run: object) -> None:
    from support.cli_runner import Run

    assert isinstance(run, Run)
    (cwd / "reconciler.yaml").write_text("api_key: x\n")
    code, out, _ = run("validate", "reconciler.yaml")
    assert code == 1
    assert out.startswith("reconciler.yaml:1:1: credentials are never read from reconciler.yaml")


def test_a_folder_outside_is_reported_in_a_file_with_other_problems(cwd: Path) -> None:
    """The valid settings of a half-broken file are still read: 'snapshots' among them, and
    a folder outside the file's folder is a problem at its place."""
    assert problems_of("snapshots: ../elsewhere\nprune: maybe\n", cwd) == [
        "reconciler.yaml:1:12: 'snapshots' must be a folder inside the folder of"
        " reconciler.yaml, got '../elsewhere' (for a folder elsewhere use --snapshots or"
        " RECONCILER_SNAPSHOTS)",
        "reconciler.yaml:2:8: 'prune' must be true or false, got 'maybe'",
    ]
