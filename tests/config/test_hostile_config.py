"""Property: whatever reconciler.yaml and the environment variables hold (any text, any value
for each setting, environments included), `validate` and `plan` answer with a positioned
problem or a one-line message, never an internal error."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.api.runtime import Runtime
from reconciler.cli.main import main
from reconciler.config.sites import SITES
from reconciler.emulator import EmulatorSettings, create_app
from reconciler.emulator.app import emulator_of
from support.cli_runner import Run
from support.factories import APP
from support.hostile_values import (
    BOUNDED,
    assert_handled,
    environment,
    environment_text,
    file_text,
    file_values,
)
from support.workspace import DEAD_URL, Workspace, snapshot

_URLS = st.sampled_from(("http://127.0.0.1:9", "http://[::1]:9", "https://localhost"))
_IDS = st.just(APP) | file_text
_COUNTS = st.integers(-(2**70), 2**70) | st.integers(1, 2000) | st.floats()
_FRACTIONS = st.floats(0, 1) | st.floats()

#: For each setting: a value that passes the file's schema or could (so that the loader gets
#: past its first check), or hostile text of the setting's kind. Any other value of any type
#: comes from `file_values`.
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "site": st.sampled_from(SITES) | file_text,
    "api_url": _URLS
    | st.builds("{}{}".format, st.sampled_from(("http://", "https://")), file_text),
    "snapshots": st.sampled_from(("snapshots", "./snapshots/", "missing", "snapshots/a.yaml"))
    | st.builds("snapshots/{}".format, file_text)
    | file_text,
    "prune": st.booleans(),
    "page_limit": _COUNTS,
    "server_page_cap": _COUNTS,
    "parallelism": st.integers(1, 64) | _COUNTS,
    "ignore": st.lists(st.sampled_from(("*", "keep-*", "[")) | file_text, max_size=2),
    "api_key_env": st.sampled_from(("DD_API_KEY_X", "DD_API_KEY", "DD_" + "X" * 124)) | file_text,
    "app_key_env": st.sampled_from(("DD_APP_KEY_X", "DD_APP_KEY")) | file_text,
    "applications": st.dictionaries(st.sampled_from(("shop", "a.b")) | file_text, _IDS, max_size=2),
    "max_delete_fraction": _FRACTIONS,
    "max_update_fraction": _FRACTIONS,
    "min_existing": _COUNTS,
}
_TOP = (
    "site",
    "api_url",
    "snapshots",
    "prune",
    "page_limit",
    "server_page_cap",
    "parallelism",
    "ignore",
)
#: An environment's section: the settings but the snapshots folder, and where its keys are.
_SECTION = (*(key for key in _TOP if key != "snapshots"), "api_key_env", "app_key_env")
_SECTION += ("applications",)
_SAFETY = ("max_delete_fraction", "max_update_fraction", "min_existing")


def _mapping(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the settings `keys`, each with a value of its kind or, rarely, any value."""
    return st.lists(st.sampled_from(keys), max_size=4, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries(
            {key: st.one_of(*[_VALUES[key]] * 3, file_values) for key in chosen}
        )
    )


_SAFETY_BLOCK = _mapping(_SAFETY) | file_values
_SECTIONS = st.dictionaries(
    st.sampled_from(("prod", "staging", "a-b", "X" * 64)) | file_text,
    st.one_of(
        st.tuples(_mapping(_SECTION), _SAFETY_BLOCK).map(lambda s: {**s[0], "safety": s[1]}),
        _mapping(_SECTION),
        file_values,
    ),
    max_size=2,
)
_DOCUMENTS = st.tuples(
    _mapping(_TOP),
    st.none() | _SAFETY_BLOCK,
    st.none() | _SECTIONS | _SECTIONS | file_values,
    st.just({}) | st.just({}) | st.dictionaries(file_text, file_values, max_size=1),  # unknown
).map(
    lambda parts: {
        **parts[0],
        **({} if parts[1] is None else {"safety": parts[1]}),
        **({} if parts[2] is None else {"environments": parts[2]}),
        **parts[3],
    }
)


