"""`make comment-picture` (scripts/render_comment.py): the comment through a GFM renderer
shows each patch's old → new and the head without a click, in a page that loads nothing
off the machine; then a headless Chromium photographs it (or the script says how to get
one)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from reconciler.render.markdown import render_markdown

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "render_comment.py"


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_comment", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_rendered_comment_shows_changes_inline_and_the_head() -> None:
    comment = script()
    page = comment.to_html(render_markdown(comment.sample_plan(), environ={}))
    assert "<td><code>start</code>: <code>1500</code> → <code>1600</code></td>" in page
    assert (
        f"<p>Planned against site <code>datadoghq.eu</code> at commit {comment.COMMIT}.</p>" in page
    )
    assert "<h3>reconciler plan: environment <code>production</code></h3>" in page
    assert "<li>views <code>/account</code>, <code>/orders</code>: <code>503 Service" in page
    # A patch folds nowhere; only the replace's full field list does.
    assert page.count("<details>") == 1
    assert "<summary>fields</summary>" in page


def test_the_page_loads_nothing_off_the_machine() -> None:
    comment = script()
    page = comment.to_html(render_markdown(comment.sample_plan(), environ={}))
    for fetching in ("src=", "href=", "url(", "@import", "http://", "https://", "//"):
        assert fetching not in page


@pytest.mark.slow
def test_make_comment_picture_takes_a_screenshot_or_says_how(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert (tmp_path / "comment.html").is_file()
    if shutil.which("chromium") is None and not Path(script().CHROMIUM).exists():
        assert done.returncode == 1
        assert "sudo apt-get install -y chromium fonts-noto-color-emoji" in done.stderr
        return
    assert done.returncode == 0, done.stderr
    picture = (tmp_path / "comment.png").read_bytes()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", picture[16:24])
    assert width == script().WIDTH
    assert height > 1000
    assert re.fullmatch(r"wrote .*comment\.png \(from .*comment\.html\)\n", done.stdout)
