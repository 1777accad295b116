"""`reconciler init [DIRECTORY]`: start a repository of snapshot files.

Writes reconciler.yaml, schemas/ (the three JSON Schemas), an example snapshots file, a
pre-commit configuration and the CI recipes of docs/ci/, never overwriting anything: each
file is created exclusively (`open(..., "x")`, which also refuses a symlink), and every
file is listed as created or skipped. Offline: imports nothing of the HTTP stack.

The CI recipes and schemas have one source each (docs/ci/, schemas/): a wheel carries
copies at reconciler/templates/ci/ and reconciler/schemas/ (pyproject's force-include); a
source checkout reads them from the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from reconciler.core import exitcodes, schemas
from reconciler.core.errors import ReconcilerError
from reconciler.core.output import echo

_SOURCE_ROOT: Final = Path(__file__).resolve().parents[3]
SCHEMAS: Final = ("config.schema.json", "snapshots.schema.json", "plan.schema.json")
GITHUB_RECIPES: Final = (
    "reconciler-validate.yml",
    "reconciler-plan.yml",
    "reconciler-apply.yml",
    "reconciler-drift.yml",
)
EXAMPLE: Final = "snapshots/example.yaml"


@dataclass(frozen=True)
class Planned:
    """One file to write: where (relative to the directory) and its text."""

    path: str
    text: str


def template(name: str) -> str:
    """A file of reconciler/templates/ (packaged, or in the source tree)."""
    return resources.files("reconciler").joinpath("templates", name).read_text(encoding="utf-8")


def recipe(ci: str, name: str) -> str:
    """A CI recipe: the wheel's copy, else docs/ci/ of the source checkout."""
    packaged = resources.files("reconciler").joinpath("templates", "ci", ci, name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (_SOURCE_ROOT / "docs" / "ci" / ci / name).read_text(encoding="utf-8")


def planned_files(ci: str) -> list[Planned]:
    files = [Planned("reconciler.yaml", template("reconciler.yaml"))]
    files += [Planned(f"schemas/{name}", schemas.schema_text(name)) for name in SCHEMAS]
    files.append(Planned(EXAMPLE, template("example.yaml")))
    files.append(Planned(".pre-commit-config.yaml", template("pre-commit-config.yaml")))
    if ci == "github":
        files += [Planned(f".github/workflows/{n}", recipe("github", n)) for n in GITHUB_RECIPES]
    elif ci == "gitlab":
        files.append(Planned(".gitlab-ci.yml", recipe("gitlab", ".gitlab-ci.yml")))
    return files


def has_snapshot_files(folder: Path) -> bool:
    return folder.is_dir() and any(
        path.suffix in (".yaml", ".yml") for path in folder.rglob("*") if not path.is_symlink()
    )


def write_new(root: Path, relative: str, text: str) -> str | None:
    """Create the file; None when created, else why it was skipped."""
    path = root / relative
    parent = path.parent
    for folder in [parent, *parent.parents]:
        if folder == root or root not in folder.parents:
            break
        if folder.is_symlink():
            return f"{folder.relative_to(root)} is a symbolic link"
        if folder.exists() and not folder.is_dir():
            return f"{folder.relative_to(root)} is not a folder"
    parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as file:
            file.write(text)
    except FileExistsError:
        return "exists"
    return None


def run(*, directory: str, ci: str) -> int:
    """Create what is missing, list what was created and skipped; exit 0."""
    try:
        return _create(directory, ci)
    except OSError as exc:  # a name too long, a folder that cannot be made or written in
        raise ReconcilerError(f"cannot write in {directory}: {exc.strerror or exc}") from None


def _create(directory: str, ci: str) -> int:
    root = Path(directory)
    if root.exists() and not root.is_dir():
        echo(f"error: {directory} is not a folder", err=True)
        return exitcodes.ERROR
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    example_skipped = has_snapshot_files(root / "snapshots")
    created: list[str] = []
    for item in planned_files(ci):
        if item.path == EXAMPLE and example_skipped:
            echo(f"skipped {item.path} (snapshots/ already has snapshot files)")
            continue
        why = write_new(root, item.path, item.text)
        if why is None:
            created.append(item.path)
            echo(f"created {item.path}")
        else:
            echo(f"skipped {item.path} ({why})")
    echo(f"{len(created)} files created. Next:")
    for step in next_steps(ci, example_created=EXAMPLE in created):
        echo(f"  {step}")
    return exitcodes.OK


def next_steps(ci: str, *, example_created: bool) -> list[str]:
    steps = []
    if example_created:
        steps.append(f"edit {EXAMPLE} (your application id and views), or replace it with")
        steps.append("  reconciler export --application-id ID --view V --output snapshots/app.yaml")
    steps.append("reconciler validate")
    if ci == "github":
        steps.append(
            "in .github/workflows/, replace OWNER/heatmap-reconciler@000... with the commit you"
        )
        steps.append(
            "  chose, verify the pinned action commits, and set the DD_SITE variable and the"
        )
        steps.append("  DD_API_KEY / DD_APP_KEY secrets (docs/ci/README.md of heatmap-reconciler)")
    elif ci == "gitlab":
        steps.append("in .gitlab-ci.yml, set RECONCILER_IMAGE (make image) and the CI variables")
    return steps
