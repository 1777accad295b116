"""action.yml: its shell steps run locally as the GitHub runner would run them, against a
real emulator on 127.0.0.1 (install with hashes, validate, plan with the pull-request
comment posted then updated, the saved plan uploaded, apply of a saved plan with the
commit check, the target taken only from the environment), and its shape checked
statically (pinned actions, no expression spliced into a script)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from action_runner import ACTION, Run, load_action, python_on_path, run_action, step_name
from dist_support import ROOT, clean_env

from reconciler import __version__
from reconciler.emulator import serve_in_thread

PINNED_USES = re.compile(
    r"^\s*(- )?uses: (?P<repo>[\w.-]+/[\w.-]+)@[0-9a-f]{40} # (?P<tag>v\d[\w.]*) \(unverified: "
    r"`git ls-remote https://github.com/(?P=repo) 'refs/tags/(?P=tag)\*'` must show this commit\)$"
)
FAKE_GH = Path(__file__).with_name("fake_gh.py")


def test_every_action_it_uses_is_pinned_by_commit_with_the_tag_in_a_comment() -> None:
    lines = [line for line in ACTION.read_text().splitlines() if line.strip().startswith("uses:")]
    assert len(lines) == 2
    for line in lines:
        assert PINNED_USES.match(line), line


def test_the_comment_and_the_last_step_run_unless_cancelled() -> None:
    steps = {step_name(s): s for s in load_action()["runs"]["steps"]}
    assert steps["Post or update the plan comment"]["if"].startswith(
        "${{ !cancelled() && steps.environment.outcome == 'success' && "
    )
    assert steps["Exit as reconciler did"]["if"] == "${{ !cancelled() }}"


def test_inputs_reach_scripts_only_through_env() -> None:
    """A `${{ }}` inside `run:` would splice a value into the script (injection)."""
    for step in load_action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step_name(step)
            assert step["shell"] == "bash"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The action's install step, once: a venv from constraints/runtime.txt (hashes) and
    the package from the action's own folder."""
    temp = tmp_path_factory.mktemp("runner")
    env = {**clean_env(), "PATH": python_on_path(temp / "python-bin", sys.executable)}
    repo = temp / "repo"
    repo.mkdir()
    run = run_action(
        {"command": "validate", "expected-version": __version__},
        cwd=repo,
        runner_temp=temp / "tmp",
        env=env,
        github={},
    )
    install = run.step("Install reconciler")
    assert install.code == 0, install.stdout + install.stderr
    assert f"reconciler {__version__} installed from {ROOT}" in install.stdout
    return {"env": env, "temp": temp, "outputs": install.outputs}


@pytest.fixture
def emulator() -> Iterator[str]:
    with serve_in_thread() as url:
        yield url


def repo_with_examples(path: Path) -> Path:
    shutil.copytree(ROOT / "snapshots", path / "snapshots")
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    subprocess.run(["git", "add", "."], cwd=path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"],
        cwd=path,
        check=True,
    )
    return path


def act(
    installed: dict[str, Any],
    repo: Path,
    inputs: dict[str, str],
    env: dict[str, str] | None = None,
    github: dict[str, Any] | None = None,
) -> Run:
    bin_dir = installed["temp"] / "gh-bin"
    bin_dir.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    if not gh.exists():
        gh.write_text(f"#!{sys.executable}\n" + FAKE_GH.read_text())
        gh.chmod(0o755)
    full_env = {
        **installed["env"],
        "PATH": f"{bin_dir}:{installed['env']['PATH']}",
        "FAKE_GH_STATE": str(repo.parent / "gh-state.json"),
        "DD_API_KEY": "test-api-key-0001-0123456789abcd",
        "DD_APP_KEY": "test-app-key-0001-0123456789abcdef012345",
        **(env or {}),
    }
    context = {"repository": "acme/snapshots", "sha": "0" * 40, "token": "ghs-test"}
    context.update(github or {})
    return run_action(
        inputs,
        cwd=repo,
        runner_temp=repo.parent / "runner-temp",
        env=full_env,
        github=context,
        skip_install=installed["outputs"],
    )


