"""docs/ci/: every recipe is valid YAML of the expected shape, and every `reconciler ...`
command in it is accepted by the real CLI (subcommand, options, choices)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler import __version__
from support.docs_support import CommandLine, check, find_in_shell

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "docs" / "ci"
GITHUB = sorted((CI / "github").glob("*.yml"))
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"
RECIPES = [*GITHUB, GITLAB]
OWN_ACTION = "OWNER/heatmap-reconciler"
THIRD_PARTY_PIN = re.compile(
    r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d[\w.]* \((verify|unverified: `git ls-remote .*)\)$"
)
OWN_PIN = re.compile(
    OWN_ACTION
    + r"@[0-9a-f]{40} # v"
    + re.escape(__version__)
    + r" \(replace OWNER and the commit\)$"
)
EXPECTED_GITHUB = {
    "reconciler-plan.yml",
    "reconciler-apply.yml",
    "reconciler-drift.yml",
    "reconciler-validate.yml",
    "reconciler-environments.yml",
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
    found = [
        command for where, text in shell_blocks(path) for command in find_in_shell(text, where)
    ]
    return found + list(action_commands(path))


def action_steps(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, step) of each step that uses this repository's action."""
    if path.parent.name != "github":
        return
    name = path.relative_to(ROOT).as_posix()
    for job_name, job in load(path)["jobs"].items():
        for number, step in enumerate(job["steps"], start=1):
            if str(step.get("uses", "")).startswith(OWN_ACTION + "@"):
                yield f"{name} [{job_name} step {number}]", step


def action_commands(path: Path) -> Iterator[CommandLine]:
    """The command line action.yml runs for each use of it (see its `run` step)."""
    for where, step in action_steps(path):
        given = step.get("with") or {}
        command = given["command"]
        extra = tuple(str(given.get("args", "")).split())
        plan_file = given.get("plan-file", "plan.json")
        if given.get("environment") and command != "validate":
            extra = ("--env", str(given["environment"]), *extra)
        if command == "validate":
            args: tuple[str, ...] = ("validate", "--format", "github", *extra)
        elif command == "plan":
            args = ("plan", "--format", "markdown", "--out", plan_file, *extra)
        elif given.get("saved-plan") == "true":
            args = ("apply", plan_file, *extra)
        else:
            args = ("apply", *extra)
        yield CommandLine(where, args)


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
    # The pull-request plan also warns about views its base managed and it no longer does.
    assert (
        "reconciler plan --format markdown --out plan.json --base 'origin/${{github.base_ref}}'"
        in used
    )
    assert "reconciler plan --format markdown --out plan.json --detailed-exitcode" in used
    assert "reconciler apply plan.json" in used
    assert "reconciler plan --site '$DD_SITE' --detailed-exitcode" in used
    assert not any("--auto-approve" in command or "--force" in command for command in used)


def uses_lines(path: Path) -> list[str]:
    """The `uses:` values as written, comments included."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        line.split("uses:", 1)[1].strip()
        for line in lines
        if line.strip().startswith(("uses:", "- uses:"))
    ]


@pytest.mark.parametrize("path", [*GITHUB, ROOT / "action.yml"], ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_with_the_tag_in_a_comment(path: Path) -> None:
    uses = uses_lines(path)
    assert uses
    for value in uses:
        pattern = OWN_PIN if value.startswith(OWN_ACTION) else THIRD_PARTY_PIN
        assert pattern.match(value), value


@pytest.mark.parametrize("path", GITHUB, ids=lambda p: p.name)
def test_github_recipes_use_the_action_pinned_to_this_version(path: Path) -> None:
    steps = list(action_steps(path))
    assert steps
    for where, step in steps:
        assert step["with"]["expected-version"] == __version__, where
        assert re.fullmatch(r"3\.12\.\d+", step["with"]["python-version"]), where
        env = step.get("env") or {}
        if step["with"]["command"] != "validate":
            assert env == {
                "DD_API_KEY": "${{ secrets.DD_API_KEY }}",
                "DD_APP_KEY": "${{ secrets.DD_APP_KEY }}",
            }, where
    for job in load(path)["jobs"].values():
        assert re.fullmatch(r"ubuntu-\d+\.\d+", job["runs-on"])


@pytest.mark.parametrize("path", GITHUB, ids=lambda p: p.name)
def test_the_target_is_pinned_from_the_environment(path: Path) -> None:
    """Every workflow that plans or applies sets DD_SITE for all its jobs, from the
    repository's variables; nothing reads the target from a file."""
    document = load(path)
    commands_used = {step["with"]["command"] for _, step in action_steps(path)}
    if commands_used <= {"validate"}:
        return
    pinned = "${{ vars.DD_SITE || 'datadoghq.com' }}"
    if path.name == "reconciler-environments.yml":  # each job: its GitHub environment's
        for job in document["jobs"].values():
            assert job["environment"] == "reconciler-${{ matrix.environment }}"
            assert job["env"]["DD_SITE"] == pinned
    else:
        assert document["env"]["DD_SITE"] == pinned
    content = json.dumps(document)  # without the comments
    assert "api_url" not in content
    assert "RECONCILER_API_URL" not in content


