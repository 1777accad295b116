"""The pull-request comment read at a glance: each patch's `old → new` inline (folded only
past `COLLAPSE_AFTER`), a head naming the target, the environment and the commit, errors
grouped by application and reason without the request URL, warnings one per item, and
65,000 characters at most whatever the plan holds."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api.retry import RetryPolicy
from reconciler.api.runtime import Runtime
from reconciler.cli.commands import plan as plan_command
from reconciler.core.model import SnapshotKey, ViewError, ViewScope
from reconciler.plan.operations import Create, Delete, FieldChange, Operation, Patch
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import Plan
from reconciler.render.common import MARKDOWN_LIMIT
from reconciler.render.formats import render_all
from reconciler.render.markdown import COLLAPSE_AFTER, render_markdown
from support.workspace import APP, APP2, Workspace

SHA = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
UUIDS = [f"{i:08x}-7b1a-4e3c-9d6f-2a4b8c1e5f70" for i in range(2)]


def document(
    operations: tuple[Operation, ...] = (),
    *,
    url: str = "http://127.0.0.1:8126",
    site: str | None = None,
    commit: str | None = None,
    environment: str | None = None,
    errors: tuple[ViewError, ...] = (),
    warnings: tuple[str, ...] = (),
) -> PlanDocument:
    return PlanDocument(
        Plan(operations),
        url,
        site,
        None,
        (),
        errors=errors,
        warnings=warnings,
        git_commit=commit,
        environment=environment,
        applications={APP: "storefront"},
    )


def patch(name: str, *changes: FieldChange, view: str = "/home") -> Patch:
    return Patch(SnapshotKey(APP, view, "desktop", name), f"id-{name}", changes)


def rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ✏️ |")]


def test_a_patch_shows_old_and_new_inline() -> None:
    text = render_markdown(document((patch("Footer", FieldChange("start", 1500, 1600)),)))
    assert rows(text) == [
        "| ✏️ | patch | `/home` | `desktop` | `Footer` | `start`: `1500` → `1600` |"
    ]


def test_every_field_of_a_patch_with_ordinary_values_stays_inline() -> None:
    """All five fields, ids as long as UUIDs: under COLLAPSE_AFTER, so never folded."""
    changes = (
        FieldChange("event_id", UUIDS[0], UUIDS[1]),
        FieldChange("start", 1_700_000_000_000, 1_700_000_001_500),
        FieldChange("is_device_type_selected_by_user", False, True),
        FieldChange("session_id", UUIDS[0], UUIDS[1]),
        FieldChange("view_id", None, UUIDS[1]),
    )
    [row] = rows(render_markdown(document((patch("all", *changes),))))
    assert "<details>" not in row
    assert row.count("<br>") == 4
    assert "`view_id`: `(unset)` → " in row


def test_only_a_patch_longer_than_the_limit_folds_and_its_summary_names_the_fields() -> None:
    long = "e" * (COLLAPSE_AFTER // 2)
    folded = patch("long", FieldChange("event_id", long, long + "x"), FieldChange("start", 1, 2))
    kept = patch("short", FieldChange("event_id", "e" * 150, "f" * 150))
    text = render_markdown(document((folded, kept)))
    long_row, short_row = rows(text)
    assert long_row.endswith(
        "| <details><summary>changed: `event_id`, `start`</summary>"
        f'`event_id`: `"{long}"` → `"{long}x"`<br>`start`: `1` → `2`</details> |'
    )
    assert "<details>" not in short_row


def test_the_head_names_the_site_environment_and_commit() -> None:
    text = render_markdown(
        document(
            url="https://api.datadoghq.eu", site="datadoghq.eu", commit=SHA, environment="prod"
        )
    )
    assert text.startswith(
        "### reconciler plan: environment `prod`\n\n**No changes.**\n\n"
        f"Planned against site `datadoghq.eu` at commit {SHA}.\n"
    )


def test_without_a_site_the_api_host_alone_never_its_path_query_or_user() -> None:
    url = "https://user:secret@proxy.internal:8443/datadog?token=abc"
    text = render_markdown(document(url=url), environ={})
    assert "Planned against API host `proxy.internal:8443`, commit unknown." in text
    for hidden in ("user", "secret", "token", "abc", "/datadog"):
        assert hidden not in text


def test_the_plans_own_commit_wins_over_github_sha() -> None:
    other = "f" * 40
    recorded = render_markdown(document(commit=SHA), environ={"GITHUB_SHA": other})
    assert f"at commit {SHA}." in recorded
    assert other not in recorded
    from_ci = render_markdown(document(), environ={"GITHUB_SHA": other})
    assert f"at commit {other} (from GITHUB_SHA)." in from_ci


@pytest.mark.parametrize(
    "value", ["@team please approve", "<img src=x>", "abc123", SHA.upper(), SHA + "\n# x"]
)
def test_only_a_hexadecimal_commit_is_shown(value: str) -> None:
    text = render_markdown(document(commit=value), environ={"GITHUB_SHA": value})
    assert ", commit unknown." in text
    assert value not in text


def test_a_hostile_environment_name_stays_in_a_code_span() -> None:
    text = render_markdown(document(environment="@admins <b>x</b>"))
    assert text.startswith("### reconciler plan: environment `@admins <b>x</b>`\n")


def listing_error(view: str, reason: str, app: str = APP) -> ViewError:
    query = f"filter[view_name]={view}&filter[application_id]={app}&page[limit]=1000"
    return ViewError(
        ViewScope(app, view), f"GET /api/v2/replay/heatmap/snapshots?{query}: {reason}"
    )


class NotFoundBut(httpx.AsyncBaseTransport):
    """The emulator, except that listings of views other than `kept` answer 404, or 503
    for `unavailable`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, kept: str, unavailable: str) -> None:
        self.inner, self.kept, self.unavailable = inner, kept, unavailable

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        view = request.url.params.get("filter[view_name]")
        if request.method == "GET" and view not in (None, self.kept):
            return httpx.Response(503 if view == self.unavailable else 404, json={"errors": []})
        return await self.inner.handle_async_request(request)