def comments(repo: Path) -> list[dict[str, Any]]:
    state = repo.parent / "gh-state.json"
    found: list[dict[str, Any]] = json.loads(state.read_text())["comments"]
    return found


def remote_names(url: str) -> set[str]:
    data = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
    return {item["attributes"]["snapshot_name"] for item in data}


def test_validate_passes_and_a_broken_file_fails_with_an_annotation(
    installed: dict[str, Any], tmp_path: Path
) -> None:
    repo = repo_with_examples(tmp_path / "repo")
    ok = act(installed, repo, {"command": "validate"})
    assert ok.step("reconciler validate").outputs["exit-code"] == "0"
    assert not ok.failures()
    broken = repo / "snapshots" / "storefront-shop.yaml"
    broken.write_text(broken.read_text().replace("device_type: desktop", "device_type: laptop"))
    bad = act(installed, repo, {"command": "validate"})
    assert bad.step("reconciler validate").outputs["exit-code"] == "1"
    assert "::error file=snapshots/storefront-shop.yaml" in bad.step("reconciler validate").stdout
    assert bad.step("Exit as reconciler did").code == 1


def test_plan_posts_then_updates_one_comment_and_uploads_the_saved_plan(
    installed: dict[str, Any], tmp_path: Path, emulator: str
) -> None:
    repo = repo_with_examples(tmp_path / "repo")
    inputs = {"command": "plan", "post-comment": "true", "artifact-name": "reconciler-plan-pr-7"}
    pr = {"event": {"pull_request": {"number": 7}}}
    env = {"RECONCILER_API_URL": emulator}
    first = act(installed, repo, inputs, env, pr)
    assert first.step("reconciler plan").outputs["exit-code"] == "0", first.steps
    assert not first.failures()
    markdown = Path(first.outputs(load_action())["markdown"]).read_text()
    assert "to create" in markdown
    assert markdown in first.summary
    (comment,) = comments(repo)
    assert comment["body"] == "<!-- reconciler-plan -->\n" + markdown
    upload = first.step("Upload the saved plan")
    assert upload.ran
    assert upload.with_["name"] == "reconciler-plan-pr-7"
    saved = json.loads((repo / upload.with_["path"]).read_text())
    assert saved["operations"]

    second = act(installed, repo, inputs, env, pr)
    assert not second.failures()
    assert [c["id"] for c in comments(repo)] == [comment["id"]]  # updated, not a second one
    assert "updated comment" in second.step("Post or update").stdout


def test_a_failed_plan_comments_the_failure_uploads_nothing_and_fails(
    installed: dict[str, Any], tmp_path: Path, emulator: str
) -> None:
    repo = repo_with_examples(tmp_path / "repo")
    # A listing that fills the page may be truncated: an error, and nothing is saved.
    inputs = {"command": "plan", "post-comment": "true", "artifact-name": "plan"}
    inputs["args"] = "--page-limit 1"
    env = {"RECONCILER_API_URL": emulator}
    act(installed, repo, {"command": "apply", "args": "--auto-approve"}, env)
    run = act(installed, repo, inputs, env, {"event": {"pull_request": {"number": 8}}})
    assert run.step("reconciler plan").outputs["exit-code"] == "1"
    (comment,) = comments(repo)
    assert "`reconciler plan` failed (exit 1)" in comment["body"]
    assert not run.step("Upload the saved plan").ran
    assert not (repo / "plan.json").exists()
    assert run.step("Exit as reconciler did").code == 1


def test_the_target_comes_only_from_the_environment(
    installed: dict[str, Any], tmp_path: Path, emulator: str
) -> None:
    """Without DD_SITE / RECONCILER_API_URL the action refuses to plan; with it, an
    `api_url` in the repository's reconciler.yaml receives nothing."""
    repo = repo_with_examples(tmp_path / "repo")
    with serve_in_thread() as decoy:
        (repo / "reconciler.yaml").write_text(f"api_url: {decoy}\n")
        refused = act(installed, repo, {"command": "plan"})
        assert refused.step("reconciler plan").outputs["exit-code"] == "1"
        assert "set DD_SITE (or RECONCILER_API_URL)" in refused.step("reconciler plan").stdout
        pinned = act(installed, repo, {"command": "plan"}, {"RECONCILER_API_URL": emulator})
        assert pinned.step("reconciler plan").outputs["exit-code"] == "0"
        assert httpx.get(f"{decoy}/_emulator/stats").json()["total_requests"] == 0
    assert httpx.get(f"{emulator}/_emulator/stats").json()["total_requests"] > 0


