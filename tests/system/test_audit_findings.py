"""Defects found by the outside audit of issues 10 and 12, pinned as strict xfails: each
test states the guarantee; it turns into a failure (XPASS) the day the defect is fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import EmulatorSettings
from support.workspace import API_KEY, APP, Workspace, remote_attributes, snapshot


def test_saved_plan_with_a_masked_name_applies(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("Hero")]})
    assert ws.apply().code == 0
    # A server-side name holding 12 characters of the key: masked in the saved plan.
    ws.seed(remote_attributes(f"note {API_KEY[:12]} x"))
    assert ws.plan(out="plan.json").code == 0
    assert API_KEY[:12] not in Path("plan.json").read_text(encoding="utf-8")
    outcome = ws.apply("plan.json")
    assert "stale" not in outcome.err
    assert outcome.code == 0
    assert [a[3] for a in ws.remote_keys()] == ["Hero"]


def test_silent_cap_never_creates_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    capped = Workspace(tmp_path, capsys, EmulatorSettings(page_limit_max=50))
    devices = ("desktop", "mobile")
    declared = [
        snapshot(f"s{i:03d}", device=devices[i % 2], event_id=f"evt-{i}") for i in range(60)
    ]
    capped.write_snapshots({"/big": declared})
    capped.seed(
        *(
            remote_attributes(f"s{i:03d}", view="/big", device=devices[i % 2], event_id=f"evt-{i}")
            for i in range(5, 60)
        )
    )
    capped.apply()
    capped.apply()
    names = [key[3] for key in capped.remote_keys() if key[0] == APP]
    assert len(names) == len(set(names)), "a snapshot was created twice"


def test_a_tampered_masked_name_is_stale(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("Hero")]})
    assert ws.apply().code == 0
    ws.seed(remote_attributes(f"note {API_KEY[:12]} x"))
    assert ws.plan(out="plan.json").code == 0
    text = Path("plan.json").read_text(encoding="utf-8")
    assert "note *** x" in text
    Path("plan.json").write_text(text.replace("note *** x", "note *** y"), encoding="utf-8")
    outcome = ws.apply("plan.json")
    assert "saved plan is stale" in outcome.err
    assert outcome.code != 0
    assert len(ws.remote_keys()) == 2


def test_a_silent_cap_over_one_device_type_is_named_after_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    """The documented limit: every snapshot of one device type, a silent cap below
    server_page_cap. No listing can show the cut (the API has no cursor); the run that
    created snapshots it cannot list again says so, naming the cap and `doctor`."""
    capped = Workspace(tmp_path, capsys, EmulatorSettings(page_limit_max=50))
    declared = [snapshot(f"s{i:03d}", event_id=f"evt-{i}") for i in range(60)]
    capped.write_snapshots({"/big": declared})
    capped.seed(
        *(remote_attributes(f"s{i:03d}", view="/big", event_id=f"evt-{i}") for i in range(5, 60))
    )
    outcome = capped.apply()
    assert outcome.code == 1
    assert (
        "The listing of view /big of application "
        f"{APP} does not show 10 snapshots this run created: the API may cap listings "
        "(50 listed); run `reconciler doctor` before applying again."
    ) in outcome.out + outcome.err
