"""The release machinery and the action's metadata, read statically: CHANGELOG.md keeps a
section per released version and its newest is the package version; the version has one
source; the release workflow is triggered by a version tag only, gives each job only the
permissions it needs, publishes to PyPI only when the repository says so; every action
action.yml and the release workflow use is pinned by commit with the check to run; and the
parts of scripts/lint_workflows.py that need no node (action.yml as a workflow, its
metadata check, where each `run:` script starts) find what they must."""

from __future__ import annotations

import datetime
import importlib.util
import itertools
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler import __version__
from support.cli_runner import Run

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = ROOT / "CHANGELOG.md"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
ACTION = ROOT / "action.yml"
RELEASED = re.compile(r"## \[(\d+)\.(\d+)\.(\d+)\] - (\d{4}-\d{2}-\d{2})")
PIN = re.compile(
    r"(?P<repo>[\w.-]+/[\w.-]+)@[0-9a-f]{40} # (?P<tag>v\d+\.\d+\.\d+) \(unverified: "
    r"`git ls-remote https://github.com/(?P=repo) 'refs/tags/(?P=tag)\*'` must show this commit\)"
)


def changelog_sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading, lines) of each `## ` section."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line, []))
        elif sections:
            sections[-1][1].append(line)
    return sections


def changelog_problems(text: str) -> list[str]:
    """Keep a Changelog's shape: [Unreleased] first, then dated released versions, newest
    first, each with at least one entry."""
    sections = changelog_sections(text)
    problems = []
    if not text.startswith("# Changelog\n"):
        problems.append("the first line is not '# Changelog'")
    if not sections or sections[0][0] != "## [Unreleased]":
        problems.append("the first section is not '## [Unreleased]'")
    released = []
    for heading, lines in sections[1:]:
        match = RELEASED.fullmatch(heading)
        if not match:
            problems.append(f"{heading!r} is not '## [X.Y.Z] - YYYY-MM-DD'")
            continue
        try:
            day = datetime.date.fromisoformat(match.group(4))
        except ValueError:
            problems.append(f"{heading!r}: no such date")
            continue
        released.append((tuple(int(part) for part in match.group(1, 2, 3)), day))
        if not any(line.startswith("- ") for line in lines):
            problems.append(f"{heading!r} has no entry")
    if not released:
        problems.append("no released version")
    for (newer, newer_day), (older, older_day) in itertools.pairwise(released):
        if not (newer > older and newer_day >= older_day):
            problems.append(f"{newer} is not after {older}: newest first")
    return problems


def newest_release(text: str) -> str:
    match = RELEASED.search(text)
    assert match
    return ".".join(match.group(1, 2, 3))


def test_the_changelog_keeps_a_section_per_released_version() -> None:
    assert changelog_problems(CHANGELOG.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# Changelog\n\n## Unreleased\n\n## [0.1.0] - 2026-12-01\n\n- a\n", "first section"),
        ("# Changelog\n\n## [Unreleased]\n\n## 0.1.0\n\n- a\n", "is not '## [X.Y.Z]"),
        ("# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-02-30\n\n- a\n", "no such date"),
        ("# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-12-01\n\n", "has no entry"),
        ("# Changelog\n\n## [Unreleased]\n\n- a\n", "no released version"),
        (
            "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-12-01\n\n- a\n\n"
            "## [0.2.0] - 2026-12-02\n\n- b\n",
            "newest first",
        ),
    ],
)
def test_a_changelog_out_of_shape_is_found(text: str, problem: str) -> None:
    found = changelog_problems(text)
    assert any(problem in line for line in found), found


