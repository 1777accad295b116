"""The pure diff: every rule of SPEC section 5, on values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.model import (
    DesiredSnapshot,
    FieldValue,
    RemoteSnapshot,
    SourcePosition,
    ViewScope,
)
from reconciler.core.resource import MUTABLE_FIELDS
from reconciler.plan.diff import DiffOptions, diff
from reconciler.plan.operations import Create, Delete, FieldChange, Patch
from reconciler.plan.planfile import request_of
from support.factories import APP, create_body, fields, have, key, key_attributes, want
from support.processes import env_for, running_emulator

SCOPE = ViewScope(APP, "/checkout")


def remote(
    *snapshots: RemoteSnapshot, scope: ViewScope = SCOPE
) -> dict[ViewScope, list[RemoteSnapshot]]:
    return {scope: list(snapshots)}


def test_desired_only_is_a_create_with_the_exact_request() -> None:
    [op] = diff([want(key("hero"), session_id="s-1")], remote())
    assert isinstance(op, Create)
    request = request_of(op)
    assert request.method == "POST"
    assert request.path == "/api/v2/replay/heatmap/snapshots"
    assert request.body == create_body("hero", **fields(session_id="s-1"))


def test_in_sync_gives_nothing() -> None:
    assert diff([want(key("hero"))], remote(have(key("hero"), "id-1"))) == []


@pytest.mark.parametrize(("remote_start", "desired_start"), [(True, 1), (0, False), (1, True)])
def test_a_value_of_another_type_is_a_change_though_python_calls_it_equal(
    remote_start: object, desired_start: object
) -> None:
    # `True == 1` in Python; for the API a boolean is not a number.
    desired = want(key("hero"), start=desired_start)  # type: ignore[arg-type]
    [op] = diff([desired], remote(have(key("hero"), "id-1", start=remote_start)))  # type: ignore[arg-type]
    assert isinstance(op, Patch)
    assert op.changes == (FieldChange("start", remote_start, desired_start),)  # type: ignore[arg-type]
    assert type(op.changes[0].old) is type(remote_start)


@pytest.mark.parametrize(
    ("change", "old", "new"),
    [
        ({"event_id": "evt-2"}, "evt-1", "evt-2"),
        ({"start": 1600}, 1500, 1600),
        ({"selected": True}, False, True),
        ({"session_id": "s-2"}, "s-1", "s-2"),
        ({"view_id": "v-2"}, "v-1", "v-2"),
    ],
)
def test_each_mutable_field_is_patched(change: dict[str, object], old: object, new: object) -> None:
    base = {"session_id": "s-1", "view_id": "v-1"}
    desired = want(key("hero"), **{**base, **change})  # type: ignore[arg-type]
    [op] = diff([desired], remote(have(key("hero"), "id-1", **base)))  # type: ignore[arg-type]
    assert isinstance(op, Patch)
    name = "is_device_type_selected_by_user" if "selected" in change else next(iter(change))
    assert op.changes == (FieldChange(name, old, new),)  # type: ignore[arg-type]
    request = request_of(op)
    assert request.method == "PATCH"
    assert request.path == "/api/v2/replay/heatmap/snapshots/id-1"
    assert request.body is not None
    assert request.body["data"]["id"] == "id-1"
    assert set(request.body["data"]["attributes"]) == {
        "event_id",
        "start",
        "is_device_type_selected_by_user",
        "session_id",
        "view_id",
    }


def test_type_change_is_a_difference() -> None:
    # The API returned "1500" (a string): equal-looking, but not what the file says.
    remote_snapshot = have(key("hero"), "id-1")
    odd = RemoteSnapshot(
        "id-1", remote_snapshot.key, {**remote_snapshot.fields, "start": "1500"}, "", {}
    )
    [op] = diff([want(key("hero"))], remote(odd))
    assert isinstance(op, Patch)
    assert op.changes == (FieldChange("start", "1500", 1500),)


def test_optional_field_absent_from_yaml_is_not_managed() -> None:
    remote_snapshot = have(key("hero"), "id-1", session_id="s-remote", view_id="v-remote")
    assert diff([want(key("hero"))], remote(remote_snapshot)) == []


def test_field_missing_remotely_is_patched_from_unset() -> None:
    desired = want(key("hero"), session_id="s-1")
    [op] = diff([desired], remote(have(key("hero"), "id-1")))
    assert isinstance(op, Patch)
    assert op.changes == (FieldChange("session_id", None, "s-1"),)


def test_remote_only_is_deleted_when_pruning() -> None:
    [op] = diff([], remote(have(key("old"), "id-9")))
    assert isinstance(op, Delete)
    assert op.reason == "not declared"
    assert request_of(op).path == "/api/v2/replay/heatmap/snapshots/id-9"
    assert request_of(op).body is None


def test_prune_off_plans_no_deletes() -> None:
    ops = diff(
        [want(key("hero"))],
        remote(have(key("old"), "id-9"), have(key("hero"), "a"), have(key("hero"), "b")),
        DiffOptions(prune=False),
    )
    assert ops == []


def test_ignore_glob_protects_from_deletion() -> None:
    ops = diff(
        [],
        remote(have(key("manual: kept"), "id-1"), have(key("old"), "id-2")),
        DiffOptions(ignore=("manual:*",)),
    )
    assert [(type(op), op.key.snapshot_name) for op in ops] == [(Delete, "old")]


def test_duplicates_keep_the_matching_one_and_delete_the_others() -> None:
    ops = diff(
        [want(key("hero"), start=2000)],
        remote(
            have(key("hero"), "old", created_at="2026-01-01T00:00:00.000Z", start=1),
            have(key("hero"), "match", created_at="2026-02-01T00:00:00.000Z", start=2000),
            have(key("hero"), "other", created_at="2026-03-01T00:00:00.000Z", start=3),
        ),
    )
    assert sorted((op.phase, getattr(op, "snapshot_id", ""), op.reason) for op in ops) == [
        ("delete", "old", "duplicate"),
        ("delete", "other", "duplicate"),
    ]


def test_duplicates_without_a_match_patch_the_oldest() -> None:
    ops = diff(
        [want(key("hero"), start=2000)],
        remote(
            have(key("hero"), "newer", created_at="2026-03-01T00:00:00.000Z", start=3),
            have(key("hero"), "oldest", created_at="2026-01-01T00:00:00.000Z", start=1),
        ),
    )
    summary = sorted((op.phase, getattr(op, "snapshot_id", ""), op.reason) for op in ops)
    assert summary == [("delete", "newer", "duplicate"), ("patch", "oldest", "changed: start")]


def test_key_change_is_delete_plus_create() -> None:
    ops = diff([want(key("hero", device="mobile"))], remote(have(key("hero"), "id-1")))
    assert sorted((op.phase, op.key.device_type) for op in ops) == [
        ("create", "mobile"),
        ("delete", "desktop"),
    ]


def test_scopes_not_listed_are_left_alone() -> None:
    # A view whose listing failed is absent from `remote`: nothing is planned for it.
    assert diff([want(key("hero", view="/failed"))], remote()) == []


def test_a_sparse_listing_never_compares_the_fields_it_left_out() -> None:
    listed = have(key("hero"), "id-1", start=7)
    sparse = RemoteSnapshot(
        listed.id, listed.key, listed.fields, listed.created_at, {}, frozenset({"start"})
    )
    assert diff([want(key("hero"))], remote(sparse)) == []
    [op] = diff([want(key("hero"), event_id="evt-2")], remote(sparse))
    assert isinstance(op, Patch)
    assert op.changes == (FieldChange("event_id", "evt-1", "evt-2"),)


#: What a listing may hold in a field: the scalars of a file, and what else JSON gives.
REMOTE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 2000.0, 1.5]),
    st.sampled_from(["", "1", "true", "evt-1"]),
)
DESIRED_VALUES = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(["", "1", "evt-1"]))


PAIR = st.tuples(
    st.dictionaries(st.sampled_from(MUTABLE_FIELDS), DESIRED_VALUES, min_size=1),
    st.dictionaries(st.sampled_from(MUTABLE_FIELDS), REMOTE_VALUES),
    st.frozensets(st.sampled_from(MUTABLE_FIELDS)),
)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(PAIR, min_size=1, max_size=6))
def test_the_changes_are_exactly_the_fields_whose_value_or_type_differs(
    pairs: list[tuple[dict[str, FieldValue], dict[str, Any], frozenset[str]]],
) -> None:
    """Field by field, type included (`True` is not `1`, `2000.0` is not `2000`); a field
    the file leaves out is not managed; one the listing left out is never compared. Several
    pairs explained at once each get their own changes."""
    wanted, listed, expected = [], [], {}
    for number, (desired, values, unreported) in enumerate(pairs):
        name = key(f"s{number}")
        reported = {field: value for field, value in values.items() if value is not None}
        wanted.append(DesiredSnapshot(name, desired, SourcePosition("a.yaml", 1, 1)))
        listed.append(RemoteSnapshot(f"id-{number}", name, reported, "", {}, unreported))
        changes = tuple(
            FieldChange(field, reported.get(field), desired[field])
            for field in MUTABLE_FIELDS
            if field in desired
            and field not in unreported
            and typed(reported.get(field)) != typed(desired[field])
        )
        if changes:
            expected[f"id-{number}"] = changes
    found = {op.snapshot_id: op.changes for op in diff(wanted, remote(*listed))}
    assert found == expected


def typed(value: object) -> tuple[type, object]:
    return type(value), value


def test_deepdiff_is_imported_only_to_explain_a_difference(tmp_path: Path) -> None:
    """`validate` and a plan without a patch never load it; a plan with one does."""
    (tmp_path / "snapshots").mkdir()
    hero = {"snapshot_name": "hero", "device_type": "desktop", "event_id": "e", "start": 1}
    document = {"application_id": APP, "views": {"/checkout": [hero]}}
    (tmp_path / "snapshots" / "a.yaml").write_text(json.dumps(document))
    code = (
        "import sys; from reconciler.cli.main import main; rc = main(sys.argv[1:]);"
        " print(rc, 'deepdiff' in sys.modules)"
    )

    def loaded(url: str, *argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code, *argv],
            cwd=tmp_path,
            env=env_for(url),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.stdout.splitlines()[-1]

    with running_emulator() as url:
        assert loaded(url, "validate") == "0 False"
        assert loaded(url, "plan") == "0 False"  # a create: nothing to explain
        attributes = {**key_attributes("hero"), **{**hero, "start": 2}}
        attributes["is_device_type_selected_by_user"] = False
        seeded = httpx.post(f"{url}/_emulator/snapshots", json={"data": [attributes]})
        assert seeded.status_code == 201
        assert loaded(url, "plan") == "0 True"  # a patch: its change is explained
