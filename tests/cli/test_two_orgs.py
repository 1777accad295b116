"""Acceptance (issue 15): one repository, two Datadog orgs. Two real emulator processes on
two ports stand for staging and production; every command runs as a real process, as users
and CI run it. Each emulator records a digest of every key it received, so "a key is never
sent to another environment's host" is checked on what the servers saw."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.stats import key_digest
from support.processes import clean_env, reconciler, running_emulator

#: Real processes (the CLI, the emulator): run by `make test-slow`, not `make test`.
pytestmark = pytest.mark.slow

STAGING_APP = "11111111-1111-4111-8111-111111111111"
PRODUCTION_APP = "22222222-2222-4222-8222-222222222222"
CHECKOUT_APP = "33333333-3333-4333-8333-333333333333"
KEYS = {
    "staging": ("canary-staging-api-0123456789abc", "canary-staging-app-0123456789abcdef01234"),
    "production": ("canary-production-api-98765fedc0", "canary-production-app-98765fedcba9876543"),
}


@pytest.fixture(scope="module")
def orgs() -> Iterator[dict[str, str]]:
    with running_emulator() as staging, running_emulator() as production:
        yield {"staging": staging, "production": production}


@pytest.fixture
def repo(tmp_path: Path, orgs: dict[str, str]) -> Path:
    for url in orgs.values():
        httpx.post(f"{url}/_emulator/reset").raise_for_status()
    (tmp_path / "reconciler.yaml").write_text(
        f"""environments:
  staging:
    api_url: {orgs["staging"]}
    applications:
      storefront: {STAGING_APP}
      checkout: {CHECKOUT_APP}
  production:
    api_url: {orgs["production"]}
    api_key_env: DD_PROD_API_KEY
    app_key_env: DD_PROD_APP_KEY
    applications:
      storefront: {PRODUCTION_APP}
"""
    )
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    (snapshots / "storefront.yaml").write_text(
        """application: storefront
views:
  /home:
    - {snapshot_name: hero, device_type: desktop, event_id: e1, start: 0}
    - {snapshot_name: fold, device_type: mobile, event_id: e2, start: 1500}
"""
    )
    (snapshots / "checkout.yaml").write_text(
        """application: checkout
environments: [staging]
views:
  /pay:
    - {snapshot_name: form, device_type: desktop, event_id: e3, start: 0}
