"""`make comment-picture`: the pull-request comment of a plan, rendered as GitHub renders it,
then photographed by a headless Chromium, so that anyone can look at it.

    python scripts/render_comment.py [--plan SAVED_PLAN] [--out-dir DIR] [--html-only]

Without --plan, a sample plan (made here, offline) with creates, inline patches, a replace,
deletes, a duplicate, warnings and grouped errors. Writes DIR/comment.md, DIR/comment.html
and DIR/comment.png (default DIR: build/comment). The page loads nothing off this machine:
its CSS is inline and names only local fonts. The markdown goes through markdown-it-py with
GFM's tables and strikethrough and raw HTML on (GitHub keeps `<details>`, `<summary>` and
`<br>`); GitHub's own renderer is cmark-gfm, which agrees on everything the comment uses.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from markdown_it import MarkdownIt

from reconciler.core.model import ListedView, SnapshotKey, ViewError, ViewScope
from reconciler.plan.operations import Create, Delete, FieldChange, Patch, Replacement
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import Plan
from reconciler.render.markdown import render_markdown

#: Where Debian's package puts it; `apt-get install -y chromium` when missing.
CHROMIUM = "/usr/bin/chromium"
#: Wide enough for GitHub's comment column (about 880 pixels at a 1280-pixel window).
WIDTH = 960

APP = "3f8d2c1a-5b6e-4f70-9a1b-2c3d4e5f6a7b"
OTHER_APP = "9e8d7c6b-5a49-4382-a716-0f1e2d3c4b5a"
COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

#: GitHub's light theme, trimmed to what the comment uses (system fonts only: nothing is
#: fetched).
CSS = """
body { margin: 0; background: #ffffff; color: #1f2328;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", "DejaVu Sans",
    Helvetica, Arial, sans-serif, "Noto Color Emoji";
  font-size: 14px; line-height: 1.5; }
.comment { max-width: 880px; margin: 16px auto; border: 1px solid #d0d7de;
  border-radius: 6px; }
.comment-header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px;
  color: #59636e; border-radius: 6px 6px 0 0; }
.markdown-body { padding: 16px; word-wrap: break-word; }
.markdown-body > *:first-child { margin-top: 0; }
h3, h4 { margin-top: 24px; margin-bottom: 16px; font-weight: 600; line-height: 1.25; }
h3 { font-size: 1.25em; } h4 { font-size: 1em; }
p, ul, table, details { margin-top: 0; margin-bottom: 16px; }
ul { padding-left: 2em; } ul ul { margin-bottom: 0; } li + li { margin-top: 0.25em; }
code { font-family: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, monospace;
  font-size: 85%; padding: 0.2em 0.4em; margin: 0; background: rgba(175, 184, 193, 0.2);
  border-radius: 6px; white-space: break-spaces; }
table { border-spacing: 0; border-collapse: collapse; display: block; width: max-content;
  max-width: 100%; overflow: auto; }
