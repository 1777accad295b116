"""The wheel ships the JSON Schemas: build it, install it in a fresh venv, validate elsewhere.

Needs PyPI or a warm pip cache (hatchling and the dependencies); ~30-60 s.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support.cli_runner import REPO

GOOD = """\
application_id: 6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21
views:
  /home:
    - {snapshot_name: Home, device_type: desktop, event_id: ev-1, start: 1500}
"""


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.package
def test_installed_wheel_validates_from_an_unrelated_directory(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, REPO, cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "reconciler/schemas/snapshots.schema.json" in names
    assert "reconciler/schemas/config.schema.json" in names

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv, cwd=tmp_path).returncode == 0
    installed = _run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "good.yaml").write_text(GOOD)
    (elsewhere / "bad.yaml").write_text(GOOD.replace("desktop", "laptop"))
    reconciler = venv / "bin" / "reconciler"
    good = _run(reconciler, "validate", "good.yaml", cwd=elsewhere)
    assert (good.returncode, good.stdout) == (0, "OK: 1 file, 1 snapshot, 1 view.\n"), good.stderr
    bad = _run(reconciler, "validate", "bad.yaml", cwd=elsewhere)
    assert bad.returncode == 1, bad.stderr
    assert bad.stdout == (
        "bad.yaml:4:42: 'device_type' must be one of desktop, mobile, tablet, got 'laptop'\n"
    )
    # The schema came from inside the installed package, not from a source checkout.
    where = _run(
        venv / "bin" / "python",
        "-c",
        "from importlib import resources; print(resources.files('reconciler')"
        ".joinpath('schemas', 'snapshots.schema.json').is_file())",
        cwd=elsewhere,
    )
    assert where.stdout.strip() == "True"