def test_errors_are_grouped_by_application_and_reason_without_the_url(ws: Workspace) -> None:
    ws.write_snapshots({view: [] for view in ("/a b", "/x: y&z", "/fine", "/busy")})
    ws.write_snapshots({"/blog": []}, app=APP2, name="b.yaml")
    runtime = Runtime(
        transport=NotFoundBut(ws.transport(), "/fine", "/busy"),
        retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0),
    )
    result = ws.command(plan_command.run, {"output_format": "markdown"}, runtime)
    assert result.code == 1
    head = result.out.split("\n\n")
    assert "❌ **4 views could not be listed** (not planned):" in head
    assert (
        f"- application `{APP2}`\n"
        "  - view `/blog`: `404 Not Found`\n"
        f"- application `{APP}`\n"
        "  - views `/a b`, `/x: y&z`: `404 Not Found`\n"
        "  - view `/busy`: `503 Service Unavailable (after 2 attempts)`\n"
    ) in result.out
    assert "GET " not in result.out
    assert "page[limit]" not in result.out


def test_a_message_that_is_not_the_clients_request_line_is_shown_whole() -> None:
    message = "GET /elsewhere?filter[view_name]=/home: 500"
    text = render_markdown(document(errors=(ViewError(ViewScope(APP, "/home"), message),)))
    assert f"  - view `/home`: `{message}`" in text


def test_warnings_are_a_list_an_item_each() -> None:
    unsafe = Plan((), ("view /home: would delete 4 of 10",))
    plain = document(warnings=("the API returned no `start` for 2 snapshots", "second"))
    text = render_markdown(
        PlanDocument(unsafe, plain.target_url, None, None, (), warnings=plain.warnings)
    )
    assert (
        "⚠️ **Warnings:**\n\n"
        "- ``the API returned no `start` for 2 snapshots``\n"
        "- `second`\n"
        "- **Unsafe plan:** `view /home: would delete 4 of 10`\n"
        "- `apply` will refuse this plan without `--force`.\n"
    ) in text


def test_many_views_failing_alike_fit_on_one_line_with_a_count() -> None:
    errors = tuple(listing_error(f"/view-{i:04}", "503 Service Unavailable") for i in range(500))
    text = render_markdown(document(errors=errors))
    [line] = [line for line in text.splitlines() if line.startswith("  - views ")]
    shown = line.count("`/view-")
    assert 10 < shown < 500
    assert line.endswith(f" and {500 - shown} more: `503 Service Unavailable`")


