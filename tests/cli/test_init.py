"""`reconciler init`: a new repository from nothing, then validate and the demo flow against
a real emulator; an existing repository keeps every file it had; nothing is overwritten or
written through a link; offline (no HTTP stack imported)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import serve_in_thread
from support.processes import env_for, reconciler

ROOT = Path(__file__).resolve().parents[2]
CREATED = [
    "reconciler.yaml",
    "schemas/config.schema.json",
    "schemas/snapshots.schema.json",
    "schemas/plan.schema.json",
    "snapshots/example.yaml",
    ".pre-commit-config.yaml",
    ".github/workflows/reconciler-validate.yml",
    ".github/workflows/reconciler-plan.yml",
    ".github/workflows/reconciler-apply.yml",
    ".github/workflows/reconciler-drift.yml",
]
OFFLINE = env_for("http://127.0.0.1:9")  # nothing listens there; init must not need it


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    return path


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts[:1]
    }


def test_init_in_an_empty_repository_then_validate_and_the_demo_flow(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    done = reconciler(["init"], repo, OFFLINE)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[: len(CREATED)] == [f"created {name}" for name in CREATED]
    assert lines[len(CREATED)] == f"{len(CREATED)} files created. Next:"
    assert sorted(files_of(repo)) == sorted(CREATED)

    valid = reconciler(["validate"], repo, OFFLINE)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert valid.stdout == "OK: 1 file, 1 snapshot, 1 view, config reconciler.yaml.\n"

    with serve_in_thread() as url:
        env = env_for(url)
        assert reconciler(["plan", "--detailed-exitcode"], repo, env).returncode == 2
        applied = reconciler(["apply", "--auto-approve"], repo, env)
        assert applied.returncode == 0, applied.stderr
        assert "Converged." in applied.stdout
        again = reconciler(["plan", "--detailed-exitcode"], repo, env)
        assert (again.returncode, again.stdout.strip()) == (0, "No changes.")
        stored = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
        assert [item["attributes"]["snapshot_name"] for item in stored] == ["Example, desktop"]


def test_the_written_files_are_the_recipes_and_schemas_of_this_repository(
    tmp_path: Path,
) -> None:
    repo = git_repo(tmp_path / "repo")
    assert reconciler(["init"], repo, OFFLINE).returncode == 0
    for name in ("config", "snapshots", "plan"):
        written = (repo / "schemas" / f"{name}.schema.json").read_bytes()
        assert written == (ROOT / "schemas" / f"{name}.schema.json").read_bytes()
    for recipe in (ROOT / "docs" / "ci" / "github").glob("*.yml"):
        written = repo / ".github" / "workflows" / recipe.name
        if recipe.name == "reconciler-environments.yml":
            # it replaces the plan, apply and drift workflows: only for `environments:`
            assert not written.exists()
            continue
        assert written.read_bytes() == recipe.read_bytes()


def test_init_again_skips_everything_and_changes_nothing(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    assert reconciler(["init"], repo, OFFLINE).returncode == 0
    (repo / "reconciler.yaml").write_text("prune: false\n")
    before = files_of(repo)
    again = reconciler(["init"], repo, OFFLINE)
    assert again.returncode == 0
    assert [line for line in again.stdout.splitlines() if line.startswith("skipped")] == [
        f"skipped {name} (snapshots/ already has snapshot files)"
        if name == "snapshots/example.yaml"
        else f"skipped {name} (exists)"
        for name in CREATED
    ]
    assert "0 files created. Next:" in again.stdout
    assert files_of(repo) == before


def test_an_existing_repository_keeps_its_files_and_gets_no_example(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    (repo / "snapshots" / "team").mkdir(parents=True)
    shop = (ROOT / "snapshots" / "storefront-shop.yaml").read_bytes()
    (repo / "snapshots" / "team" / "shop.yaml").write_bytes(shop)
    (repo / ".pre-commit-config.yaml").write_text("repos: []\n")
    done = reconciler(["init", "--ci", "gitlab"], repo, OFFLINE)
    assert done.returncode == 0, done.stderr
    assert "skipped snapshots/example.yaml (snapshots/ already has snapshot files)" in done.stdout
    assert "skipped .pre-commit-config.yaml (exists)" in done.stdout
    assert "created .gitlab-ci.yml" in done.stdout
    assert not (repo / ".github").exists()
    assert (repo / "snapshots" / "team" / "shop.yaml").read_bytes() == shop
    assert (repo / ".pre-commit-config.yaml").read_text() == "repos: []\n"
    assert reconciler(["validate"], repo, OFFLINE).returncode == 0


def test_links_are_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = git_repo(tmp_path / "repo")
    (repo / ".github").symlink_to(outside)
    (repo / "reconciler.yaml").symlink_to(outside / "config.yaml")  # dangling
    done = reconciler(["init"], repo, OFFLINE)
    assert done.returncode == 0, done.stderr
    assert "skipped reconciler.yaml (exists)" in done.stdout
    assert "skipped .github/workflows/reconciler-plan.yml (.github is a symbolic link)" in (
        done.stdout
    )
    assert list(outside.iterdir()) == []


def test_a_file_in_place_of_the_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    done = reconciler(["init", "file"], tmp_path, OFFLINE)
    assert done.returncode == 1
    assert "file" in done.stderr


@pytest.mark.parametrize("ci", ["github", "gitlab", "none"])
def test_init_imports_no_http_stack(tmp_path: Path, ci: str) -> None:
    code = (
        "import sys\n"
        "from reconciler.cli.main import main\n"
        f"code = main(['init', {str(tmp_path / 'repo')!r}, '--ci', {ci!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'httpcore', 'anyio', 'h11', 'ssl', 'socket', 'asyncio'))\n"
        "print(code, loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "0 []"
