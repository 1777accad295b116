"""The corpus: every bad file gives exactly its expected lines; good files pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core import schemas
from reconciler.core.yamlload import PosDict, load_bytes
from reconciler.desired import load as desired
from support.cli_runner import CORPUS, REPO, Run

BAD = sorted((CORPUS / "bad").glob("*.yaml"))
GOOD = sorted((CORPUS / "good").glob("*.y*ml"))


def test_corpus_is_large_enough() -> None:
    assert len(BAD) >= 30
    assert all(path.with_suffix(".expected").is_file() for path in BAD)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_file_gives_exact_lines(path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    code, out, err = run("validate", path.name)
    assert out == path.with_suffix(".expected").read_text(encoding="utf-8")
    assert code == 1
    assert err == ""


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_file_passes(path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    code, out, _ = run("validate", path.name)
    assert code == 0, out
    assert out.startswith("OK: 1 file, ")


def test_example_snapshots_of_the_repository_validate(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    code, out, _ = run("validate", "snapshots")
    assert code == 0, out
    state, problems = desired.load_desired([REPO / "snapshots"])
    assert problems == []
    assert len(state.snapshots) >= 20
    assert len({view.scope.application_id for view in state.views}) >= 2
    assert {snap.key.device_type for snap in state.snapshots} == {"desktop", "mobile", "tablet"}


@pytest.mark.parametrize("path", BAD + GOOD, ids=lambda p: p.name)
def test_verdicts_on_the_corpus_are_jsonschemas(path: Path) -> None:
    """Every corpus document is judged as jsonschema judges it; the shortcut vouches for
    every good file (they are what people write) and for none that jsonschema refuses."""
    import jsonschema

    document = load_bytes(path.read_bytes())
    if not isinstance(document.value, PosDict):
        return
    verdict = jsonschema.Draft202012Validator(schemas.load_schema(schemas.SNAPSHOTS)).is_valid(
        document.value
    )
    assert schemas.is_valid(schemas.SNAPSHOTS, document.value) == verdict
    vouched = schemas.shortcut(schemas.SNAPSHOTS)(document.value)
    assert verdict or not vouched
    assert vouched or path not in GOOD
