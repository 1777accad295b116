"""Atomic, link-safe writes: `plan --out`, `export --output` and `export --merge`.

A failed write (a full disk, simulated with RLIMIT_FSIZE in a child process) keeps the old
file; a symbolic link at the target is refused and its target left untouched; `--output`
refuses an existing file unless `--force`; `--merge` refuses when the file was edited while
the views were being listed, and keeps that edit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx

from reconciler.api.runtime import Runtime
from reconciler.cli.commands import export as export_command
from reconciler.config.settings import Overrides
from support.export_helpers import export
from support.workspace import APP, Outcome, Workspace, remote_attributes, snapshot

#: Far above the real cost (well under a second); it only guards against a hang.
HANG_GUARD_S = 60


def tmp_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


# -- plan --out ----------------------------------------------------------------------------


def _plan_with_creates(ws: Workspace, count: int, out: str) -> Outcome:
    ws.write_snapshots({"/v": [snapshot(f"snapshot {i}") for i in range(count)]})
    return ws.plan(out=out)


def test_a_full_disk_keeps_the_old_plan(ws: Workspace) -> None:
    assert _plan_with_creates(ws, 1, "plan.json").code == 0
    old = (ws.root / "plan.json").read_bytes()
    assert _plan_with_creates(ws, 200, "big.json").code == 0
    assert (ws.root / "big.json").stat().st_size > 2 * len(old)
    # The child may write files up to the old plan's size only: the new plan cannot fit.
    child = textwrap.dedent(
        f"""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(old)}, {len(old)}))
        from reconciler.cli.main import guarded
        from reconciler.plan.planfile import PlanDocument
        raise SystemExit(guarded(lambda: PlanDocument.read("big.json").write("plan.json")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", child],
        cwd=ws.root,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == "error: plan.json: cannot write saved plan: File too large\n"
    assert (ws.root / "plan.json").read_bytes() == old
    assert tmp_files(ws.root) == []


def test_plan_out_refuses_a_symlink_and_leaves_its_target(ws: Workspace) -> None:
    (ws.root / "elsewhere.txt").write_text("precious")
    os.symlink("elsewhere.txt", ws.root / "plan.json")
    result = _plan_with_creates(ws, 1, "plan.json")
    assert result.code == 1
    assert result.err.endswith(
        "error: plan.json: cannot write saved plan: it is a symbolic link:"
        " refused (neither replaced nor written through)\n"
    )
    assert (ws.root / "elsewhere.txt").read_text() == "precious"
    assert (ws.root / "plan.json").is_symlink()


def test_plan_out_replaces_an_older_plan(ws: Workspace) -> None:
    assert _plan_with_creates(ws, 1, "plan.json").code == 0
    assert _plan_with_creates(ws, 2, "plan.json").code == 0
    saved = json.loads((ws.root / "plan.json").read_text())
    assert len(saved["operations"]) == 2
    assert tmp_files(ws.root) == []


# -- export --output -------------------------------------------------------------------


def test_export_output_refuses_an_existing_file_unless_force(ws: Workspace) -> None:
    ws.seed(remote_attributes("hero"))
    existing = ws.write("snapshots/x.yaml", "# my file\n")
    result = export(ws, "/checkout", output="snapshots/x.yaml")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: cannot write snapshots/x.yaml: it already exists (use --force to replace it)\n"
    )
    assert existing.read_text() == "# my file\n"
    assert ws.stats()["total_requests"] == 0  # refused before listing anything

    forced = export(ws, "/checkout", output="snapshots/x.yaml", force=True)
    assert (forced.code, forced.err) == (0, "")
    assert "snapshot_name: hero" in existing.read_text()


def test_export_output_refuses_a_symlink_even_with_force(ws: Workspace) -> None:
    ws.seed(remote_attributes("hero"))
    (ws.root / "elsewhere.txt").write_text("precious")
    os.symlink("../elsewhere.txt", ws.root / "snapshots" / "x.yaml")
    for force in (False, True):
        result = export(ws, "/checkout", output="snapshots/x.yaml", force=force)
        assert result.code == 1
        assert result.err == (
            "error: cannot write snapshots/x.yaml: it is a symbolic link:"
            " refused (neither replaced nor written through)\n"
        )
    assert (ws.root / "elsewhere.txt").read_text() == "precious"
    assert (ws.root / "snapshots" / "x.yaml").is_symlink()


def test_force_without_output_is_a_usage_error(ws: Workspace) -> None:
    result = export(ws, "/checkout", force=True)
    assert (result.code, result.err) == (1, "error: --force only applies to --output FILE\n")


# -- export --merge --------------------------------------------------------------------

MERGE_FILE = f"""\
# my comments
application_id: {APP}
views:
  /checkout:
    - snapshot_name: hero
      device_type: desktop
      event_id: evt-1
      start: 1
"""


def test_merge_refuses_a_symlink(ws: Workspace) -> None:
    ws.seed(remote_attributes("hero"))
    (ws.root / "real.yaml").write_text(MERGE_FILE)
    os.symlink("../real.yaml", ws.root / "snapshots" / "a.yaml")
    result = export(ws, "/checkout", merge="snapshots/a.yaml")
    assert result.code == 1
    assert result.err == (
        "error: cannot read snapshots/a.yaml: it is a symbolic link:"
        " refused (neither replaced nor written through)\n"
    )
    assert (ws.root / "real.yaml").read_text() == MERGE_FILE


class EditWhileListing(httpx.AsyncBaseTransport):
    """The emulator, but the file is edited by someone else while the views are listed."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: Path, text: str) -> None:
        self.inner, self.path, self.text = inner, path, text

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.path.write_text(self.text)
        return await self.inner.handle_async_request(request)


def test_merge_after_a_concurrent_edit_refuses_and_keeps_the_edit(ws: Workspace) -> None:
    ws.seed(remote_attributes("hero", start=2))
    path = ws.write("snapshots/a.yaml", MERGE_FILE)
    edited = MERGE_FILE.replace("# my comments", "# edited meanwhile")
    transport = EditWhileListing(ws.transport(), path, edited)
    result = ws._run(
        lambda: export_command.run(
            application_id=APP,
            views=["/checkout"],
            output=None,
            merge="snapshots/a.yaml",
            config_path=None,
            overrides=Overrides(api_url="http://127.0.0.1:9"),
            runtime=Runtime(transport=transport),
        )
    )
    assert result.code == 1
    assert result.err == (
        "error: cannot write snapshots/a.yaml: it changed since it was read"
        " (edited meanwhile?): not written\n"
    )
    assert path.read_text() == edited
    assert tmp_files(path.parent) == []


def test_merge_without_an_edit_writes(ws: Workspace) -> None:
    ws.seed(remote_attributes("hero", start=2))
    path = ws.write("snapshots/a.yaml", MERGE_FILE)
    result = export(ws, "/checkout", merge="snapshots/a.yaml")
    assert (result.code, result.err) == (0, "")
    assert path.read_text() == MERGE_FILE.replace("start: 1", "start: 2")


def test_merge_into_a_missing_file_says_so_once(ws: Workspace) -> None:
    result = export(ws, "/checkout", merge="snapshots/none.yaml")
    assert (result.code, result.err) == (
        1,
        "error: cannot read snapshots/none.yaml: No such file or directory\n",
    )
