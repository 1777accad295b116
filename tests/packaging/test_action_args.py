"""action.yml's argument handling and its environment-name gate, run as the GitHub runner
runs them (bash, the step's env) with a stand-in reconciler that prints the argv it got:
`arguments` lines reach reconciler as they are written, one argument each, and nothing in
them is evaluated; a step that reads the environment name runs only after the step that
checks the name succeeded."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from action_runner import Run, load_action, python_on_path, run_action, step_name
from dist_support import clean_env

FAKE_GH = Path(__file__).with_name("fake_gh.py")
CHECK = "Check the environment name"
HOSTILE_LINES = [
    "--target",
    "Home, *",
    '"double quoted"',
    "'single quoted'",
    "$(touch by-dollar)",
    "`touch by-backtick`",
    "; touch by-semicolon",
    "a && touch by-and",
    "*.yaml",
    "$HOME ${HOME} ~",
    "back\\slash",
    "  spaces kept  ",
    "tab\tinside",
]


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    """A folder to run in (holding files a glob would match), a stand-in reconciler that
    prints its argv as JSON, and a stand-in `gh` that records its calls."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("a.yaml", "b.yaml"):
        (repo / name).write_text("x: 1\n")
    fake = tmp_path / "bin" / "reconciler"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    fake.chmod(0o755)
    gh = tmp_path / "bin" / "gh"
    gh.write_text(f"#!{sys.executable}\n" + FAKE_GH.read_text())
    gh.chmod(0o755)
    path = python_on_path(tmp_path / "python-bin", sys.executable)
    env = {
        **clean_env(),
        "PATH": f"{gh.parent}:{path}",
        "FAKE_GH_STATE": str(tmp_path / "gh-state.json"),
        "RECONCILER_API_URL": "http://127.0.0.1:9",
    }
    return {"repo": repo, "tmp": tmp_path, "env": env, "fake": str(fake)}


def act(world: dict[str, Any], inputs: dict[str, str]) -> Run:
    return run_action(
        inputs,
        cwd=world["repo"],
        runner_temp=world["tmp"] / "runner-temp",
        env=world["env"],
        github={
            "repository": "acme/snapshots",
            "token": "ghs-test",
            "event": {"pull_request": {"number": 3}},
        },
        skip_install={"reconciler": world["fake"]},
    )


def argv_of(run: Run, command: str) -> list[str]:
    step = run.step(f"reconciler {command}")
    assert step.code == 0, step.stderr
    output = step.stdout if command != "plan" else Path(step.outputs["markdown"]).read_text()
    argv: list[str] = json.loads(output.splitlines()[-1])
    return argv


def test_each_line_of_arguments_is_one_argument_exactly_as_written(world: dict[str, Any]) -> None:
    arguments = "\n".join(["", *HOSTILE_LINES[:6], "", "   ", *HOSTILE_LINES[6:], "--crlf\r", ""])
    run = act(world, {"command": "validate", "arguments": arguments})
    assert argv_of(run, "validate") == ["validate", "--format", "github", *HOSTILE_LINES, "--crlf"]
    assert sorted(p.name for p in world["repo"].iterdir()) == ["a.yaml", "b.yaml"]


def test_the_target_option_with_a_space_reaches_plan_in_either_spelling(
    world: dict[str, Any],
) -> None:
    for arguments, expected in (
        ("--target\nHome, *\n", ["--target", "Home, *"]),
        ("--target=Home, *", ["--target=Home, *"]),
    ):
        run = act(world, {"command": "plan", "arguments": arguments})
        argv = argv_of(run, "plan")
        assert argv[-len(expected) :] == expected
        assert argv[:2] == ["plan", "--format"]


def test_args_is_split_on_whitespace_without_globbing_and_comes_before_arguments(
    world: dict[str, Any],
) -> None:
    inputs = {
        "command": "apply",
        "args": "--auto-approve  *.yaml\n$(touch x)\t--page-limit 5",
        "arguments": "--target\nHome, *",
    }
    argv = argv_of(act(world, inputs), "apply")
    assert argv == [
        "apply",
        "--api-url",
        "http://127.0.0.1:9",
        *["--auto-approve", "*.yaml", "$(touch", "x)", "--page-limit", "5"],
        *["--target", "Home, *"],
    ]
    assert sorted(p.name for p in world["repo"].iterdir()) == ["a.yaml", "b.yaml"]


def test_an_environment_comes_first_then_the_arguments(world: dict[str, Any]) -> None:
    inputs = {"command": "plan", "environment": "staging", "arguments": "--target\nHome, *"}
    argv = argv_of(act(world, inputs), "plan")
    assert argv[argv.index("--env") :] == ["--env", "staging", "--target", "Home, *"]


def steps_reading_the_name() -> list[dict[str, Any]]:
    """Every step, but the check, whose env, with or script mentions the environment name."""
    found = []
    for step in load_action()["runs"]["steps"]:
        text = json.dumps({k: v for k, v in step.items() if k in ("env", "with", "run")})
        if step.get("id") != "environment" and re.search(r"\benvironment\b", text):
            found.append(step)
    return found


def test_every_step_reading_the_environment_name_is_gated_on_its_check() -> None:
    steps = load_action()["runs"]["steps"]
    assert steps[0]["id"] == "environment"
    assert "inputs.environment" in steps[0]["env"]["ENVIRONMENT"]
    readers = steps_reading_the_name()
    assert {step_name(s) for s in readers} == {
        "reconciler ${{ inputs.command }}",
        "Post or update the plan comment",
    }
    for step in readers:
        assert "steps.environment.outcome == 'success'" in step["if"], step_name(step)
        # They read the name the check let through, never the raw input.
        assert step["env"]["ENVIRONMENT"] == "${{ steps.environment.outputs.name }}"


@pytest.mark.parametrize(
    "name",
    [
        "x; rm -rf /",
        'prod") or true | .id, ("',
        "staging\n::add-mask::x",
        "$(touch by-name)",
        "-rf",
        "a" * 64,
    ],
)
def test_a_hostile_environment_name_stops_the_action_before_any_step_reads_it(
    world: dict[str, Any], name: str
) -> None:
    run = act(world, {"command": "plan", "post-comment": "true", "environment": name})
    check = run.step(CHECK)
    assert check.code == 1
    assert check.stdout.splitlines() == [
        "::error::environment must be the name of one of reconciler.yaml's environments"
        " (a letter, then letters, digits, _ or -; at most 63)"
    ]
    assert [s.name for s in run.steps if s.ran] == [CHECK, "Exit as reconciler did"]
    assert not (world["tmp"] / "gh-state.json").exists(), "gh was called"
    assert sorted(p.name for p in world["repo"].iterdir()) == ["a.yaml", "b.yaml"]


def test_a_good_environment_name_posts_that_environments_comment(world: dict[str, Any]) -> None:
    run = act(world, {"command": "plan", "post-comment": "true", "environment": "prod-eu_2"})
    assert not run.failures()
    state = json.loads((world["tmp"] / "gh-state.json").read_text())
    (comment,) = state["comments"]
    assert comment["body"].startswith("<!-- reconciler-plan:prod-eu_2 -->\n")
