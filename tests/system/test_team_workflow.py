# ruff: noqa: E501  (expected outputs are compared whole, one line each)
"""Issue 16 acceptance: a team's pull request, planned with `--base` in a real git
repository: a rename and a device change (replaces), a file removed and a view removed
(no longer managed), bracketed names (literal in `ignore` and `--target`), targets by
application and by file. Text, markdown and annotations are compared exactly."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from support.workspace import APP, APP2, Outcome, Workspace, remote_attributes, snapshot

GIT = [
    "git",
    "-c",
    "user.email=t@example.invalid",
    "-c",
    "user.name=t",
    "-c",
    "commit.gpgsign=false",
]


def git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True, timeout=30)


def run_plan(ws: Workspace, *, base: str | None = "base", **given: object) -> Outcome:
    return ws.plan(base=base, **given)


def shop(
    home: list[dict[str, object]], product: list[dict[str, object]]
) -> dict[str, list[dict[str, object]]]:
    return {"/home": home, "/product/[id]": product}


@pytest.fixture
def team(ws: Workspace) -> tuple[Workspace, dict[str, str]]:
    """The repository at the base commit (tag `base`), Datadog matching it, then the pull
    request's edits in the work tree."""
    git(ws.root, "init", "-q")
    ws.write("reconciler.yaml", "ignore:\n  - 'Manual [beta] *'\n")
    home = [
        snapshot("Home hero", event_id="e-hero", start=100),
        snapshot("Home old", event_id="e-old", start=5),
    ]
    product = [snapshot("Product [id] card", event_id="e-card", start=200)]
    ws.write_snapshots(shop(home, product), name="shop.yaml")
    ws.write_snapshots(
        {"/blog": [snapshot("Blog top", event_id="e-blog")], "/about": []},
        app=APP2,
        name="blog.yaml",
    )
    ws.write_snapshots({"/legacy": []}, name="legacy.yaml")
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "base")
    git(ws.root, "tag", "base")
    seeded = ws.seed(
        remote_attributes("Home hero", view="/home", event_id="e-hero", start=100),
        remote_attributes("Home old", view="/home", event_id="e-old", start=5),
        remote_attributes("Manual [beta] one", view="/home", event_id="e-manual", start=9),
        remote_attributes("Product [id] card", view="/product/[id]", event_id="e-card", start=200),
        remote_attributes("Blog top", view="/blog", app=APP2, event_id="e-blog"),
        remote_attributes("About a", view="/about", app=APP2, event_id="e-about"),
        remote_attributes("Legacy a", view="/legacy", event_id="e-l1"),
        remote_attributes("Legacy b", view="/legacy", event_id="e-l2"),
    )
    ids = {item["attributes"]["snapshot_name"]: item["id"] for item in seeded}
    ids["commit"] = (
        subprocess.run(
            [*GIT, "rev-parse", "--short=12", "base"], cwd=ws.root, check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    # The pull request: rename, device change, a snapshot dropped, a view and a file removed.
    home = [snapshot("Home hero v2", event_id="e-hero", start=100)]
    product = [snapshot("Product [id] card", device="mobile", event_id="e-card", start=200)]
    ws.write_snapshots(shop(home, product), name="shop.yaml")
    ws.write_snapshots(
        {"/blog": [snapshot("Blog top", event_id="e-blog")]}, app=APP2, name="blog.yaml"
    )
    (ws.root / "snapshots" / "legacy.yaml").unlink()
    return ws, ids


TEXT = (
    f'-/+ replace /home desktop "Home hero v2" (application {APP}) id=<Home hero>  [change]\n'
    '    snapshot_name                   : "Home hero" -> "Home hero v2"  [change]\n'
    '    event_id                        = "e-hero"\n'
    "    start                           = 100\n"
    "    is_device_type_selected_by_user = false\n"
    f'-/+ replace /product/[id] mobile "Product [id] card" (application {APP}) id=<Product [id] card>  [change]\n'
    '    device_type                     : "desktop" -> "mobile"  [change]\n'
    '    event_id                        = "e-card"\n'
    "    start                           = 200\n"
    "    is_device_type_selected_by_user = false\n"
    f'- delete /home desktop "Home old" (application {APP}) id=<Home old>  [change]\n'
    "    reason: not declared\n"
    "\n"
    f"Warning: view /about of application {APP2} is no longer managed: 1 snapshot stays in Datadog; declare `/about: []` to delete them\n"
    f"Warning: view /legacy of application {APP} is no longer managed: 2 snapshots stay in Datadog; declare `/legacy: []` to delete them\n"
    "Not deleted: 1 snapshot kept by ignore.\n"
    "Since base base (<commit>): 3 change, 0 drift, 0 conflict.\n"
    "Plan: 0 to create, 0 to patch, 1 to delete, 2 to replace.\n"
)


MARKDOWN = (
    "### reconciler plan\n"
    "\n"
    "**Plan: 0 to create, 0 to patch, 1 to delete, 2 to replace.**\n"
    "\n"
    "Planned against API host `127.0.0.1:9` at commit <commit>.\n"
    "\n"
    "Since base `base` (`<commit>`): **3 change, 0 drift, 0 conflict**.\n"
    "\n"
    "⚠️ **Warnings:**\n"
    "\n"
    f"- **No longer managed:** ``view /about of application {APP2} is no longer managed: 1 snapshot stays in Datadog; declare `/about: []` to delete them``\n"
    f"- **No longer managed:** ``view /legacy of application {APP} is no longer managed: 2 snapshots stay in Datadog; declare `/legacy: []` to delete them``\n"
    "\n"
    "Not deleted: 1 snapshot kept by `ignore`.\n"
    "\n"
    f"#### Application `{APP}`\n"
    "\n"
    "| view | create | replace | patch | delete | duplicate |\n"
    "|---|---:|---:|---:|---:|---:|\n"
    "| `/home` | 0 | 1 | 0 | 1 | 0 |\n"
    "| `/product/[id]` | 0 | 1 | 0 | 0 | 0 |\n"
    "\n"
    "| | action | view | device | snapshot | details |\n"
    "|---|---|---|---|---|---|\n"
    '| ➖➕ | replace<br>**change** | `/home` | `desktop` | `Home hero v2` | `snapshot_name`: `"Home hero"` → `"Home hero v2"`<br>created first, then id `<Home hero>` is deleted<details><summary>fields</summary>`event_id` = `"e-hero"`<br>`start` = `100`<br>`is_device_type_selected_by_user` = `false`</details> |\n'
    '| ➖➕ | replace<br>**change** | `/product/[id]` | `mobile` | `Product [id] card` | `device_type`: `"desktop"` → `"mobile"`<br>created first, then id `<Product [id] card>` is deleted<details><summary>fields</summary>`event_id` = `"e-card"`<br>`start` = `200`<br>`is_device_type_selected_by_user` = `false`</details> |\n'
    "| ➖ | delete<br>**change** | `/home` | `desktop` | `Home old` | not declared (id `<Home old>`) |\n"
)


ANNOTATIONS = (
    "Not deleted: 1 snapshot kept by ignore.\n"
    f"::warning file=snapshots/blog.yaml,line=12,title=no longer managed::view /about of application {APP2} is no longer managed: 1 snapshot stays in Datadog; declare `/about: []` to delete them\n"
    f"::warning file=snapshots/legacy.yaml,line=4,title=no longer managed::view /legacy of application {APP} is no longer managed: 2 snapshots stay in Datadog; declare `/legacy: []` to delete them\n"
    f'::notice file=snapshots/shop.yaml,line=5,title=replace::replace /home desktop "Home hero v2" (application {APP}) id=<Home hero>: snapshot_name "Home hero" -> "Home hero v2" (created first, then the old one is deleted)\n'
    f'::notice file=snapshots/shop.yaml,line=13,title=replace::replace /product/[id] mobile "Product [id] card" (application {APP}) id=<Product [id] card>: device_type "desktop" -> "mobile" (created first, then the old one is deleted)\n'
    f'::warning file=snapshots/shop.yaml,line=4,title=delete::delete /home desktop "Home old" (application {APP}) id=<Home old>: not declared\n'
    "::notice title=reconciler plan::Plan: 0 to create, 0 to patch, 1 to delete, 2 to replace.\n"
)


TARGETED = (
    f'-/+ replace /product/[id] mobile "Product [id] card" (application {APP}) id=<Product [id] card>\n'
    '    device_type                     : "desktop" -> "mobile"\n'
    '    event_id                        = "e-card"\n'
    "    start                           = 200\n"
    "    is_device_type_selected_by_user = false\n"
    "\n"
    f"Targets: app:{APP}, file:snapshots/shop.yaml, /product/[id]\n"
    "Plan: 0 to create, 0 to patch, 0 to delete, 1 to replace.\n"
)


def named(text: str, ids: dict[str, str]) -> str:
    # The full commit first: the base's short one (in ids) may be its beginning.
    text = re.sub(r"commit [0-9a-f]{40}\b", "commit <commit>", text)
    for name, snapshot_id in ids.items():
        text = text.replace(snapshot_id, f"<{name}>")
    return text


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [("text", TEXT), ("markdown", MARKDOWN), ("github", ANNOTATIONS)],
    ids=["text", "markdown", "annotations"],
)
def test_output(output_format: str, expected: str, team: tuple[Workspace, dict[str, str]]) -> None:
    ws, ids = team
    result = run_plan(ws, output_format=output_format)
    assert result.code == 0, result.err
    assert named(result.out, ids) == expected


def test_targets_by_application_and_file(team: tuple[Workspace, dict[str, str]]) -> None:
    ws, ids = team
    result = run_plan(
        ws, targets=("app:" + APP, "file:snapshots/shop.yaml", "/product/[id]"), base=None
    )
    assert result.code == 0, result.err
    assert named(result.out, ids) == TARGETED


def test_json(team: tuple[Workspace, dict[str, str]]) -> None:
    import json

    from jsonschema import Draft202012Validator

    from reconciler.core.schemas import load_schema

    ws, ids = team
    result = run_plan(ws, output_format="json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert list(Draft202012Validator(load_schema("plan.schema.json")).iter_errors(document)) == []
    assert document["kept"] == {"ignored": 1, "unpruned": 0}
    assert [(v["view_name"], v["snapshot_count"]) for v in document["removed_views"]] == [
        ("/about", 1),
        ("/legacy", 2),
    ]
    assert document["summary"]["replace"] == 2
    assert [(op["action"], op["reason"]) for op in document["operations"]] == [
        ("create", f"replaces {ids['Home hero']}"),
        ("create", f"replaces {ids['Product [id] card']}"),
        ("delete", "replaced"),  # /home "Home hero", after its replacement is created
        ("delete", "not declared"),  # /home "Home old"
        ("delete", "replaced"),  # /product/[id] desktop "Product [id] card"
    ]
