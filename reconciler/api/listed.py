"""What one listing says: the raw items of a list call -> the view's snapshots, or the reason
the view cannot be planned (a `ViewError`). Pure; `remote` is its only caller.

Rules (anything a server returns is input):
- wrongly typed fields make the view an error: a garbled key would re-create a snapshot, a
  garbled field would patch it on every run;
- a key field may be missing only when the request filtered on it (the server need not
  repeat a value it was asked to match): `application_id` always (it is always sent as
  `filter[application_id]`), `device_type` in a listing by device type. `view_name` and
  `snapshot_name` missing make the view an error;
- a required mutable field missing (or null) is unknown, not unset: it is never compared
  (`RemoteSnapshot.unreported`); an optional one missing is unset (the API has no null);
- an item of another view or application is dropped (filters are not trusted), unless it
  differs from the filter only as a server normalising names would (case, trailing slash,
  Unicode form): then the view is an error naming the rule, never a create on every run;
- the same id twice with the same content counts once; with different content the view is
  an error (deleting "the other copy" could delete the only one).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from reconciler.core import resource
from reconciler.core.model import FieldValue, RemoteSnapshot, SnapshotKey, ViewError, ViewScope

#: Normalisations a server might apply to names, as (what the rule is, the rule).
_NORMALISATIONS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("letter case", str.casefold),
    ("trailing slash", lambda name: name.rstrip("/") or name),
    ("Unicode form (NFC)", lambda name: unicodedata.normalize("NFC", name)),
    ("Unicode form (NFKC)", lambda name: unicodedata.normalize("NFKC", name)),
)


_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Filter:
    """What a list call asked for."""

    scope: ViewScope
    device_type: str | None = None


@dataclass(frozen=True, slots=True)
class Read:
    """The snapshots of one listing, and how many items did not match its filter."""

    snapshots: tuple[RemoteSnapshot, ...]
    dropped: int = 0


def read_items(asked: Filter, items: Sequence[Mapping[str, Any]]) -> Read | ViewError:
    """The snapshots of `asked` among `items`, or why the view cannot be planned."""
    scope = asked.scope
    application_id, view_name, device_type = (
        scope.application_id,
        scope.view_name,
        asked.device_type,
    )
    implied = {"application_id": application_id, "device_type": device_type}
    kept: list[RemoteSnapshot] = []
    dropped = 0
    for item in items:
        outcome = _snapshot(implied, item)
        if isinstance(outcome, str):
            return ViewError(scope, f"malformed listing: {outcome}; the view is not planned")
        key = outcome.key
        in_scope = key.application_id == application_id and key.view_name == view_name
        if not in_scope:
            normalised = _normalised(asked, key)
            if normalised is not None:
                return ViewError(scope, normalised)
        if not in_scope or (device_type is not None and key.device_type != device_type):
            dropped += 1
            continue
        kept.append(outcome)
    unique = unique_by_id(scope, kept)
    return unique if isinstance(unique, ViewError) else Read(unique, dropped)


def unique_by_id(
    scope: ViewScope, snapshots: Iterable[RemoteSnapshot]
) -> tuple[RemoteSnapshot, ...] | ViewError:
    """Each id once; the same id with different content is a view error."""
    seen: dict[str, RemoteSnapshot] = {}
    for snapshot in snapshots:
        other = seen.get(snapshot.id)
        if other is None:
            seen[snapshot.id] = snapshot
        elif other != snapshot:
            return ViewError(
                scope,
                f"the listing holds id {snapshot.id!r} twice with different content "
                f"({other.key.snapshot_name!r} and {snapshot.key.snapshot_name!r}); "
                "the view is not planned",
            )
    return tuple(seen.values())


def _snapshot(implied: Mapping[str, str | None], item: Mapping[str, Any]) -> RemoteSnapshot | str:
    """The item as a snapshot, or what is wrong with it. `implied`: the key fields the
    request filtered on (None: not filtered on)."""
    snapshot_id = item.get("id")
    attributes = item.get("attributes")
    if not isinstance(snapshot_id, str) or not snapshot_id:
        return "an item has no string `id`"
    if snapshot_id in resource.DOT_SEGMENTS:
        return f"snapshot id {snapshot_id!r} cannot be addressed (a URL's dot segment)"
    if not isinstance(attributes, Mapping):
        return f"snapshot {snapshot_id!r} has no attributes"
    key_values: list[str] = []
    for name in resource.KEY_FIELDS:
        value = attributes.get(name)
        if value is None and implied.get(name) is not None:
            value = implied[name]  # filtered on: the server need not repeat it
        if value is None:
            return f"snapshot {snapshot_id!r} has no `{name}`"
        if not isinstance(value, str):
            kind = type(value).__name__
            return f"snapshot {snapshot_id!r} has `{name}` of type {kind}, expected str"
        key_values.append(value)
    fields: dict[str, FieldValue] = {}
    unreported: set[str] = set()
    for name, expected in resource.MUTABLE_FIELD_TYPES.items():
        field_value: Any = attributes.get(name)
        if field_value is None:
            if name in resource.REQUIRED_MUTABLE_FIELDS:
                unreported.add(name)
            continue
        if type(field_value) is not expected:  # bool is not an int here
            kind = type(field_value).__name__
            return (
                f"snapshot {snapshot_id!r} has `{name}` of type {kind}, "
                f"expected {expected.__name__}"
            )
        fields[name] = cast(FieldValue, field_value)
    created_at = attributes.get("created_at")
    return RemoteSnapshot(
        id=snapshot_id,
        key=SnapshotKey(*key_values),
        fields=fields,
        created_at=created_at if isinstance(created_at, str) else "",
        attributes=dict(attributes),
        unreported=frozenset(unreported) if unreported else _NONE,
    )


def _normalised(asked: Filter, key: SnapshotKey) -> str | None:
    """A message when `key` differs from the filter only by a normalisation of names."""
    pairs = (
        ("view_name", asked.scope.view_name, key.view_name),
        ("application_id", asked.scope.application_id, key.application_id),
    )
    for field_name, sent, got in pairs:
        if sent == got:
            continue
        rule = normalisation_rule(sent, got)
        if rule is not None:
            return (
                f"the server normalises names ({rule}): asked for {field_name} {sent!r}, it "
                f"returned {got!r}; write {got!r} in the snapshots file (the view is not "
                "planned: every run would create its snapshots again)"
            )
    return None


def normalisation_rule(sent: str, got: str) -> str | None:
    """The rule that makes `got` from `sent` (one rule, else the rules applied in turn)."""
    for name, rule in _NORMALISATIONS:
        if rule(sent) == rule(got):
            return name
    used: list[str] = []
    for name, rule in _NORMALISATIONS:
        turned = rule(sent), rule(got)
        if turned != (sent, got):
            used.append(name)
            sent, got = turned
        if sent == got:
            return " and ".join(used)
    return None
