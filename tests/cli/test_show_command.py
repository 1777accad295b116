"""`reconciler show PLAN` of a plan saved for an environment: as `plan` printed it, in the
environment's section, except JSON, which is the saved document itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli.commands import show
from reconciler.config.environments import Selection
from support.workspace import APP, Outcome, Workspace, remote_attributes, snapshot

STAGING = Selection(("staging",))


@pytest.fixture
def staging(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A repository declaring one environment, with one create and one delete to plan."""
    monkeypatch.setenv("DD_API_KEY_STAGING", "test-staging-api-key-0123456789a")
    monkeypatch.setenv("DD_APP_KEY_STAGING", "test-staging-app-key-0123456789abcdef012")
    ws.write(
        "reconciler.yaml",
        f"""
        environments:
          staging:
            api_url: http://127.0.0.1:9
            applications: {{shop: {APP}}}
        """,
    )
    ws.write_snapshots({"/checkout": [snapshot("hero")]})
    ws.seed(remote_attributes("old"))
    return ws


def shown(ws: Workspace, path: str, output_format: str) -> Outcome:
    return ws._run(lambda: show.run(plan_path=path, output_format=output_format, color=False))


def test_text_shows_the_saved_plan_in_its_environments_section(staging: Workspace) -> None:
    planned = staging.plan(selection=STAGING, out="plan.json")
    assert planned.code == 0, planned.err
    assert planned.out.startswith("Environment staging (http://127.0.0.1:9):\n")
    assert shown(staging, "plan.json", "text").out == planned.out


def test_json_shows_the_saved_document_itself(staging: Workspace) -> None:
    planned = staging.plan(selection=STAGING, output_format="json", out="plan.json")
    assert list(json.loads(planned.out)) == ["format_version", "generator", "environments"]
    output = shown(staging, "plan.json", "json").out
    assert output == Path("plan.json").read_text(encoding="utf-8")
    assert json.loads(output)["environment"] == "staging"