def test_the_version_has_one_source_and_every_reader_agrees(run: Run) -> None:
    """hatch reads __version__ (the built wheel agrees: tests/packaging/test_release.py);
    `reconciler --version` prints it; the changelog's newest release is it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"] == {"path": "reconciler/__init__.py"}
    assert run("--version") == (0, f"reconciler, version {__version__}\n", "")
    assert newest_release(CHANGELOG.read_text(encoding="utf-8")) == __version__


def release_workflow() -> Any:
    return YAML(typ="safe").load(RELEASE.read_text(encoding="utf-8"))


def test_the_release_runs_on_a_version_tag_only_with_no_default_permissions() -> None:
    workflow = release_workflow()
    assert workflow["on"] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_each_release_job_has_only_the_permissions_it_needs() -> None:
    jobs = release_workflow()["jobs"]
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "build": {"contents": "read"},
        "github-release": {"contents": "write", "id-token": "write", "attestations": "write"},
        "pypi": {"id-token": "write"},
    }
    assert jobs["github-release"]["needs"] == "build"
    assert jobs["pypi"]["needs"] == ["build", "github-release"]


def test_pypi_publishing_is_trusted_publishing_gated_on_a_repository_variable() -> None:
    pypi = release_workflow()["jobs"]["pypi"]
    assert pypi["if"] == "${{ vars.PYPI_PUBLISH == 'true' }}"
    assert pypi["environment"]["name"] == "pypi"
    (publish,) = [s for s in pypi["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    # No password or token: the OIDC token of `id-token: write` is the credential.
    assert publish["with"] == {"packages-dir": "release/dist/"}


def test_the_release_attests_and_attaches_the_files_the_build_job_tested() -> None:
    jobs = release_workflow()["jobs"]
    build = [s.get("name") or s["uses"] for s in jobs["build"]["steps"]]
    assert build.index("Build the sdist, then the wheel from it") < build.index(
        "Test the wheel in a fresh virtualenv"
    )
    steps = jobs["github-release"]["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[:3] == ["actions/download-artifact", "", "actions/attest-build-provenance"]
    assert "sha256sum --check --strict" in steps[1]["run"]
    assert steps[2]["with"] == {"subject-path": "release/dist/*"}
    assert "release/dist/* release/SHA256SUMS" in steps[3]["run"]


@pytest.mark.parametrize("path", [ACTION, RELEASE], ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_with_the_check_to_run(path: Path) -> None:
    values = [
        line.split("uses:", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]
    assert values
    for value in values:
        assert PIN.fullmatch(value), value


def lint_workflows() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "lint_workflows", ROOT / "scripts" / "lint_workflows.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_action_yml_as_a_workflow_keeps_every_step_line() -> None:
    lint = lint_workflows()
    text = ACTION.read_text(encoding="utf-8")
    workflow, offset = lint.action_as_workflow(text)
    lines, action_lines = workflow.splitlines(), text.splitlines()
    document = YAML(typ="safe").load(workflow)
    assert set(document["on"]["workflow_call"]["inputs"]) == set(
        YAML(typ="safe").load(text)["inputs"]
    )
    steps = document["jobs"]["action"]["steps"]
    assert steps == YAML(typ="safe").load(text)["runs"]["steps"]
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith("- name:"):
            assert action_lines[number + offset - 1] == line


def test_action_yml_metadata_is_clean_and_a_broken_one_is_found() -> None:
    lint = lint_workflows()
    text = ACTION.read_text(encoding="utf-8")
    assert lint.metadata_problems(text) == []
    broken = (
        text.replace("EXPECTED_VERSION: ${{ inputs.expected-version }}", "X: ${{ inputs.nope }}")
        .replace("      id: install\n", "      id: install\n      timeout: 5\n")
        .replace("    required: true\n", "    required: true\n    type: string\n", 1)
    )
    found = [str(problem) for problem in lint.metadata_problems(broken)]
    assert any("inputs.nope refers to nothing" in line for line in found), found
    assert any("unknown key 'timeout'" in line for line in found), found
    assert any("input 'command': unknown key 'type'" in line for line in found), found


def test_each_run_script_is_found_at_its_first_line() -> None:
    lint = lint_workflows()
    for path in [ACTION, RELEASE]:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        found = list(lint.run_scripts(text))
        assert len(found) == text.count("run: |") + text.count("run: cd ")
        for first, script in found:
            assert lines[first - 1].endswith(script.splitlines()[0].strip()), path.name
