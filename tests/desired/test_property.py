"""Property tests: no input makes the validator raise; every verdict is jsonschema's, and the
shortcut in front of it vouches only for what jsonschema accepts."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler.core import schemas
from reconciler.core.yamlload import PosDict, load_bytes
from reconciler.desired import load as desired

_FOLDER = Path(tempfile.mkdtemp(prefix="desired-property-"))
_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["desktop", "mobile", "tablet", "", "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
snapshot_items = st.fixed_dictionaries(
    {
        "snapshot_name": st.one_of(st.text(max_size=10), values),
        "device_type": st.one_of(
            st.sampled_from(["desktop", "mobile", "tablet", "Desktop"]), values
        ),
        "event_id": st.one_of(st.text(max_size=10), values),
        "start": st.one_of(st.integers(min_value=-5, max_value=2**64), values),
    },
    optional={
        "is_device_type_selected_by_user": st.one_of(st.booleans(), values),
        "session_id": st.one_of(st.text(max_size=5), values),
        "view_id": st.text(max_size=5),
        "snapshot_nme": st.text(max_size=5),
    },
)
documents = st.fixed_dictionaries(
    {
        "application_id": st.one_of(
            st.just("6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"), st.uuids().map(str), values
        ),
        "views": st.one_of(
            st.dictionaries(
                st.text(max_size=6),
                st.one_of(st.lists(snapshot_items, max_size=3), values),
                max_size=3,
            ),
            values,
        ),
    },
    optional={"extra": values},
)


def dump(value: Any) -> str:
    stream = io.StringIO()
    yaml = YAML(typ="safe")  # the C emitter: its output is what libyaml parses
    yaml.dump(value, stream)
    return stream.getvalue()


def validate_bytes(data: bytes) -> None:
    path = _FOLDER / "f.yaml"
    path.write_bytes(data)
    state, problems = desired.load_desired([path])
    for problem in problems:
        assert problem.line >= 1
        assert problem.col >= 1
        assert problem.message
    assert len(state.snapshots) <= data.count(b"snapshot_name") + data.count(b"*")


@_SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    validate_bytes(text.encode("utf-8", "surrogatepass"))


@_SETTINGS
@given(st.text(alphabet="[]{}:-,&*!|>?'\"#%@` \t\nab01.~", max_size=200))
def test_yaml_punctuation_soup_never_raises(text: str) -> None:
    validate_bytes(text.encode())


@_SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    validate_bytes(data)


@_SETTINGS
@given(values)
def test_arbitrary_yaml_structures_never_raise(value: Any) -> None:
    validate_bytes(dump(value).encode())


@_SETTINGS
@given(documents)
def test_verdicts_are_jsonschemas(document: dict[str, Any]) -> None:
    text = dump(document)
    validate_bytes(text.encode())
    loaded = load_bytes(text.encode()).value
    assert isinstance(loaded, PosDict)
    verdict = jsonschema.Draft202012Validator(schemas.load_schema(schemas.SNAPSHOTS)).is_valid(
        loaded
    )
    assert schemas.is_valid(schemas.SNAPSHOTS, loaded) == verdict
    assert verdict or not schemas.shortcut(schemas.SNAPSHOTS)(loaded)


config_documents = st.dictionaries(
    st.sampled_from(
        [
            "site",
            "api_url",
            "snapshots",
            "prune",
            "page_limit",
            "parallelism",
            "safety",
            "ignore",
            "api_key",
            "x",
        ]
    ),
    values,
    max_size=5,
)


@_SETTINGS
@given(st.one_of(config_documents.map(dump), st.text(max_size=200)))
def test_config_reading_never_raises(text: str) -> None:
    from reconciler.config.settings import read_config

    path = _FOLDER / "reconciler.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    values, problems = read_config(str(path))
    assert isinstance(values, dict)
    assert all(problem.line >= 1 and problem.col >= 1 for problem in problems)
