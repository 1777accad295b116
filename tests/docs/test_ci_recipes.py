"""docs/ci/: every recipe is valid YAML of the expected shape, and every `reconciler ...`
command in it is accepted by the real CLI (subcommand, options, choices)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docs_support import CommandLine, check, find_in_shell
from ruamel.yaml import YAML

from reconciler import __version__

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "docs" / "ci"
GITHUB = sorted((CI / "github").glob("*.yml"))
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"
RECIPES = [*GITHUB, GITLAB]
EXPECTED_GITHUB = {
    "reconciler-plan.yml",
    "reconciler-apply.yml",
    "reconciler-drift.yml",
    "reconciler-validate.yml",
}


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def shell_blocks(path: Path) -> Iterator[tuple[str, str]]:
    """(where, shell text) of every `run:` step (GitHub) or script line (GitLab)."""
    document = load(path)
    name = path.relative_to(ROOT).as_posix()
    if path.name == ".gitlab-ci.yml":
        for job_name, job in document.items():
            if not isinstance(job, dict):
                continue
            for key in ("before_script", "script", "after_script"):
                for line in job.get(key) or []:
                    yield f"{name} [{job_name}.{key}]", line
        default = document.get("default") or {}
        for line in default.get("before_script") or []:
            yield f"{name} [default.before_script]", line
        return
    for job_name, job in document["jobs"].items():
        for number, step in enumerate(job["steps"], start=1):
            if "run" in step:
                yield f"{name} [{job_name} step {number}]", step["run"]


def commands(path: Path) -> list[CommandLine]:
    return [command for where, text in shell_blocks(path) for command in find_in_shell(text, where)]


def test_the_recipes_exist() -> None:
    assert {path.name for path in GITHUB} == EXPECTED_GITHUB
    assert GITLAB.is_file()
    assert (CI / "README.md").is_file()


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_is_valid_yaml_with_reconciler_commands(path: Path) -> None:
    document = load(path)
    assert isinstance(document, dict)
    assert commands(path), f"{path.name} runs no reconciler command"


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_every_reconciler_command_exists(path: Path) -> None:
    problems = [problem for command in commands(path) for problem in check(command)]
    assert problems == []


@pytest.mark.parametrize("path", GITHUB, ids=lambda p: p.name)
def test_github_workflow_shape(path: Path) -> None:
    document = load(path)
    assert {"name", "on", "jobs"} <= set(document)
    for job_name, job in document["jobs"].items():
        assert "runs-on" in job, job_name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            assert not any("--force" in str(value) for value in step.values()), step


def test_gitlab_pipeline_shape() -> None:
    document = load(GITLAB)
    stages = document["stages"]
    jobs = {name: job for name, job in document.items() if _is_job(name, job)}
    assert {"validate", "plan:mr", "plan:main", "apply", "drift"} <= set(jobs)
    for name, job in jobs.items():
        assert job["stage"] in stages, name
        for need in job.get("needs", []):
            assert need in jobs, f"{name} needs unknown job {need}"
    assert jobs["drift"]["allow_failure"] == {"exit_codes": [2]}
    assert jobs["apply"]["rules"][0]["when"] == "manual"


def _is_job(name: str, job: Any) -> bool:
    reserved = {"stages", "default", "variables", "include", "workflow", "image", "services"}
    return isinstance(job, dict) and not name.startswith(".") and name not in reserved


def test_recipes_follow_the_contract() -> None:
    """The commands the contract names are the ones the recipes use."""
    used = {str(command) for path in RECIPES for command in commands(path)}
    assert "reconciler validate --format github" in used
    assert "reconciler plan --format markdown --out plan.json" in used
    assert "reconciler apply plan.json" in used
    assert "reconciler apply --auto-approve" in used
    assert "reconciler plan --detailed-exitcode --format markdown" in used
    assert "reconciler plan --detailed-exitcode" in used


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipes_pin_the_current_version_and_take_keys_from_secrets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "heatmap-reconciler==${RECONCILER_VERSION}" in text
    assert f'RECONCILER_VERSION: "{__version__}"' in text
    if path.suffix == ".yml" and path.parent.name == "github" and "DD_API_KEY" in text:
        assert "DD_API_KEY: ${{ secrets.DD_API_KEY }}" in text
        assert "DD_APP_KEY: ${{ secrets.DD_APP_KEY }}" in text


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("reconciler frobnicate", "no subcommand 'frobnicate'"),
        ("reconciler plan --no-such-option", "no option --no-such-option"),
        ("reconciler plan --format yaml > plan.md", "'yaml' is not a valid value of --format"),
        ("reconciler validate --format=markdown", "'markdown' is not a valid value"),
        ("reconciler apply --detailed-exitcode", "no option --detailed-exitcode"),
        ("reconciler show", "click refuses it"),
        ("reconciler export --view /home", "click refuses it"),
        ("reconciler plan --parallelism 0", "click refuses it"),
        ("reconciler plan --out", "needs a value"),
    ],
)
def test_the_checker_catches_bad_commands(line: str, problem: str) -> None:
    found = list(find_in_shell(line, "example"))
    assert len(found) == 1
    problems = check(found[0])
    assert problems
    assert problem in problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set +e\nreconciler plan --out plan.json > plan.md 2>&1", ["plan --out plan.json"]),
        ("if ! reconciler apply plan.json; then exit 1; fi", ["apply plan.json"]),
        ("code=0; reconciler plan -vv || code=$?", ["plan -vv"]),
        (
            "reconciler export --application-id A \\\n  --view /home",
            ["export --application-id A --view /home"],
        ),
        ('echo "::error::reconciler plan failed"', []),
        ("$ reconciler validate   # exit 0", ["validate"]),
    ],
)
def test_command_lines_are_found_in_shell_text(text: str, expected: list[str]) -> None:
    assert [" ".join(c.args) for c in find_in_shell(text, "x")] == expected
