"""The emitter of new snapshots files: a fixed layout, and strings written plain only where
YAML 1.1 and 1.2 readers alike read them back as that very string."""

from __future__ import annotations

import pytest
import yaml as yaml_1_1  # type: ignore[import-untyped]  # PyYAML (via pre-commit): YAML 1.1
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.yamlload import load_bytes
from reconciler.desired.export import (
    MODELINE,
    ExportedView,
    double_quoted,
    needs_quotes,
    render_document,
    scalar,
)
from support.factories import APP


def read_1_2(text: str) -> object:
    """As `validate` and `plan` read a snapshots file (YAML 1.2)."""
    document = load_bytes(text.encode())
    assert document.problems == ()
    return document.value


def read_1_1(text: str) -> object:
    return yaml_1_1.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "hero",
        "/checkout",
        "/product/[id]",
        "Checkout, desktop hero",
        "a:b",
        "a#b",
        "0f8f2c1a-2f0b-4a55-9c1d-0d3f5",
        "café ☕",
        "v1.2.3",
        "yes please",
        "x-",
    ],
)
def test_unambiguous_strings_are_written_plain(text: str) -> None:
    assert not needs_quotes(text)
    assert scalar(text) == text


@pytest.mark.parametrize(
    "text",
    [
        *("", " lead", "trail ", "tab\tin", "line\nbreak", "nbsp\u00a0", "bom\ufeff"),
        *("y", "N", "Yes", "off", "ON", "null", "~", "=", "<<", "true", "False"),
        *("1500", "-1", "+1", "1_000", "1:20", "1.5", ".5", "1e3", "0x1F", "0o17", "0b101"),
        *(".inf", "-.Inf", ".NaN", "2026-01-02", "2026-1-2 10:00:00"),
        *("-x", "?x", ":x", ",x", "[x", "]x", "{x", "}x", "#x", "&x", "*x", "!x", "|x", ">x"),
        *("'x", '"x', "%x", "@x", "`x", "...", "key:", "a: b", "a #b"),
    ],
)
def test_strings_a_yaml_reader_could_take_for_something_else_are_quoted(text: str) -> None:
    assert needs_quotes(text)
    assert scalar(text) == double_quoted(text)


def test_double_quoting_escapes_every_character_that_does_not_print() -> None:
    text = 'say "hi"\\\t\n\r\0\x07\x7f\x85\u00a0\u2028\ufeff\U000e0001 é ☕ 🎉'
    assert double_quoted(text) == (
        '"say \\"hi\\"\\\\\\t\\n\\r\\0\\x07\\x7f\\x85\\xa0\\u2028\\ufeff\\U000e0001 é ☕ 🎉"'
    )
    assert "\n" not in double_quoted("\n\u2028\u2029\x85")  # always one line


@given(st.text(max_size=40))
def test_any_string_reads_back_as_itself_in_yaml_1_1_and_1_2(text: str) -> None:
    line = f"{scalar(text)}: {scalar(text)}\n"
    assert read_1_2(line) == {text: text}
    assert read_1_1(line) == {text: text}


@pytest.mark.parametrize(
    ("value", "written"),
    [(True, "true"), (False, "false"), (0, "0"), (-7, "-7"), (2**63 - 1, "9223372036854775807")],
)
def test_booleans_and_integers_are_written_as_yaml_values(value: bool | int, written: str) -> None:
    assert scalar(value) == written
    assert read_1_2(f"k: {written}") == {"k": value}


def test_a_new_file_has_the_modeline_views_sorted_and_entries_in_order() -> None:
    views = [
        ExportedView(
            "/zeta",
            (
                {"snapshot_name": "yes", "device_type": "mobile", "event_id": "e", "start": 0},
                {
                    "snapshot_name": "b",
                    "device_type": "desktop",
                    "event_id": "1500",
                    "start": 2,
                    "is_device_type_selected_by_user": True,
                    "session_id": "s: 1",
                },
            ),
            (),
        ),
        ExportedView("/alpha", (), ()),
        ExportedView("- odd", (), ()),
    ]
    assert render_document(APP, views) == (
        f"{MODELINE}\n"
        f"application_id: {APP}\n"
        "views:\n"
        '  "- odd": []\n'
        "  /alpha: []\n"
        "  /zeta:\n"
        '    - snapshot_name: "yes"\n'
        "      device_type: mobile\n"
        "      event_id: e\n"
        "      start: 0\n"
        "    - snapshot_name: b\n"
        "      device_type: desktop\n"
        '      event_id: "1500"\n'
        "      start: 2\n"
        "      is_device_type_selected_by_user: true\n"
        '      session_id: "s: 1"\n'
    )


def test_an_alias_names_the_application_instead_of_its_id() -> None:
    text = render_document(APP, [ExportedView("/v", (), ())], alias="shop: eu")
    assert text == f'{MODELINE}\napplication: "shop: eu"\nviews:\n  /v: []\n'
    assert read_1_2(text) == {"application": "shop: eu", "views": {"/v": []}}