def test_the_gitlab_recipe_pins_the_target_on_every_plan_and_apply() -> None:
    for command in commands(GITLAB):
        if command.args[0] in ("plan", "apply"):
            assert "--site" in command.args, command.where
            assert command.args[command.args.index("--site") + 1] == "$DD_SITE"


def test_the_apply_workflow_applies_only_this_runs_plan_of_this_commit() -> None:
    document = load(CI / "github" / "reconciler-apply.yml")
    plan, apply = document["jobs"]["plan"], document["jobs"]["apply"]
    assert apply["needs"] == "plan"
    assert apply["if"] == "needs.plan.outputs.exit-code == '2'"
    assert apply["environment"] == "datadog"
    (upload,) = [s for s in plan["steps"] if s.get("with", {}).get("command") == "plan"]
    assert upload["with"]["artifact-name"] == "reconciler-plan-${{ github.sha }}"
    checkout, download, run = apply["steps"]
    assert checkout["with"]["ref"] == "${{ github.sha }}"
    assert download["uses"].startswith("actions/download-artifact@")
    # No run-id: download-artifact then only sees this workflow run's artifacts.
    assert download["with"] == {"name": "reconciler-plan-${{ github.sha }}"}
    assert run["with"]["saved-plan"] == "true"
    assert run["with"]["expect-commit"] == "${{ github.sha }}"
    assert document["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}


def test_the_required_check_has_no_paths_filter_and_the_note_says_why() -> None:
    validate = load(CI / "github" / "reconciler-validate.yml")
    assert validate["on"] == {"pull_request": None, "push": {"branches": ["main"]}}
    readme = (CI / "README.md").read_text(encoding="utf-8")
    assert "paths filter" in readme
    assert "stay blocked" in readme


@pytest.mark.parametrize(
    ("recorded", "code"), [("HEAD", 0), ("other", 1), (None, 1)], ids=["same", "other", "none"]
)
def test_the_gitlab_commit_check_refuses_a_plan_of_another_commit(
    tmp_path: Path, recorded: str | None, code: int
) -> None:
    apply = load(GITLAB)["apply"]["script"]
    (check_line,) = [line for line in apply if line.startswith("python3 -c")]
    sha = "a" * 40
    plan: dict[str, Any] = {"operations": []}
    if recorded is not None:
        plan["git"] = {"commit": sha if recorded == "HEAD" else "b" * 40}
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    python = Path(sys.executable).parent
    env = {"CI_COMMIT_SHA": sha, "PATH": f"{python}:/usr/bin:/bin"}
    done = subprocess.run(
        ["bash", "-c", check_line.replace("python3", sys.executable, 1)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == code, done.stderr
    if code:
        assert "not applied" in done.stderr


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


def test_the_environments_recipe_runs_a_job_per_environment_with_its_own_secrets() -> None:
    path = CI / "github" / "reconciler-environments.yml"
    document = load(path)
    plan, apply = document["jobs"]["plan"], document["jobs"]["apply"]
    for job in (plan, apply):
        assert job["strategy"]["matrix"]["environment"] == ["staging", "production"]
    assert apply["needs"] == "plan"
    assert apply["strategy"]["max-parallel"] == 1
    steps = dict(action_steps(path))
    assert all(
        step["with"]["environment"] == "${{ matrix.environment }}" for step in steps.values()
    )
    download = apply["steps"][1]
    assert download["with"] == {
        "name": "reconciler-plan-${{ matrix.environment }}-${{ github.sha }}"
    }
    (applying,) = [s for s in steps.values() if s["with"]["command"] == "apply"]
    assert applying["with"]["saved-plan"] == "true"
    assert applying["with"]["expect-commit"] == "${{ github.sha }}"
