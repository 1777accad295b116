"""Seed files and the demo org: what the emulator starts with (`--seed FILE`, `--demo`)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from reconciler.emulator import serve_in_thread
from reconciler.emulator.seedfile import (
    MAX_PROBLEMS,
    SeedFileError,
    SeedRefused,
    demo_items,
    parse_seed_text,
    read_seed_file,
)
from reconciler.emulator.server import build_server
from reconciler.emulator.settings import EmulatorSettings
from support.emulatorkit import attributes

ROOT = Path(__file__).resolve().parents[2]


def line(**changes: Any) -> str:
    return json.dumps({**attributes(), **changes})


def problems_of(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(SeedFileError) as caught:
        parse_seed_text(text)
    return [(p.line, p.col, p.message) for p in caught.value.problems]


def test_a_seed_file_is_one_object_of_attributes_a_line_with_comments_and_blanks() -> None:
    text = "# two snapshots\n\n" + line(snapshot_name="a") + "\n" + line(snapshot_name="b")
    items = parse_seed_text(text)
    assert [item[0]["snapshot_name"] for item in items] == ["a", "b"]
    assert [item[1:] for item in items] == [(None, None), (None, None)]


def test_timestamps_of_a_seed_line_are_kept() -> None:
    (item,) = parse_seed_text(line(created_at="2026-01-02T03:04:05.678Z"))
    assert item[1:] == (1767323045678, None)  # modified_at: created_at, as stored


def test_every_problem_is_reported_with_its_line_and_column() -> None:
    bad_type = line(start="1500")
    text = "\n".join(
        [
            "# header",
            bad_type,
            "[1, 2]",
            '{"view_name": ',
            line(created_at="yesterday"),
            line(colour="red"),
            '{"application_id": "\\ud800"}',
            "NaN",
        ]
    )
    assert problems_of(text) == [
        (2, bad_type.index('"start"') + 1, "attribute 'start' must be an integer"),
        (3, 1, "a line must be a JSON object of attributes"),
        (4, 15, "invalid JSON: Expecting value"),
        (
            5,
            line(created_at="yesterday").index('"created_at"') + 1,
            "'created_at' is not an ISO-8601 timestamp: 'yesterday'",
        ),
        (6, line(colour="red").index('"colour"') + 1, "unknown attribute 'colour'"),
        (7, 1, "a lone surrogate escape (\\ud800-\\udfff)"),
        (8, 1, "invalid JSON: NaN is not JSON"),
    ]


def test_missing_attributes_are_named() -> None:
    assert problems_of('{"start": 1}') == [
        (1, 1, f"missing required attribute '{name}'")
        for name in (
            "application_id",
            "view_name",
            "device_type",
            "snapshot_name",
            "event_id",
            "is_device_type_selected_by_user",
        )
    ]


def test_a_file_that_cannot_be_read_is_a_problem_at_its_first_line(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError) as caught:
        read_seed_file(tmp_path / "missing.jsonl")
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (1, 1)
    assert problem.message == "cannot read: No such file or directory"
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(line().encode() + b"\n{\xff}\n")
    with pytest.raises(SeedFileError) as caught:
        read_seed_file(binary)
    assert [(p.line, p.col, p.message) for p in caught.value.problems] == [
        (2, 2, "not valid UTF-8")
    ]


def test_bad_seed_file_exits_1_with_positions_and_no_traceback(tmp_path: Path, run: Any) -> None:
    path = tmp_path / "seed.jsonl"
    path.write_text(line() + "\n" + line(start=-1.5) + "\n", encoding="utf-8")
    code, out, err = run("emulator", "--seed", str(path), "--port", "0")
    column = line(start=-1.5).index('"start"') + 1
    assert (code, out) == (1, "")
    assert err == f"{path}:2:{column}: attribute 'start' must be an integer\n"


def test_the_demo_org_is_the_repository_s_example_files() -> None:
    """`--demo` holds exactly what snapshots/ declares, so the examples plan no changes."""
    expected = set()
    for path in sorted((ROOT / "snapshots").glob("*.yaml")):
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        for view, snapshots in document["views"].items():
            for snapshot in snapshots:
                full = {
                    "application_id": document["application_id"],
                    "view_name": view,
                    "is_device_type_selected_by_user": False,
                    **snapshot,
                }
                expected.add(json.dumps(full, sort_keys=True))
    seeded = {json.dumps(item[0], sort_keys=True) for item in demo_items()}
    assert seeded == expected
    assert len(seeded) == len(demo_items())


def test_a_seeded_server_lists_the_seed_through_the_api() -> None:
    items = parse_seed_text(line(view_name="/seeded", snapshot_name="one"))
    with serve_in_thread(EmulatorSettings(), seed=items) as url:
        stored = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
        assert [s["attributes"]["snapshot_name"] for s in stored] == ["one"]
        listed = httpx.get(
            f"{url}/api/v2/replay/heatmap/snapshots",
            params={"filter[view_name]": "/seeded"},
            headers={"DD-API-KEY": "k", "DD-APPLICATION-KEY": "k"},
        )
        assert [s["id"] for s in listed.json()["data"]] == [stored[0]["id"]]


def test_seed_view_names_are_stored_as_the_api_would_store_them() -> None:
    items = parse_seed_text(line(view_name="/Shop/Cart/"))
    with serve_in_thread(EmulatorSettings(normalize_view_names=True), seed=items) as url:
        stored = httpx.get(f"{url}/_emulator/snapshots").json()["data"]
        assert stored[0]["attributes"]["view_name"] == "/shop/cart"


def test_seeding_a_database_that_holds_snapshots_is_refused(tmp_path: Path) -> None:
    settings = EmulatorSettings(db_path=str(tmp_path / "db.sqlite3"))
    with serve_in_thread(settings, seed=demo_items()) as url:
        count = httpx.get(f"{url}/_emulator/stats").json()["snapshots"]
    assert count == len(demo_items())
    with pytest.raises(SeedRefused, match=f"already holds {count} snapshots"):
        build_server(settings, log_config=False, seed=demo_items())
    # Without a seed the same database serves what it holds.
    with serve_in_thread(settings) as url:
        assert httpx.get(f"{url}/_emulator/stats").json()["snapshots"] == count


def test_problems_stop_after_the_cap_with_a_last_line_saying_where() -> None:
    # Seven problems a line: without the cap, 7,000 problems.
    found = problems_of("{}\n" * 1000)
    assert len(found) == MAX_PROBLEMS + 6  # the line reaching the cap is reported whole
    assert found[-1] == (16, 1, f"more problems not shown: stopped after {MAX_PROBLEMS}")
    assert all(number < 16 for number, _, _ in found[:-1])


def test_a_huge_wrong_file_is_a_short_answer(tmp_path: Path, run: Any) -> None:
    path = tmp_path / "wrong.jsonl"
    path.write_text("[]\n" * 300_000, encoding="utf-8")
    code, out, err = run("emulator", "--seed", str(path), "--port", "0")
    lines = err.splitlines()
    assert (code, out, len(lines)) == (1, "", MAX_PROBLEMS + 1)
    assert lines[0] == f"{path}:1:1: a line must be a JSON object of attributes"
    assert lines[-1] == f"{path}:101:1: more problems not shown: stopped after {MAX_PROBLEMS}"


def test_lines_end_at_newline_only_as_json_lines_says() -> None:
    # U+2028, U+0085 and form feed split lines for str.splitlines, not for JSON Lines: a raw
    # U+2028 in a JSON string is valid, and line numbers are an editor's.
    text = "\r\n".join(
        [
            line(snapshot_name="a\u2028b\x85c"),
            "\x0c",
            line(start="x\u2028"),
        ]
    )
    assert problems_of(text) == [
        (2, 1, "invalid JSON: Expecting value"),
        (3, line(start="x").index('"start"') + 1, "attribute 'start' must be an integer"),
    ]
    (item,) = parse_seed_text(line(snapshot_name="a\u2028b") + "\r\n\r\n")
    assert item[0]["snapshot_name"] == "a\u2028b"


def test_a_key_given_twice_is_a_problem_at_its_second_place() -> None:
    text = line()[:-1] + ', "start": 2}'
    assert problems_of("# first\n" + text) == [
        (2, text.rindex('"start"') + 1, "duplicate key 'start'")
    ]


def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + line(snapshot_name="a").encode() + b"\n")
    ((attributes_read, _, _),) = read_seed_file(path)
    assert attributes_read["snapshot_name"] == "a"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"view_name": }\n')
    with pytest.raises(SeedFileError) as caught:
        read_seed_file(path)
    assert [(p.line, p.col, p.message) for p in caught.value.problems] == [
        (1, 15, "invalid JSON: Expecting value")
    ]


def test_invalid_utf_8_is_placed_in_characters(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    path.write_bytes("# é\n".encode() + '{"é": "é'.encode() + b'\xe9"}\n')
    with pytest.raises(SeedFileError) as caught:
        read_seed_file(path)
    assert [(p.line, p.col, p.message) for p in caught.value.problems] == [
        (2, 9, "not valid UTF-8")
    ]


def test_a_fifo_a_device_or_a_directory_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "seed.fifo"
    os.mkfifo(fifo)
    messages: list[str] = []

    def read(path: Path) -> None:
        with pytest.raises(SeedFileError) as caught:
            read_seed_file(path)
        messages.extend(problem.message for problem in caught.value.problems)

    reader = threading.Thread(target=read, args=(fifo,), daemon=True)
    reader.start()
    reader.join(timeout=5)
    blocked = reader.is_alive()
    if blocked:  # in open(), waiting for a writer: one lets it go, so the test ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
    assert not blocked
    read(Path("/dev/null"))
    read(tmp_path)
    assert messages == [
        "cannot read: it is a FIFO, not a regular file",
        "cannot read: it is a character device, not a regular file",
        "cannot read: it is a directory, not a regular file",
    ]