def test_inline_changes_a_long_head_and_many_notes_stay_under_the_limit() -> None:
    changes = (
        FieldChange("event_id", UUIDS[0], UUIDS[1]),
        FieldChange("session_id", UUIDS[0], UUIDS[1]),
        FieldChange("start", 1, 2),
    )
    operations = tuple(patch(f"snapshot {i:05}", *changes) for i in range(3000))
    errors = tuple(listing_error(f"/v{i}", f"{i} " + "x" * 300) for i in range(400))
    big = document(
        operations,
        site="datadoghq.eu",
        commit=SHA,
        environment="e" * 500,
        errors=errors,
        warnings=tuple("w" * 300 for _ in range(100)),
    )
    text = render_markdown(big)
    assert len(text) <= MARKDOWN_LIMIT
    assert f"at commit {SHA}." in text
    shown = len(rows(text))
    assert 0 < shown < 3000
    assert re.search(r"_…\d+ more errors and warnings not shown\._", text)
    assert f"_…{3000 - shown} more operations not shown ({3000 - shown} patch)" in text
    assert all("→" in row for row in rows(text))


def test_the_line_past_the_budget_counts_the_errors_and_warnings_it_leaves_out() -> None:
    errors = tuple(
        listing_error(f"/v{reason:03}-{copy}", f"reason {reason}")
        for reason in range(300)
        for copy in range(3)
    )
    text = render_markdown(document(errors=errors, warnings=("w",) * 5), limit=4000)
    shown = sum(line.count("`/v") for line in text.splitlines() if line.startswith("  - views"))
    assert 0 < shown < 900
    assert text.endswith(f"_…{900 - shown + 5} more errors and warnings not shown._\n")


# -- the limit holds whatever the plan holds -----------------------------------------------

#: An operation row, a count-table row, and the notes counting what was left out.
OPERATION_ROW = re.compile(r"^\| (➕|➖➕|✏️|➖) \|", re.MULTILINE)
COUNT_ROW = re.compile(r"^\| `", re.MULTILINE)
MORE_OPERATIONS = re.compile(r"_…(\d+) more operations not shown \(")
MORE_VIEWS = re.compile(r"_…(\d+) more views? not shown, nor their operations")


def first_import(views: list[str], app: str = APP) -> tuple[Create, ...]:
    """A snapshot to create in each view, as the first import of an organisation plans."""
    return tuple(
        Create(SnapshotKey(app, view, "desktop", "hero"), {"event_id": "e", "start": 0})
        for view in views
    )


def assert_within_limit_and_counted(text: str, documents: list[PlanDocument]) -> None:
    """Under the limit; each plan's summary; every operation and view shown or counted."""
    assert len(text) <= MARKDOWN_LIMIT
    for one in documents:
        assert f"**{one.summary()}**" in text
    operations = sum(len(one.plan.operations) for one in documents)
    views = sum(
        len({(op.key.application_id, op.key.view_name) for op in one.plan.operations})
        for one in documents
    )
    left_operations = sum(int(n) for n in MORE_OPERATIONS.findall(text))
    left_views = sum(int(n) for n in MORE_VIEWS.findall(text))
    assert len(OPERATION_ROW.findall(text)) + left_operations == operations
    assert len(COUNT_ROW.findall(text)) + left_views == views


def test_two_thousand_views_of_a_first_import_fit_their_count_tables_trimmed() -> None:
    """Was 68,4xx characters: every view's count row, and no operation row at all."""
    big = document(first_import([f"/p/{i:04}" for i in range(2000)]))
    text = render_markdown(big, environ={})
    assert_within_limit_and_counted(text, [big])
    assert 0 < len(COUNT_ROW.findall(text)) < 2000
    assert 0 < len(OPERATION_ROW.findall(text)) < 2000
    assert MORE_VIEWS.search(text)
    assert MORE_OPERATIONS.search(text)
    assert text.endswith("`reconciler show` on the saved plan for all of them._\n")


