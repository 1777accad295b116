"""`schemacheck.compile_schema` judges every part of both schemas as jsonschema does, on
values of every type: the one-closure leaves (a string with a least length and a pattern,
an integer in bounds) and the typed object and array checks (their "type" check left out)
included."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core import schemas
from reconciler.core.schemacheck import compile_schema

_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 0.0, 1.0, -1.0, 1.5, 2.0**63, 2.0**64]),
    st.floats(),  # NaN and the infinities included
    st.text(max_size=12),
    st.sampled_from(["", "a", "desktop", "prod", "9x", "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def parts(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every subschema, by its path in the file."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(path: str, part: Any) -> None:
        if not isinstance(part, dict):
            return
        found.append((path or "/", part))
        for keyword, arg in part.items():
            if keyword in ("properties", "$defs"):
                for name, sub in arg.items():
                    walk(f"{path}/{keyword}/{name}", sub)
            elif isinstance(arg, dict):
                walk(f"{path}/{keyword}", arg)

    walk("", schema)
    return found


PARTS = [
    (name, path, part)
    for name in (schemas.SNAPSHOTS, schemas.CONFIG)
    for path, part in parts(schemas.load_schema(name))
]


@pytest.mark.parametrize(("name", "path", "part"), PARTS, ids=[f"{n}{p}" for n, p, _ in PARTS])
@_SETTINGS
@given(value=values)
def test_every_part_judges_values_as_jsonschema_does(
    name: str, path: str, part: dict[str, Any], value: Any
) -> None:
    schema = schemas.load_schema(name)
    fast = compile_schema(schema, part)(value)
    validator = jsonschema.Draft202012Validator({"$defs": schema.get("$defs", {}), **part})
    assert fast == validator.is_valid(value), (path, value)
