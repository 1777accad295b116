"""Validation messages quote file values; a key pasted into a file is masked there too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli_runner import Run

APP = "6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21"
#: Shaped like a Datadog API key (32 characters); only ever in this test's environment.
CANARY = "c4n4ryc4n4ryc4n4ryc4n4ryc4n4ry01"


@pytest.mark.parametrize("output_format", ["text", "github", "json"])
def test_a_key_quoted_by_a_validation_message_is_masked(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output_format: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DD_API_KEY", CANARY)
    (tmp_path / "f.yaml").write_text(
        f"application_id: {APP}\nviews:\n  /a:\n"
        f"    - {{snapshot_name: A, device_type: {CANARY}, event_id: e, start: 1}}\n"
    )
    code, out, err = run("validate", "--format", output_format, "f.yaml")
    assert code == 1
    assert CANARY not in out + err
    assert "***" in out
    if output_format == "json":
        assert json.loads(out)["valid"] is False
