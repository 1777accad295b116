"""The registry of plan formats: what each format needs of a plan, and how the plans of
several environments render together, a section each."""

from __future__ import annotations

import dataclasses
import json

import pytest

from reconciler import __version__
from reconciler.core.model import ViewScope
from reconciler.plan.diff import diff
from reconciler.plan.planfile import FORMAT_VERSION, PlanDocument
from reconciler.plan.planner import build_plan
from reconciler.render.common import MARKDOWN_LIMIT
from reconciler.render.formats import PLAN_FORMATS, render, render_all
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from support.factories import APP, key, want

FINGERPRINT = "sha256:" + "0" * 64


def document(environment: str | None = None, url: str = "http://127.0.0.1:9") -> PlanDocument:
    """A plan of two creates in /checkout, with fingerprints."""
    scope = ViewScope(APP, "/checkout")
    operations = diff([want(key("hero")), want(key("fold"))], {scope: []})
    plan = build_plan(operations, {scope: 0})
    return PlanDocument(plan, url, None, FINGERPRINT, (), environment=environment)


@pytest.mark.parametrize("name", list(PLAN_FORMATS))
def test_only_the_plan_document_formats_need_the_fingerprints(name: str) -> None:
    """`plan` computes fingerprints only for the formats that show them (and `--out`)."""
    without = dataclasses.replace(document(), desired_fingerprint=None)
    if PLAN_FORMATS[name].is_plan_document:
        with pytest.raises(ValueError, match="without fingerprints"):
            render(without, name)
    else:
        assert "2 to create" in render(without, name)


def test_json_is_the_plan_document_itself() -> None:
    plan = document()
    assert render(plan, "json") == plan.to_json()
    assert PlanDocument.from_dict(json.loads(render(plan, "json"))).to_json() == plan.to_json()


@pytest.mark.parametrize("name", list(PLAN_FORMATS))
def test_without_environments_one_plan_renders_as_render_renders_it(name: str) -> None:
    plan = document()
    assert render_all([plan], name, sectioned=False) == render(plan, name)


def test_text_sections_name_each_environment_and_where_its_plan_goes() -> None:
    staging = document("staging", "http://127.0.0.1:9001")
    production = document("production", "https://api.datadoghq.eu")
    assert render_all([staging, production], "text") == (
        "Environment staging (http://127.0.0.1:9001):\n"
        + render_text(staging)
        + "\nEnvironment production (https://api.datadoghq.eu):\n"
        + render_text(production)
    )


def test_markdown_sections_share_one_comment() -> None:
    plans = [document("staging"), document("production")]
    share = MARKDOWN_LIMIT // 2
    assert render_all(plans, "markdown") == "\n".join(render_markdown(p, share) for p in plans)


def test_github_sections_are_every_plans_annotations() -> None:
    plans = [document("staging"), document("production")]
    assert render_all(plans, "github") == (
        "::notice title=staging%3A reconciler plan::Plan: 2 to create, 0 to patch, 0 to delete.\n"
        "::notice title=production%3A reconciler plan::Plan: 2 to create, 0 to patch, 0 to"
        " delete.\n"
    )


def test_json_sections_list_each_environments_document_in_order() -> None:
    plans = [document("staging"), document("production")]
    assert json.loads(render_all(plans, "json")) == {
        "format_version": FORMAT_VERSION,
        "generator": f"reconciler {__version__}",
        "environments": [plans[0].to_dict(), plans[1].to_dict()],
    }
