"""The release workflow's build job, run locally: its `run:` steps, as the runner runs them
(bash, the step's env resolved), in a clone of this repository tagged with the package
version. What needs GitHub (checkout, upload, the release, provenance, PyPI) is not run;
everything those steps are given is made and checked here: the sdist and the wheel built
once, their checksums, the wheel installed in a fresh virtualenv reporting the version
that the tag, reconciler/__init__.py and CHANGELOG.md name."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from action_runner import read_outputs, resolve
from dist_support import ROOT, clean_env, source_tree
from ruamel.yaml import YAML

from reconciler import __version__

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
WHEEL = f"heatmap_reconciler-{__version__}-py3-none-any.whl"
SDIST = f"heatmap_reconciler-{__version__}.tar.gz"


def build_steps() -> list[dict[str, Any]]:
    workflow = YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))
    return [step for step in workflow["jobs"]["build"]["steps"] if "run" in step]


def run_steps(
    repo: Path, tag: str, steps: list[dict[str, Any]], outputs: dict[str, dict[str, str]]
) -> list[subprocess.CompletedProcess[str]]:
    """Run the steps in order until one fails; `outputs` collects each step's outputs."""
    temp = repo.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    bin_dir = temp / "python-bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python").exists():
        (bin_dir / "python").symlink_to(sys.executable)  # what setup-python provides
    done = []
    for step in steps:
        context = {
            "github": {"ref_name": tag},
            "steps": {k: {"outputs": v} for k, v in outputs.items()},
        }
        output_file = temp / "github_output"
        output_file.write_text("")
        env = {
            **clean_env(),
            **{key: resolve(value, context) for key, value in (step.get("env") or {}).items()},
            "PATH": f"{bin_dir}:{clean_env()['PATH']}",
            "RUNNER_TEMP": str(temp),
            "GITHUB_OUTPUT": str(output_file),
        }
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        done.append(result)
        if "id" in step:
            outputs[step["id"]] = read_outputs(output_file)
        if result.returncode != 0:
            break
    return done


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the repository, committed (the build takes its file times from it)."""
    repo = source_tree(tmp_path_factory.mktemp("release") / "heatmap-reconciler")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "release"], cwd=repo, check=True)
    return repo


@pytest.fixture(scope="module")
def built(tagged: Path) -> dict[str, Any]:
    outputs: dict[str, dict[str, str]] = {}
    done = run_steps(tagged, f"v{__version__}", build_steps(), outputs)
    return {"repo": tagged, "done": done, "outputs": outputs}


def test_the_build_job_builds_checks_and_tests_the_distributions(built: dict[str, Any]) -> None:
    done = built["done"]
    assert len(done) == len(build_steps())
    for result in done:
        assert result.returncode == 0, result.stdout + result.stderr
    assert built["outputs"]["version"] == {"version": __version__}
    dist = built["repo"] / "dist"
    assert sorted(path.name for path in dist.iterdir()) == sorted([SDIST, WHEEL])
    sums = (built["repo"] / "SHA256SUMS").read_text()
    assert sums == "".join(
        f"{hashlib.sha256((dist / name).read_bytes()).hexdigest()}  {name}\n"
        for name in (SDIST, WHEEL)
    )
    assert done[-1].stdout.splitlines()[-1] == (
        f"reconciler, version {__version__}: installed from the wheel,"
        " the sample snapshots are valid"
    )


def test_the_wheel_the_cli_and_the_changelog_name_one_version(built: dict[str, Any]) -> None:
    with zipfile.ZipFile(built["repo"] / "dist" / WHEEL) as wheel:
        metadata = wheel.read(f"heatmap_reconciler-{__version__}.dist-info/METADATA").decode()
    assert f"\nVersion: {__version__}\n" in metadata
    changelog = (ROOT / "CHANGELOG.md").read_text()
    heading = f"\n## [{__version__}] - "
    assert heading in changelog
    section = changelog.split(heading, 1)[1].split("\n", 1)[1].split("\n## ", 1)[0]
    assert (built["repo"] / "release-notes.md").read_text() == section.rstrip("\n") + "\n"


def test_a_tampered_distribution_fails_the_test_step(built: dict[str, Any]) -> None:
    repo: Path = built["repo"]
    wheel = repo / "dist" / WHEEL
    original = wheel.read_bytes()
    try:
        wheel.write_bytes(original + b"\0")
        (test_step,) = [s for s in build_steps() if s["name"].startswith("Test the wheel")]
        outputs = {"version": {"version": __version__}}
        (result,) = run_steps(repo, f"v{__version__}", [test_step], outputs)
    finally:
        wheel.write_bytes(original)
    assert result.returncode != 0
    assert f"{WHEEL}: FAILED" in result.stdout


def test_a_tag_that_is_not_the_version_stops_before_building(tmp_path: Path) -> None:
    repo = source_tree(tmp_path / "heatmap-reconciler")
    (result,) = run_steps(repo, "v9.9.9", build_steps(), {})
    assert result.returncode == 1
    assert result.stdout == (
        f"::error::the tag v9.9.9 is not v{__version__}, the version in reconciler/__init__.py\n"
    )
    assert not (repo / "dist").exists()