"""
    )
    return tmp_path


def env_with_keys(*names: str) -> dict[str, str]:
    env = clean_env()
    variables = {
        "staging": ("DD_API_KEY_STAGING", "DD_APP_KEY_STAGING"),
        "production": ("DD_PROD_API_KEY", "DD_PROD_APP_KEY"),
    }
    for name in names:
        api, app = variables[name]
        env[api], env[app] = KEYS[name]
    return env


def remote(url: str) -> list[tuple[str, str, str]]:
    data = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
    return sorted(
        (a["application_id"], a["view_name"], a["snapshot_name"])
        for a in (item["attributes"] for item in data)
    )


def keys_seen(url: str) -> set[str]:
    return set(httpx.get(f"{url}/_emulator/stats").json()["keys_sha256"])


def requests(url: str) -> int:
    total: int = httpx.get(f"{url}/_emulator/stats").json()["total_requests"]
    return total


def assert_keys_stayed_home(orgs: dict[str, str]) -> None:
    for name, url in orgs.items():
        own = {key_digest(key) for key in KEYS[name]}
        assert keys_seen(url) <= own, f"{name} received another environment's key"


def test_plan_apply_converge_in_two_orgs_with_aliases(repo: Path, orgs: dict[str, str]) -> None:
    env = env_with_keys("staging", "production")
    planned = reconciler(["plan", "--all-envs"], repo, env)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith(f"Environment staging ({orgs['staging']}):\n")
    assert f"\nEnvironment production ({orgs['production']}):\n" in planned.stdout
    assert '+ create /home desktop "hero" (application storefront)' in planned.stdout
    assert '+ create /pay desktop "form" (application checkout)' in planned.stdout
    assert planned.stdout.count("Plan: 3 to create") == 1  # staging: 2 + checkout
    assert planned.stdout.count("Plan: 2 to create") == 1  # production: no checkout

    applied = reconciler(["apply", "--all-envs", "--auto-approve"], repo, env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert applied.stdout.count("Converged.") == 2
    assert remote(orgs["staging"]) == [
        (STAGING_APP, "/home", "fold"),
        (STAGING_APP, "/home", "hero"),
        (CHECKOUT_APP, "/pay", "form"),
    ]
    assert remote(orgs["production"]) == [
        (PRODUCTION_APP, "/home", "fold"),
        (PRODUCTION_APP, "/home", "hero"),
    ]

    again = reconciler(["plan", "--all-envs", "--detailed-exitcode"], repo, env)
    assert (again.returncode, again.stdout.count("No changes.")) == (0, 2), again.stdout
    assert_keys_stayed_home(orgs)


def test_every_command_sends_each_key_only_to_its_own_org(repo: Path, orgs: dict[str, str]) -> None:
    env = env_with_keys("staging", "production")
    commands = [
        ["validate"],
        ["plan", "--all-envs", "--format", "json"],
        ["plan", "--all-envs", "--format", "markdown"],
        ["plan", "--all-envs", "--out", "plan-{env}.json"],
        ["apply", "plan-production.json"],
        ["apply", "--env", "staging", "--auto-approve"],
        ["export", "--env", "production", "--application-id", "storefront", "--view", "/home"],
        ["doctor", "--all-envs"],
    ]
    for command in commands:
        result = reconciler(command, repo, env)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        for name in KEYS:
            for key in KEYS[name]:
                assert key not in result.stdout + result.stderr
    assert requests(orgs["staging"]) > 0
    assert requests(orgs["production"]) > 0
    assert_keys_stayed_home(orgs)
    # both saw their own keys: the check above is not vacuous
    for name, url in orgs.items():
        assert keys_seen(url) == {key_digest(key) for key in KEYS[name]}


def test_json_plan_has_one_document_per_environment_and_the_saved_plans_name_theirs(
    repo: Path,
) -> None:
    env = env_with_keys("staging", "production")
    result = reconciler(["plan", "--all-envs", "--format", "json"], repo, env)
    wrapper = json.loads(result.stdout)
    assert wrapper["format_version"] == 3
    assert [d["environment"] for d in wrapper["environments"]] == ["staging", "production"]
    assert wrapper["environments"][1]["applications"] == {PRODUCTION_APP: "storefront"}
    saved = reconciler(["plan", "--env", "production", "--out", "prod.json"], repo, env)
    assert saved.returncode == 0, saved.stderr
    assert json.loads((repo / "prod.json").read_text())["environment"] == "production"
    wrong = reconciler(["apply", "prod.json", "--env", "staging"], repo, env)
    assert (wrong.returncode, wrong.stderr) == (
        1,
        "error: the saved plan is for environment 'production'; it cannot be applied to "
        "'staging'\n",
    )
    several = reconciler(["plan", "--all-envs", "--out", "plan.json"], repo, env)
    assert several.returncode == 1
    assert "needs {env} in the path" in several.stderr
    not_a_plan = repo / "both.json"
    not_a_plan.write_text(result.stdout)
    refused = reconciler(["apply", "both.json"], repo, env)
    assert refused.returncode == 1
    assert "holds the plans of several environments" in refused.stderr


@pytest.mark.parametrize(
    ("args", "keys", "edit", "message"),
    [
        (
            ["plan", "--all-envs"],
            ("staging", "production"),
            "checkout-everywhere",
            "snapshots/checkout.yaml:1:14: application alias 'checkout' is not defined in "
            "environment 'production' (add it to environments.production.applications in "
            "reconciler.yaml)",
        ),
        (
            ["plan", "--env", "prod"],
            ("staging", "production"),
            None,
            "error: unknown environment 'prod' (reconciler.yaml declares: staging, production)",
        ),
        (
            ["apply", "--all-envs", "--auto-approve"],
            ("staging",),
            None,
            "error: environment 'production': missing DD_PROD_API_KEY and DD_PROD_APP_KEY: set "
            "its Datadog API key in DD_PROD_API_KEY and its application key in "
            "DD_PROD_APP_KEY (keys are never read from files)",
        ),
        (
            ["plan"],
            ("staging", "production"),
            None,
            "error: reconciler.yaml declares environments (staging, production): choose with "
            "--env NAME or --all-envs",
        ),
    ],
    ids=["missing-alias", "unknown-env", "missing-keys", "no-selection"],
)
def test_a_bad_selection_is_one_line_and_touches_no_org(
    repo: Path,
    orgs: dict[str, str],
    args: list[str],
    keys: tuple[str, ...],
    edit: str | None,
    message: str,
) -> None:
    if edit == "checkout-everywhere":
        path = repo / "snapshots" / "checkout.yaml"
        path.write_text(path.read_text().replace("environments: [staging]\n", ""))
    before = {name: requests(url) for name, url in orgs.items()}
    result = reconciler(args, repo, env_with_keys(*keys))
    assert result.returncode == 1
    assert (result.stdout + result.stderr).strip() == message
    assert {name: requests(url) for name, url in orgs.items()} == before


def test_validate_resolves_every_alias_in_every_environment(repo: Path) -> None:
    path = repo / "snapshots" / "checkout.yaml"
    assert reconciler(["validate"], repo, clean_env()).returncode == 0
    path.write_text(path.read_text().replace("environments: [staging]\n", ""))
    (repo / "snapshots" / "limited.yaml").write_text(
        "application: storefront\nenvironments: [stage]\nviews:\n  /x: []\n"
    )
    result = reconciler(["validate"], repo, clean_env())
    assert (result.returncode, result.stdout.splitlines()) == (
        1,
        [
            "snapshots/checkout.yaml:1:14: application alias 'checkout' is not defined in "
            "environment 'production' (add it to environments.production.applications in "
            "reconciler.yaml)",
            "snapshots/limited.yaml:2:15: unknown environment 'stage' in 'environments' "
            "(reconciler.yaml declares: staging, production)",
        ],
    )


def test_a_target_may_match_in_one_environment_but_not_in_none(repo: Path) -> None:
    env = env_with_keys("staging", "production")
    only_staging = reconciler(["plan", "--all-envs", "--target", "app:checkout"], repo, env)
    assert only_staging.returncode == 0, only_staging.stderr
    assert '+ create /pay desktop "form" (application checkout)' in only_staging.stdout
    assert "/home" not in only_staging.stdout  # app:checkout leaves storefront out
    assert only_staging.stdout.count("No changes.") == 1  # production: checkout is not there
    nowhere = reconciler(["plan", "--all-envs", "--target", "app:nothing"], repo, env)
    assert nowhere.returncode == 1
    assert nowhere.stderr.startswith("error: --target 'app:nothing' matches no managed")


def test_export_writes_the_alias_of_the_environment(repo: Path, orgs: dict[str, str]) -> None:
    env = env_with_keys("staging", "production")
    assert reconciler(["apply", "--env", "production", "--auto-approve"], repo, env).returncode == 0
    args = ["export", "--env", "production", "--application-id", "storefront", "--view", "/home"]
    exported = reconciler(args, repo, env)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[1:3] == ["application: storefront", "views:"]
    both = reconciler([*args[:1], "--all-envs", *args[3:]], repo, env)
    assert (both.returncode, both.stderr) == (
        1,
        "error: this command works in one environment at a time: give one --env\n",
    )


def test_exit_codes_combine_across_environments(repo: Path, orgs: dict[str, str]) -> None:
    env = env_with_keys("staging", "production")
    changes = reconciler(["plan", "--all-envs", "--detailed-exitcode"], repo, env)
    assert changes.returncode == 2  # both have changes
    assert reconciler(["apply", "--env", "staging", "--auto-approve"], repo, env).returncode == 0
    one = reconciler(["plan", "--all-envs", "--detailed-exitcode"], repo, env)
    assert one.returncode == 2  # production still has changes
    # production unreachable: its error wins over staging's "no changes"
    config = repo / "reconciler.yaml"
    config.write_text(config.read_text().replace(orgs["production"], "http://127.0.0.1:9"))
    failed = reconciler(["plan", "--all-envs", "--detailed-exitcode", "--timeout", "3"], repo, env)
    assert failed.returncode == 1
    assert f"Environment staging ({orgs['staging']}):\nNo changes." in failed.stdout
    assert "error: environment production: " in failed.stderr
