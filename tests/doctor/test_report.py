"""What `doctor` found: findings in the order found, whether every assumption holds, and the
reconciler.yaml settings it suggests (the last word on a setting wins)."""

from __future__ import annotations

import pytest

from reconciler.doctor.report import Finding, Report, Status


def test_findings_keep_the_order_they_were_found_in() -> None:
    report = Report("http://127.0.0.1:9", 2)
    report.add("ok", "site", "reachable")
    report.add("note", "items", "extra")
    assert report.findings == [
        Finding("ok", "site", "reachable"),
        Finding("note", "items", "extra"),
    ]
    assert (report.target, report.views) == ("http://127.0.0.1:9", 2)


@pytest.mark.parametrize("status", ["ok", "note", "unknown"])
def test_only_a_finding_that_differs_breaks_the_assumptions(status: Status) -> None:
    report = Report("t", 1)
    assert report.holds  # nothing found: nothing differs
    report.add(status, "topic", "message")
    assert report.holds
    report.add("differs", "topic", "message")
    assert not report.holds


def test_the_last_suggestion_for_a_setting_wins_and_is_written_as_text() -> None:
    report = Report("t", 1)
    report.suggest("server_page_cap", 1000, "first guess")
    report.suggest("page_limit", 37, "the server rejects more")
    report.suggest("server_page_cap", 100, "reject mode: the server's maximum")
    assert report.suggestions == {
        "server_page_cap": ("100", "reject mode: the server's maximum"),
        "page_limit": ("37", "the server rejects more"),
    }