th { font-weight: 600; }
th, td { padding: 6px 13px; border: 1px solid #d0d7de; }
tr { background: #ffffff; border-top: 1px solid #d1d9e0; }
tr:nth-child(2n) { background: #f6f8fa; }
summary { cursor: pointer; display: list-item; }
em { color: #59636e; }
"""


def sample_plan() -> PlanDocument:
    """A plan as a busy pull request makes one: every kind of operation, a warning, and
    views that could not be listed (one of them twice for the same reason)."""

    def key(view: str, name: str, device: str = "desktop", app: str = APP) -> SnapshotKey:
        return SnapshotKey(app, view, device, name)

    event = "0c8f5d2e-7b1a-4e3c-9d6f-2a4b8c1e5f70"
    operations = (
        Create(key("/home", "Hero banner"), {"event_id": event, "start": 1500}),
        Create(key("/pricing", "Plans table", "mobile"), {"event_id": event, "start": 0}),
        Create(
            key("/checkout", "Pay button", "tablet"),
            {"event_id": event, "start": 4200},
            replaces=Replacement("snap-91c2", (FieldChange("device_type", "mobile", "tablet"),)),
        ),
        Patch(key("/home", "Footer"), "snap-12ab", (FieldChange("start", 1500, 1600),)),
        Patch(
            key("/search", "Results", "mobile"),
            "snap-34cd",
            (
                FieldChange("event_id", "6a1f0b3c-2d4e-4f5a-8b9c-0d1e2f3a4b5c", event),
                FieldChange("start", 300, 450),
                FieldChange("is_device_type_selected_by_user", False, True),
            ),
        ),
        Patch(key("/cart", "Summary", app=OTHER_APP), "snap-56ef", (FieldChange("start", 0, 250),)),
        Delete(key("/legacy", "Old hero"), "snap-78aa"),
        Delete(key("/home", "Hero banner"), "snap-90bb", "duplicate"),
    )
    errors = (
        ViewError(
            ViewScope(APP, "/account"),
            f"GET /api/v2/replay/heatmap/snapshots?filter[view_name]=/account&filter"
            f"[application_id]={APP}&page[limit]=1000: 503 Service Unavailable (after 4 attempts)",
        ),
        ViewError(
            ViewScope(APP, "/orders"),
            f"GET /api/v2/replay/heatmap/snapshots?filter[view_name]=/orders&filter"
            f"[application_id]={APP}&page[limit]=1000: 503 Service Unavailable (after 4 attempts)",
        ),
        ViewError(
            ViewScope(OTHER_APP, "/blog"),
            "listing returned 1000 snapshots, the page size: it may be truncated (the API has "
            "no cursor); raise page_limit (now 1000)",
        ),
    )
    listed = sorted({op.key.scope for op in operations})
    return PlanDocument(
        Plan(operations),
        "https://api.datadoghq.eu",
        "datadoghq.eu",
        None,
        tuple(ListedView(scope, 12) for scope in listed),
        errors=errors,
        warnings=("the API returned no `start` for 2 snapshots of view /about",),
        git_commit=COMMIT,
        environment="production",
        applications={APP: "storefront"},
    )


def to_html(markdown: str) -> str:
    """`markdown` as GitHub turns a comment into HTML, in a page that looks like one."""
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    body = renderer.render(markdown)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>reconciler plan</title><style>{CSS}</style></head><body>"
        "<div class='comment'><div class='comment-header'><b>github-actions</b> bot "
        "commented</div>"
        f"<div class='markdown-body'>{body}</div></div></body></html>\n"
    )


def page_height(markdown: str) -> int:
    """A window tall enough for the page (Chromium's --screenshot takes the window): each
    line of a table row about as tall as a line of text, plus margins."""
    height = 120
    for line in markdown.splitlines():
        lines = 1 + line.count("<br>")
        height += 30 * lines if line.startswith("|") else 24 * lines
    return height


def screenshot(page: Path, picture: Path, height: int) -> None:
    chromium = shutil.which("chromium") or CHROMIUM
    if not Path(chromium).exists():
        raise SystemExit(
            "comment-picture: Chromium is missing. Install it with\n"
            "    sudo apt-get install -y chromium fonts-noto-color-emoji\n"
            f"then run `make comment-picture` again ({page} is written already)."
        )
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={picture}",
                f"--window-size={WIDTH},{height}",
                page.resolve().as_uri(),
            ],
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, help="a saved plan (plan --out); default a sample")
    parser.add_argument("--out-dir", type=Path, default=Path("build/comment"))
    parser.add_argument("--html-only", action="store_true", help="stop before the screenshot")
    args = parser.parse_args(argv)
    document = sample_plan() if args.plan is None else PlanDocument.read(str(args.plan))
    markdown = render_markdown(document, environ={})
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "comment.md").write_text(markdown, encoding="utf-8")
    page = out / "comment.html"
    page.write_text(to_html(markdown), encoding="utf-8")
    if args.html_only:
        print(f"wrote {page}")
        return 0
    screenshot(page, out / "comment.png", page_height(markdown))
    print(f"wrote {out / 'comment.png'} (from {page})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