def test_apply_of_a_saved_plan_checks_its_commit_then_converges(
    installed: dict[str, Any], tmp_path: Path, emulator: str
) -> None:
    repo = repo_with_examples(tmp_path / "repo")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {"RECONCILER_API_URL": emulator}
    plan = act(installed, repo, {"command": "plan", "args": "--detailed-exitcode"}, env)
    assert plan.step("reconciler plan").outputs["exit-code"] == "2"  # changes: not a failure
    assert not plan.failures()
    saved = json.loads((repo / "plan.json").read_text())

    def check(plan_file: str, commit: str) -> Run:
        inputs = {"command": "apply", "saved-plan": "true", "plan-file": plan_file}
        return act(installed, repo, {**inputs, "expect-commit": commit}, env)

    # The commit check alone, on copies of the plan that record a commit (or none).
    (repo / "at-a.json").write_text(json.dumps({**saved, "git": {"commit": "a" * 40}}))
    (repo / "none.json").write_text(json.dumps({k: v for k, v in saved.items() if k != "git"}))
    # A plan file is an artifact anyone with write access to the run can swap: its commit
    # is never echoed, so it cannot become a command to the runner.
    hostile = "x ##[error]injected\n::add-mask::y %0A::warning::z"
    (repo / "hostile.json").write_text(json.dumps({**saved, "git": {"commit": hostile}}))
    for plan_file, commit in (("at-a.json", "f" * 40), ("none.json", head), ("hostile.json", head)):
        refused = check(plan_file, commit)
        stdout = refused.step("reconciler apply").stdout
        assert refused.step("reconciler apply").outputs["exit-code"] == "1"
        assert (
            f"::error::the saved plan was not made at {commit}, the commit being applied: "
            "not applied" in stdout.splitlines()
        )
        for injected in ("##[", "add-mask", "%0A"):
            assert injected not in stdout
        assert remote_names(emulator) == set(), "nothing may be applied from another commit"

    # The real plan: applied with the check when it records this commit, else without.
    if saved.get("git", {}).get("commit") == head:
        result = check("plan.json", head)
    else:  # a build whose plans do not record their commit yet
        result = act(installed, repo, {"command": "apply", "saved-plan": "true"}, env)
    assert result.step("reconciler apply").outputs["exit-code"] == "0"
    assert "Converged." in result.step("reconciler apply").stdout

    # A plan recording the expected commit passes the check (then apply judges it: after
    # the apply above it is stale or has nothing to do, so nothing changes either way).
    passed = check("at-a.json", "a" * 40)
    assert f"the saved plan was made at {'a' * 40}" in passed.step("reconciler apply").stdout
    drift = act(installed, repo, {"command": "plan", "args": "--detailed-exitcode"}, env)
    assert drift.step("reconciler plan").outputs["exit-code"] == "0"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DD_SITE": "datadoghq.eu"}, ["--site", "datadoghq.eu"]),
        ({"RECONCILER_API_URL": "http://127.0.0.1:9"}, ["--api-url", "http://127.0.0.1:9"]),
        ({"DD_SITE": "datadoghq.eu", "RECONCILER_API_URL": "http://127.0.0.1:9"},
         ["--api-url", "http://127.0.0.1:9"]),
    ],
)  # fmt: skip
def test_the_target_from_the_environment_is_passed_on_the_command_line(
    installed: dict[str, Any], tmp_path: Path, env: dict[str, str], expected: list[str]
) -> None:
    """The command line beats reconciler.yaml: the action always passes the target there
    (seen through a stand-in reconciler that records its arguments)."""
    repo = repo_with_examples(tmp_path / "repo")
    fake = tmp_path / "fake-reconciler"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    fake.chmod(0o755)
    for command, args in (("plan", "--detailed-exitcode"), ("apply", "--auto-approve")):
        run = run_action(
            {"command": command, "args": args},
            cwd=repo,
            runner_temp=tmp_path / "runner-temp",
            env={**installed["env"], **env},
            github={"repository": "acme/snapshots"},
            skip_install={"reconciler": str(fake)},
        )
        step = run.step(f"reconciler {command}")
        output = step.stdout if command == "apply" else Path(step.outputs["markdown"]).read_text()
        argv = json.loads(output.splitlines()[-1])
        assert argv[argv.index(expected[0]) : argv.index(expected[0]) + 2] == expected
        assert argv.count("--site") + argv.count("--api-url") == 1


