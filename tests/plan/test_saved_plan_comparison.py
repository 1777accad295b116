"""What `apply PLAN` compares and says: a name the file holds masked matches only the real
name that masks to it; the commit a plan was made at is compared only when both commits are
known (information, never a failure); a stale message names five differences and counts
the rest."""

from __future__ import annotations

import json
from pathlib import Path

from support.workspace import API_KEY, Workspace, remote_attributes, snapshot

APPLIED = "Apply: 0 created, 0 patched, 1 deleted, 0 failed, 0 skipped."


def saved_with_a_masked_name(ws: Workspace) -> str:
    """A plan that deletes a snapshot whose name holds 12 characters of the key."""
    ws.write_snapshots({"/checkout": [snapshot("Hero")]})
    assert ws.apply().code == 0
    ws.seed(remote_attributes(f"note {API_KEY[:12]} x"))
    assert ws.plan(out="plan.json").code == 0
    text = Path("plan.json").read_text(encoding="utf-8")
    assert API_KEY[:12] not in text
    return text


def test_a_masked_name_matches_the_real_name_it_masks(ws: Workspace) -> None:
    assert "note *** x" in saved_with_a_masked_name(ws)
    outcome = ws.apply("plan.json")
    assert outcome.code == 0, outcome.err
    assert APPLIED in outcome.out
    assert [k[3] for k in ws.remote_keys()] == ["Hero"]


def test_a_masked_name_edited_in_the_file_is_stale(ws: Workspace) -> None:
    text = saved_with_a_masked_name(ws)
    Path("plan.json").write_text(text.replace("note *** x", "note *** y"), encoding="utf-8")
    outcome = ws.apply("plan.json")
    assert outcome.code == 1
    assert outcome.err.startswith("error: saved plan is stale: ")
    assert len(ws.remote_keys()) == 2


def at_commit(root: Path, commit: str | None) -> None:
    """The folder a git checkout at `commit` (a detached HEAD), or no repository."""
    git = root / ".git"
    if commit is None:
        (git / "HEAD").unlink()
        git.rmdir()
        return
    git.mkdir(exist_ok=True)
    (git / "HEAD").write_text(commit + "\n")


def test_a_commit_known_on_one_side_only_is_no_warning(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot("a")]})
    assert ws.plan(out="outside.json").code == 0  # no repository: no commit
    at_commit(ws.root, "c" * 40)
    assert ws.plan(out="inside.json").code == 0
    assert json.loads(Path("inside.json").read_text())["git"] == {"commit": "c" * 40}

    made_outside = ws.apply("outside.json")  # applied in the repository
    ws.admin("POST", "/_emulator/reset")
    at_commit(ws.root, None)
    made_inside = ws.apply("inside.json")  # applied outside any repository

    for outcome in (made_outside, made_inside):
        assert outcome.code == 0, outcome.err
        assert "made at commit" not in outcome.out + outcome.err


def test_a_stale_message_names_five_differences_and_counts_the_rest(ws: Workspace) -> None:
    ws.write_snapshots({"/checkout": [snapshot(f"s{i}") for i in range(7)]})
    assert ws.plan(out="plan.json").code == 0
    ws.write_snapshots({"/checkout": []})
    outcome = ws.apply("plan.json")
    assert outcome.code == 1
    assert outcome.err.startswith("error: saved plan is stale: ")
    assert outcome.err.endswith("; and 2 more. Nothing was applied; run `reconciler plan` again.\n")
    assert ws.remote_keys() == []
