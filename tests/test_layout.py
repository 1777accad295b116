"""The package's shape is part of its design (docs/architecture.md): one package per stage of
the pipeline, imports only going down it, no circles, and the emulator knowing nothing of
the engine. Read from the source with `ast`, so a new upward import fails here at once."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"

#: Each stage and how high it stands; a module may import its own stage and lower ones.
#: doctor and render stand side by side: neither imports the other.
STAGES = {
    "core": 0,
    "config": 1,
    "desired": 2,
    "api": 3,
    "plan": 4,
    "apply": 5,
    "render": 6,
    "doctor": 6,
    "cli": 7,
}
#: The emulator stands apart: it knows only the API contract, never the engine, and only
#: the command line starts it.
APART = "emulator"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _imported(module: str, path: Path) -> Iterator[str]:
    """The modules of the package that `module` imports (anywhere in it, at any depth)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                yield name


GRAPH = {module: set(_imported(module, path)) for module, path in MODULES.items()}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else module


def test_every_package_of_the_top_is_a_known_stage() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == {*STAGES, APART}
    files = {p.name for p in PACKAGE.glob("*.py")}
    assert files == {"__init__.py", "__main__.py"}


def _may_import(stage: str, other: str) -> bool:
    if other in ("reconciler", stage):  # the version, or a module of the same stage
        return True
    if APART in (stage, other):
        return other == APART and stage in ("cli", "__main__")
    return stage == "__main__" or STAGES[other] < STAGES[stage]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_down_the_pipeline(module: str) -> None:
    stage = _stage(module)
    upward = sorted(name for name in GRAPH[module] if not _may_import(stage, _stage(name)))
    assert upward == [], f"{module} imports a stage at or above its own"


def test_no_import_circles() -> None:
    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in GRAPH[todo.pop()]:
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    circles = sorted({tuple(sorted((a, b))) for a in GRAPH for b in GRAPH[a] if reaches(b, a)})
    assert circles == []