def test_apply_without_a_saved_plan_needs_auto_approve(
    installed: dict[str, Any], tmp_path: Path, emulator: str
) -> None:
    repo = repo_with_examples(tmp_path / "repo")
    env = {"DD_SITE": "datadoghq.eu", "RECONCILER_API_URL": emulator}
    refused = act(installed, repo, {"command": "apply"}, env)
    assert refused.step("reconciler apply").outputs["exit-code"] == "1"
    assert remote_names(emulator) == set()
    applied = act(installed, repo, {"command": "apply", "args": "--auto-approve"}, env)
    assert applied.step("reconciler apply").outputs["exit-code"] == "0"
    assert "Converged." in applied.step("reconciler apply").stdout
    assert remote_names(emulator)


@pytest.mark.parametrize("command", ["destroy", "x\n::add-mask::y ##[error]z"])
def test_an_unknown_command_fails_without_echoing_it(
    installed: dict[str, Any], tmp_path: Path, command: str
) -> None:
    repo = repo_with_examples(tmp_path / "repo")
    run = act(installed, repo, {"command": command}, {"DD_SITE": "datadoghq.eu"})
    printed = run.step(f"reconciler {command}").stdout + run.step("Exit as reconciler did").stdout
    assert printed.splitlines() == [
        "::error::command must be validate, plan or apply (the value is not echoed)",
        "::error::reconciler exited 1",
    ]
    assert run.step("Exit as reconciler did").code == 1


def test_an_environment_job_plans_only_its_environment_with_the_jobs_keys(
    installed: dict[str, Any], tmp_path: Path, emulator: str
) -> None:
    """A matrix job of the environments recipe: `environment: staging` passes --env, the
    job's DD_API_KEY / DD_APP_KEY as staging's key variables, and posts staging's own
    comment; the other environment's host receives nothing."""
    repo = repo_with_examples(tmp_path / "repo")
    app = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"  # the examples' application id
    for path in (repo / "snapshots").glob("*.yaml"):
        path.write_text(path.read_text().replace(f"application_id: {app}", "application: shop"))
    with serve_in_thread() as other:
        (repo / "reconciler.yaml").write_text(
            "environments:\n"
            f"  staging:\n    api_url: {other}\n    applications: {{shop: {app}}}\n"
            f"  production:\n    api_url: {other}\n    applications: {{shop: {app}}}\n"
        )
        inputs = {"command": "plan", "post-comment": "true", "environment": "staging"}
        pr = {"event": {"pull_request": {"number": 9}}}
        run = act(installed, repo, inputs, {"RECONCILER_API_URL": emulator}, pr)
        step = run.step("reconciler plan")
        assert step.outputs["exit-code"] == "0", (step.stdout, step.stderr)
        assert httpx.get(f"{other}/_emulator/stats").json()["total_requests"] == 0
    assert httpx.get(f"{emulator}/_emulator/stats").json()["total_requests"] > 0
    (comment,) = comments(repo)
    assert comment["body"].startswith(
        "<!-- reconciler-plan:staging -->\n### reconciler plan: environment `staging`\n"
    )
    assert json.loads((repo / "plan.json").read_text())["environment"] == "staging"
    bad = act(installed, repo, {"command": "plan", "environment": "x; rm -rf /"}, {})
    assert bad.step("Check the environment name").code == 1
    assert "environment must be the name of one of" in bad.step("Check the environment").stdout
    assert not bad.step("reconciler plan").ran
