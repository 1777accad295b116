"""Listing details the emulator cannot produce (a server ignoring its filters, concurrency),
and rendering limits: markdown truncation and colour rules."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from reconciler.api.client import ApiClient
from reconciler.api.listing import list_views
from reconciler.cli.main import use_color
from reconciler.cli.options import live_progress
from reconciler.core.model import SnapshotKey, ViewError, ViewScope
from reconciler.core.secrets import Credentials
from reconciler.plan.diff import diff
from reconciler.plan.operations import Create, Delete, FieldChange, Patch
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import Plan, build_plan
from reconciler.render.common import MARKDOWN_LIMIT
from reconciler.render.formats import render
from support.factories import APP, APP2, key, want
from support.inflight import InFlight


def item(snapshot_id: str, app: str, view: str, name: str) -> dict[str, object]:
    return {
        "id": snapshot_id,
        "type": "snapshots",
        "attributes": {
            "application_id": app,
            "view_name": view,
            "device_type": "desktop",
            "snapshot_name": name,
            "event_id": "e",
            "start": 1,
            "is_device_type_selected_by_user": False,
        },
    }


def test_items_outside_the_filter_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # A server that ignores filter[application_id] and filter[view_name].
        return httpx.Response(
            200,
            json={
                "data": [
                    item("a", APP, "/checkout", "mine"),
                    item("b", APP2, "/checkout", "other app"),
                    item("c", APP, "/home", "other view"),
                ]
            },
        )

    async def go() -> object:
        client = ApiClient(
            "http://127.0.0.1:9", Credentials("k", "k"), transport=httpx.MockTransport(handler)
        )
        async with client:
            return await list_views(
                client, [ViewScope(APP, "/checkout")], page_limit=100, parallelism=2
            )

    with caplog.at_level(logging.WARNING, logger="reconciler.api.listing"):
        listing = asyncio.run(go())
    snapshots = listing.snapshots[ViewScope(APP, "/checkout")]  # type: ignore[attr-defined]
    assert [s.key.snapshot_name for s in snapshots] == ["mine"]
    assert "does not match the filter" in caplog.text


def test_views_are_listed_concurrently_up_to_parallelism() -> None:
    in_flight = InFlight()

    async def handler(request: httpx.Request) -> httpx.Response:
        with in_flight.request():
            await asyncio.sleep(0.01)
        return httpx.Response(200, json={"data": []})

    async def go() -> None:
        transport = httpx.MockTransport(handler)
        async with ApiClient(
            "http://127.0.0.1:9", Credentials("k", "k"), transport=transport
        ) as client:
            scopes = [ViewScope(APP, f"/v{i}") for i in range(12)]
            listing = await list_views(client, scopes, page_limit=100, parallelism=3)
            assert len(listing.views) == 12

    asyncio.run(go())
    assert in_flight.peak == 3


def big_document(count: int) -> PlanDocument:
    scope = ViewScope(APP, "/checkout")
    ops = diff(
        [want(key(f"snapshot number {i:05d} " + "x" * 40)) for i in range(count)], {scope: []}
    )
    return PlanDocument(
        build_plan(ops, {scope: 0}), "http://127.0.0.1:9", None, "sha256:" + "0" * 64, ()
    )


def test_markdown_stays_under_the_comment_limit_with_a_note() -> None:
    text = render(big_document(2000), "markdown")
    assert len(text) <= MARKDOWN_LIMIT
    assert "**Plan: 2000 to create, 0 to patch, 0 to delete.**" in text
    shown = text.count("| ➕ | create |")
    assert 0 < shown < 2000
    assert f"_…{2000 - shown} more operations not shown" in text


def test_small_markdown_is_not_truncated() -> None:
    text = render(big_document(10), "markdown")
    assert text.count("| ➕ | create |") == 10
    assert "not shown" not in text


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert use_color()
    assert not use_color(no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color()
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no-color.org says it does not count
    assert use_color()
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not use_color()
    monkeypatch.delenv("TERM")
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert not use_color()


def test_coloured_text_has_the_same_words() -> None:
    document = big_document(2)
    plain = render(document, "text")
    coloured = render(document, "text", color=True)
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
    assert json.loads(render(document, "json"))["summary"]["create"] == 2


# -- inert markdown (issue 10, 6) ---------------------------------------------------------

HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>",
    "[click](https://evil.example)",
    "![pixel](https://evil.example/p.png)",
    "@everyone please approve",
    "# Approved",
    "`code` and ``more``",
    "```",
    "x`",
    " padded ",
    "line\rbreak",
    "two\nlines\n# heading",
    "\u2028separator\u2029",
    "| a | b |",
    "\\|",
    "*bold* _it_ ~~gone~~",
    "https://evil.example/auto",
    "www.evil.example",
    "&lt;b&gt; &#64;x",
    "\u202eevil\u202c",
    "<!-- hidden",
    "<script>alert(1)</script>",
    ":x: **Error:** fake",
    "> quote",
]


def code_spans(line: str) -> tuple[str, list[str]]:
    """`line` with each CommonMark code span replaced by `C`, and the spans' contents."""
    skeleton, spans, i = [], [], 0
    while i < len(line):
        if line[i] != "`":
            skeleton.append(line[i])
            i += 1
            continue
        run = len(line[i:]) - len(line[i:].lstrip("`"))
        j = i + run
        while True:
            k = line.find("`" * run, j)
            if k < 0:
                raise AssertionError(f"unclosed code span in {line!r}")
            after = len(line[k:]) - len(line[k:].lstrip("`"))
            if after == run:
                break
            j = k + after
        spans.append(line[i + run : k])
        skeleton.append("C")
        i = k + run
    return "".join(skeleton), spans