def test_six_hundred_views_with_long_names_fit() -> None:
    """Was 143,229 characters: names of about 210 characters."""
    views = ["/" + "v" * 206 + f"{i:03}" for i in range(600)]
    big = document(first_import(views))
    text = render_markdown(big, environ={})
    assert_within_limit_and_counted(text, [big])
    assert MORE_VIEWS.search(text)
    assert MORE_OPERATIONS.search(text)


def test_the_views_with_the_most_operations_keep_their_count_rows() -> None:
    busy = [Delete(SnapshotKey(APP, "/z-busy", "desktop", f"s{i}"), f"id-{i}") for i in range(5)]
    quiet = first_import([f"/a{i:04}" for i in range(3000)])
    text = render_markdown(document((*quiet, *busy)), environ={})
    assert "| `/z-busy` | 0 | 0 | 0 | 5 | 0 |" in text
    assert len(text) <= MARKDOWN_LIMIT


def plans(draw: st.DrawFn) -> PlanDocument:
    applications = draw(st.integers(1, 4))
    operations: list[Operation] = []
    aliases: dict[str, str] = {}
    for index in range(applications):
        app = f"{index:08x}-" + "a" * draw(st.sampled_from([27, 300]))
        if draw(st.booleans()):
            aliases[app] = "alias " + "b" * draw(st.sampled_from([1, 400]))
        name_length = draw(st.sampled_from([1, 30, 220]))
        for view in range(draw(st.sampled_from([1, 40, 500]))):
            name = f"/{view:04}" + "n" * name_length
            for copy in range(draw(st.sampled_from([1, 3])) if view < 5 else 1):
                key = SnapshotKey(app, name, "desktop", f"s{copy}")
                operations.append(
                    Delete(key, f"id-{copy}")
                    if copy == 2
                    else Patch(key, f"id-{copy}", (FieldChange("start", 1, 2),))
                    if copy == 1
                    else Create(key, {"start": 0})
                )
    noise = draw(st.sampled_from([0, 5, 300]))
    errors = tuple(listing_error(f"/e{i}", "x" * 200, app="c" * 300) for i in range(noise))
    return PlanDocument(
        Plan(tuple(operations)),
        "http://127.0.0.1:8126",
        None,
        None,
        (),
        errors=errors,
        targets=tuple(f"app:{i}:" + "t" * 300 for i in range(noise)),
        warnings=tuple("w" * 250 for _ in range(noise)),
        environment=draw(st.sampled_from([None, "prod", "e" * 200])),
        applications=aliases,
    )


@settings(max_examples=20, deadline=None, derandomize=True)
@given(data=st.data(), environments=st.integers(1, 5))
def test_any_plan_and_any_environments_fit_in_one_comment(
    data: st.DataObject, environments: int
) -> None:
    """`--all-envs` puts every environment's plan in one comment: the whole stays within
    the limit, each summary first, and every operation or view left out is counted."""
    documents = [data.draw(st.composite(plans)()) for _ in range(environments)]
    text = render_all(documents, "markdown", sectioned=environments > 1)
    assert_within_limit_and_counted(text, documents)


def test_the_line_breaks_between_environments_count_against_the_limit() -> None:
    """Names chosen so that each environment's section fills 13,000 characters, a fifth of
    the limit, exactly: the four line breaks joining them must come out of the shares."""
    operations = tuple(
        Create(SnapshotKey(APP, f"/{i:04}" + "x" * 31, "desktop", "hhh"), {"start": 0})
        for i in range(300)
    )
    documents = [document(operations, environment=f"env{i}") for i in range(5)]
    assert len(render_markdown(documents[0], MARKDOWN_LIMIT // 5, environ={})) == 13_000
    text = render_all(documents, "markdown")
    assert len(text) <= MARKDOWN_LIMIT
    assert text.count("### reconciler plan: environment `env") == 5


def test_many_targets_are_listed_up_to_a_line_then_counted() -> None:
    targets = tuple(f"/view-{i:04}" for i in range(1000))
    plain = document()
    text = render_markdown(
        PlanDocument(plain.plan, plain.target_url, None, None, (), targets=targets)
    )
    [line] = [line for line in text.splitlines() if line.startswith("Targets: ")]
    shown = line.count("`/view-")
    assert 10 < shown < 1000
    assert line.startswith("Targets: `/view-0000`, `/view-0001`, ")
    assert line.endswith(f" and {1000 - shown} more")
