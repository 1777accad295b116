"""The schemas: where their files are read from (the installed package's copy first, else
the source checkout's schemas/ folder), and checking values against them: every verdict is
jsonschema's, and the shortcut in front of it vouches only for what jsonschema accepts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core import schemas
from reconciler.core.yamlload import load_bytes
from reconciler.core.yamlscalar import INVALID


def test_the_packaged_copy_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / schemas.SNAPSHOTS).write_text('{"packaged": true}')
    monkeypatch.setattr(schemas, "_PACKAGE_DIR", tmp_path)
    assert schemas.schema_text(schemas.SNAPSHOTS) == '{"packaged": true}'


def test_a_source_checkout_reads_its_schemas_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schemas, "_PACKAGE_DIR", tmp_path)  # no reconciler/schemas/ here
    source = Path(schemas.__file__).resolve().parents[2] / "schemas" / schemas.CONFIG
    assert schemas.schema_text(schemas.CONFIG) == source.read_text(encoding="utf-8")


# -- the shortcut, part by part, against jsonschema -----------------------------------------

_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bounds_of(part: Any) -> set[float]:
    """Each bound the schemas set on numbers, and the numbers around it."""
    found: set[float] = set()
    if isinstance(part, dict):
        for keyword, arg in part.items():
            if keyword in ("minimum", "maximum"):
                found |= {arg - 1, arg - 0.5, arg, arg + 0.5, arg + 1}
            found |= bounds_of(arg)
    return found


BOUNDS = sorted(
    bounds_of(schemas.load_schema(schemas.SNAPSHOTS))
    | bounds_of(schemas.load_schema(schemas.CONFIG))
)

scalars = st.one_of(
    st.sampled_from(BOUNDS),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 0.0, 1.0, -1.0, 1.5, 2.0**63, 2.0**64]),
    st.floats(),  # NaN and the infinities included
    st.text(max_size=12),
    st.sampled_from(["", "a", "desktop", "prod", "9x", "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"]),
    st.just(INVALID),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def parts(schema: dict[str, Any]) -> list[tuple[str, ...]]:
    """The key path of every subschema."""
    found: list[tuple[str, ...]] = []

    def walk(path: tuple[str, ...], part: Any) -> None:
        if not isinstance(part, dict):
            return
        found.append(path)
        for keyword, arg in part.items():
            if keyword in ("properties", "$defs"):
                for name, sub in arg.items():
                    walk((*path, keyword, name), sub)
            elif isinstance(arg, dict):
                walk((*path, keyword), arg)

    walk((), schema)
    return found


PARTS = [
    (name, path)
    for name in (schemas.SNAPSHOTS, schemas.CONFIG)
    for path in parts(schemas.load_schema(name))
]


@pytest.mark.parametrize(("name", "path"), PARTS, ids=[f"{n}/{'/'.join(p)}" for n, p in PARTS])
@_SETTINGS
@given(value=values)
def test_every_part_vouches_only_for_what_jsonschema_accepts(
    name: str, path: tuple[str, ...], value: Any
) -> None:
    schema = schemas.load_schema(name)
    part: Any = schema
    for key in path:
        part = part[key]
    verdict = jsonschema.Draft202012Validator({"$defs": schema.get("$defs", {}), **part}).is_valid(
        value
    )
    assert schemas.is_valid(name, value, *path) == verdict, (path, value)
    assert verdict or not schemas.shortcut(name, path)(value), (path, value)


CONFIG = """\
site: datadoghq.eu
snapshots: desired
prune: false
page_limit: 500
server_page_cap: 1000.0
parallelism: 8
safety: {max_delete_fraction: 0.5, max_update_fraction: 1, min_existing: 3}
ignore: ['manual-*']
environments:
  staging:
    api_url: http://127.0.0.1:9001
    api_key_env: DD_API_KEY_STAGING
    app_key_env: DD_APP_KEY_STAGING
    applications: {storefront: 11111111-1111-4111-8111-111111111111}
    parallelism: 2
    safety: {min_existing: 0}
    ignore: []
"""


def test_the_shortcut_vouches_for_a_config_with_every_setting() -> None:
    """What people write takes the shortcut: no keyword of the config schema is unknown to it."""
    config = load_bytes(CONFIG.encode()).value
    assert schemas.shortcut(schemas.CONFIG)(config)
    config["environments"]["staging"]["api_key_env"] = "API_KEY"
    assert not schemas.shortcut(schemas.CONFIG)(config)
    assert not schemas.is_valid(schemas.CONFIG, config)


@pytest.fixture
def schema_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A schema of the test's own, read as the installed package's copy."""
    (tmp_path / "schemas").mkdir()
    monkeypatch.setattr(schemas, "_PACKAGE_DIR", tmp_path)
    cached = (schemas.load_schema, schemas.shortcut, schemas._validator)
    for function in cached:
        function.cache_clear()
    yield tmp_path / "schemas" / "test.schema.json"
    for function in cached:
        function.cache_clear()


def test_a_keyword_the_shortcut_does_not_know_leaves_the_verdict_to_jsonschema(
    schema_file: Path,
) -> None:
    schema_file.write_text(
        json.dumps({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}})
    )
    assert schemas.shortcut("test.schema.json")({"b": 1})
    assert not schemas.shortcut("test.schema.json")({"a": "x"})
    assert schemas.is_valid("test.schema.json", {"a": "x"})
    assert not schemas.is_valid("test.schema.json", {"a": 1})