def hostile_document(name: str) -> PlanDocument:
    app = name if name.strip() else APP
    operations = (
        Create(SnapshotKey(app, name, name, name), {"event_id": name, "start": 1}),
        Patch(
            SnapshotKey(APP, name, "desktop", name), name, (FieldChange("event_id", name, name),)
        ),
        Delete(SnapshotKey(APP, name, "desktop", name), name),
        Delete(SnapshotKey(APP, name, "desktop", name), name, "duplicate"),
    )
    return PlanDocument(
        Plan(operations, (f"view {name}: would delete 4 of 10",)),
        "http://127.0.0.1:9",
        None,
        None,
        (),
        errors=(ViewError(ViewScope(APP, name), f"listing failed: {name}"),),
        warnings=(f"the API returned no `start` for {name}",),
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_render_inert_in_markdown(name: str) -> None:
    hostile = render(hostile_document(name), "markdown")
    benign = render(hostile_document("x"), "markdown")
    assert hostile.count("\n") == benign.count("\n")  # no line break got through
    for invisible in ("\r", "\u2028", "\u202e"):
        assert invisible not in hostile
    for bad, good in zip(hostile.splitlines(), benign.splitlines(), strict=True):
        skeleton, spans = code_spans(bad)
        # Outside code spans the line is what a harmless name gives: the name is confined
        # to code spans, where markdown forms no HTML, link, image, mention or heading.
        assert skeleton == code_spans(good)[0], bad
        if bad.startswith("| "):
            for span in spans:  # GFM splits table cells before code spans: | is escaped
                assert "|" not in span.replace("\\|", "")


def test_text_output_cannot_be_steered_by_a_server() -> None:
    """Names and messages from a server are shown, never obeyed by the terminal."""
    name = "evil\x1b[2J\x1b[31m\rline"
    text = render(hostile_document(name), "text")
    assert "\x1b" not in text
    assert "\r" not in text
    assert "Error: view evil\\u001b[2J\\u001b[31m\\rline of application" in text


@pytest.mark.parametrize(
    ("ci", "shown"),
    [(None, True), ("", True), ("0", True), ("false", True), ("true", False), ("1", False)],
)
def test_the_live_line_is_kept_out_of_ci_logs(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, shown: bool
) -> None:
    monkeypatch.delenv("TERM", raising=False)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert live_progress(verbose=0) is shown
    assert live_progress(verbose=1) is False
