"""The pull-request comment read at a glance: each patch's `old → new` inline (folded only
past `COLLAPSE_AFTER`), a head naming the target, the environment and the commit, errors
grouped by application and reason without the request URL, warnings one per item, and
65,000 characters at most whatever the plan holds."""

from __future__ import annotations

import re

import httpx
import pytest

from reconciler.api.retry import RetryPolicy
from reconciler.api.runtime import Runtime
from reconciler.cli.commands import plan as plan_command
from reconciler.core.model import SnapshotKey, ViewError, ViewScope
from reconciler.plan.operations import FieldChange, Patch
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import Plan
from reconciler.render.common import MARKDOWN_LIMIT
from reconciler.render.markdown import COLLAPSE_AFTER, render_markdown
from support.workspace import APP, APP2, Workspace

SHA = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
UUIDS = [f"{i:08x}-7b1a-4e3c-9d6f-2a4b8c1e5f70" for i in range(2)]


def document(
    operations: tuple[Patch, ...] = (),
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