def _yaml_printable(character: str) -> bool:
    """Whether YAML lets `character` stand as it is in a file (YAML 1.2, 5.1)."""
    code = ord(character)
    return (
        character in "\t\n\r\x85"
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )


def yaml_document(value: Any) -> bytes:
    """`value` as a YAML file: JSON (which is YAML) with each character YAML may not hold
    as it is written as YAML's escape of it (a lone surrogate too: the file is then a
    syntax error, as it would be anywhere)."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(
        char if _yaml_printable(char) else f"\\u{ord(char):04x}" for char in text
    ).encode()


#: The file as its bytes: a document of settings (NUL and other characters as YAML escapes),
#: or any text, or any bytes.
config_files = st.one_of(
    _DOCUMENTS.map(yaml_document),
    _DOCUMENTS.map(yaml_document),
    _DOCUMENTS.map(yaml_document),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=100),
)

_VARIABLES = (
    "DD_SITE",
    "RECONCILER_API_URL",
    "RECONCILER_SNAPSHOTS",
    "RECONCILER_PRUNE",
    "RECONCILER_PAGE_LIMIT",
    "RECONCILER_SERVER_PAGE_CAP",
    "RECONCILER_PARALLELISM",
    "RECONCILER_ALLOWED_HOSTS",
    "DD_API_KEY",
    "DD_APP_KEY",
    "DD_API_KEY_PROD",
    "DD_APP_KEY_PROD",
    "NO_COLOR",
)
variables = st.dictionaries(st.sampled_from(_VARIABLES), environment_text, max_size=4)

#: How a run chooses among the environments: none, one by name, or all.
selections = st.sampled_from(((), ("--env", "prod"), ("--all-envs",)))


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    application = create_app(EmulatorSettings())
    yield application
    emulator_of(application).store.close()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_API_KEY", "hostile-config-api-key-012345678")
    monkeypatch.setenv("DD_APP_KEY", "hostile-config-app-key-0123456789abcdef0")


def answers(argv: list[str], app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(argv, runtime=Runtime(transport=httpx.ASGITransport(app=app)))
    out, err = capsys.readouterr()
    assert_handled(code, out, err)


@BOUNDED
@given(config=config_files, given_variables=variables, selection=selections)
def test_no_config_file_or_variable_makes_an_internal_error(
    app: Any,
    keys: None,
    capsys: pytest.CaptureFixture[str],
    config: bytes,
    given_variables: dict[str, str],
    selection: tuple[str, ...],
) -> None:
    with tempfile.TemporaryDirectory() as folder, environment(given_variables):
        root = Path(folder)
        (root / "reconciler.yaml").write_bytes(config)
        (root / "snapshots").mkdir()
        document = {"application_id": APP, "views": {"/v": [snapshot("s")]}}
        (root / "snapshots" / "a.yaml").write_text(json.dumps(document))
        previous = os.getcwd()
        os.chdir(root)
        try:
            answers(["validate"], app, capsys)
            answers(["plan", *selection], app, capsys)
        finally:
            os.chdir(previous)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("key-\udcff-0001", "it holds a character a key cannot have (keys are letters and digits)"),
        ("key\n0001-0001", "it holds whitespace"),
        ("key 0001 0001", "it holds whitespace"),
    ],
)
@pytest.mark.parametrize("variable", ["DD_API_KEY", "DD_APP_KEY"])
def test_a_key_no_request_can_carry_is_named_not_shown(
    ws: Workspace, run: Run, variable: str, key: str, problem: str
) -> None:
    """Found by the property above: a key that is not UTF-8 crashed the first request."""
    ws.write_snapshots({"/v": [snapshot("s")]})
    with environment({variable: key.ljust(40, "0")}):
        code, out, err = run("plan", "--api-url", DEAD_URL)
    assert (code, out) == (1, "")
    assert err == (
        f"error: {variable} cannot be a Datadog key: {problem} (the value is not shown: it may"
        " be a key)\n"
    )
