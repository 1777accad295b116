"""What `doctor` found: each finding with its status, and the settings it suggests.

ok       the assumption holds
note     worth knowing, assumes nothing (unknown extra attributes, leftovers cleaned)
unknown  could not be checked here (e.g. a page cap where no view is large enough)
differs  the assumption does not hold: the run exits 1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["ok", "note", "unknown", "differs"]


@dataclass(frozen=True)
class Finding:
    status: Status
    topic: str
    message: str


@dataclass
class Report:
    target: str
    views: int
    findings: list[Finding] = field(default_factory=list)
    #: reconciler.yaml key -> (value, why)
    suggestions: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, status: Status, topic: str, message: str) -> None:
        self.findings.append(Finding(status, topic, message))

    def suggest(self, key: str, value: int, why: str) -> None:
        """A reconciler.yaml setting that fits what was found (the last word wins)."""
        self.suggestions[key] = (str(value), why)

    @property
    def holds(self) -> bool:
        return all(finding.status != "differs" for finding in self.findings)
