"""Fingerprints that tell whether a saved plan still describes the world.

A view's fingerprint covers every listed snapshot's id and every attribute (server fields
included, so any write since the plan shows). The desired fingerprint covers the managed
views and each snapshot's key and managed fields, not file positions: moving a comment
does not make a plan stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from reconciler.core.model import DesiredState, RemoteSnapshot


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def view_fingerprint(snapshots: Iterable[RemoteSnapshot]) -> str:
    ordered = sorted(snapshots, key=lambda snapshot: snapshot.id)
    return _digest([[snapshot.id, dict(snapshot.attributes)] for snapshot in ordered])


def desired_fingerprint(state: DesiredState) -> str:
    views = sorted([v.scope.application_id, v.scope.view_name] for v in state.views)
    snapshots = [
        [list(s.key.as_dict().values()), dict(sorted(s.fields.items()))]
        for s in sorted(state.snapshots, key=lambda s: s.key)
    ]
    return _digest({"views": views, "snapshots": snapshots})
