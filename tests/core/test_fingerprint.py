"""Fingerprints that tell whether a saved plan still describes the world: a view's covers
every listed snapshot whole; the desired one covers what the files manage, not where it
is written."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from reconciler.core.fingerprint import desired_fingerprint, view_fingerprint
from reconciler.core.model import DesiredState, ManagedView, SourcePosition, ViewScope
from support.factories import APP, have, key, state, want

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def test_a_view_fingerprint_is_the_sha256_of_its_snapshots_in_canonical_json() -> None:
    snapshot = replace(have(key("hero"), "id-1"), attributes={"b": 1, "a": "é"})
    canonical = '[["id-1",{"a":"é","b":1}]]'
    assert view_fingerprint([snapshot]) == (
        "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    )
    assert view_fingerprint([]) == "sha256:" + hashlib.sha256(b"[]").hexdigest()


def test_the_listing_order_does_not_change_a_view_fingerprint() -> None:
    first, second = have(key("a"), "id-1"), have(key("b"), "id-2")
    assert view_fingerprint([first, second]) == view_fingerprint([second, first])
    assert DIGEST.fullmatch(view_fingerprint([first, second]))


def test_any_attribute_server_fields_included_changes_a_view_fingerprint() -> None:
    base = have(key("hero"), "id-1")
    before = view_fingerprint([base])
    for name, value in [("modified_at", "2026-02-01T00:00:00.000Z"), ("start", 1501), ("x", None)]:
        changed = replace(base, attributes={**base.attributes, name: value})
        assert view_fingerprint([changed]) != before, name
    assert view_fingerprint([replace(base, id="id-2")]) != before
    assert view_fingerprint([base, have(key("other"), "id-2")]) != before


def test_the_desired_fingerprint_ignores_positions_and_order() -> None:
    hero, other = want(key("hero"), line=3), want(key("other"), line=9)
    moved = DesiredState(
        tuple(
            ManagedView(view.scope, SourcePosition("snapshots/b.yaml", 40, 2))
            for view in state(hero, other).views
        ),
        (replace(other, position=SourcePosition("snapshots/b.yaml", 1, 1)), hero),
    )
    assert desired_fingerprint(moved) == desired_fingerprint(state(hero, other))
    assert DIGEST.fullmatch(desired_fingerprint(moved))


def test_the_desired_fingerprint_covers_views_keys_and_managed_fields() -> None:
    base = desired_fingerprint(state(want(key("hero"))))
    assert desired_fingerprint(state(want(key("hero"), start=1))) != base
    assert desired_fingerprint(state(want(key("hero"), session_id="s"))) != base
    assert desired_fingerprint(state(want(key("hero", device="mobile")))) != base
    assert desired_fingerprint(state(want(key("hero")), views=(ViewScope(APP, "/empty"),))) != (
        base
    )
    # A view managed with no snapshots is not the same as a view not managed at all.
    assert desired_fingerprint(state(views=(ViewScope(APP, "/a"),))) != desired_fingerprint(state())
