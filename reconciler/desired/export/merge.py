"""Merging exported views into an existing snapshots file, keeping its comments and layout.

Comment-preserving surgery on ruamel.yaml's round-trip tree: only the named views change
(values in place, new snapshots appended, gone ones removed); every other byte stays.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from reconciler.core import resource
from reconciler.core.model import FieldValue
from reconciler.desired.export.emit import needs_quotes
from reconciler.desired.export.select import FIELD_ORDER, Entry, ExportedView, ExportError, describe


@dataclass(frozen=True, slots=True)
class MergeResult:
    text: str
    notes: tuple[str, ...]


def _round_trip(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 30  # never re-flow long values
    mapping, sequence, offset = _guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as ruamel wants them, from the first view and its first
    item; defaults to what render_document writes."""
    lines = text.splitlines()
    mapping, offset, gap = 2, 2, 1
    for number, line in enumerate(lines):
        if line.rstrip() != "views:":
            continue
        for view_line in lines[number + 1 :]:
            stripped = view_line.lstrip(" ")
            if stripped and not stripped.startswith("#"):
                mapping = max(1, len(view_line) - len(stripped))
                break
        for item_line in lines[number + 1 :]:
            stripped = item_line.lstrip(" ")
            if stripped.startswith("- ") or stripped == "-":
                offset = max(0, len(item_line) - len(stripped) - mapping)
                # `-   key`: the spaces after the dash are part of the item's indent.
                after = stripped[1:]
                if after.strip():
                    gap = len(after) - len(after.lstrip(" "))
                break
        break
    return mapping, offset + 1 + gap, offset


def _string(text: str, like: object = None) -> str:
    """A string for ruamel: the old value's quoting style when it had one, else quoted only
    when needed."""
    result: str = text
    if isinstance(like, SingleQuotedScalarString) and text.isprintable():
        result = SingleQuotedScalarString(text)
    elif isinstance(like, DoubleQuotedScalarString) or needs_quotes(text):
        result = DoubleQuotedScalarString(text)
    return result


def _same(old: object, new: FieldValue) -> bool:
    return old == new and isinstance(old, bool) == isinstance(new, bool)


class _Trailing:
    """The comment after an item's last line: its own end-of-line comment (kept with the
    item) and the full comment lines that follow (they belong to what comes next)."""

    def __init__(self, token: CommentToken | None, key: object) -> None:
        self.token = token
        self.key = key
        text = token.value if token is not None else "\n"
        first, _, rest = text.partition("\n")
        self.eol = first
        self.rest = rest


def _item_trailing_slot(seq: CommentedSeq, index: int) -> tuple[list[Any], int, object]:
    """Where the comment after item `index` lives: (slot, position in it, key or None)."""
    item = seq[index]
    if isinstance(item, CommentedMap) and len(item) and not item.fa.flow_style():
        key = list(item.keys())[-1]
        return item.ca.items.setdefault(key, [None, None, None, None]), 2, key
    return seq.ca.items.setdefault(index, [None, None, None, None]), 0, None


def _token(text: str, like: CommentToken | None) -> CommentToken | None:
    if text in ("", "\n"):
        return None
    if like is not None:
        return CommentToken(text, like.start_mark, None)
    return CommentToken(text, CommentMark(0), None)


def merge_document(
    text: str,
    application_id: str,
    views: Sequence[ExportedView],
    *,
    path: str,
    alias: str | None = None,
) -> MergeResult:
    """`text` with the named views updated to `views`; everything else left as it was.
    The file must be for `application_id` (or, with `alias`, name that alias)."""
    yaml = _round_trip(text)
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        raise ExportError(f"{path}: cannot be read as YAML: {exc}") from None
    if not isinstance(document, CommentedMap) or not isinstance(
        document.get("views"), CommentedMap
    ):
        raise ExportError(f"{path}: not a snapshots file (no 'views' mapping)")
    found = document.get("application_id", document.get("application"))
    if found not in (application_id, alias) or (
        "application" in document and document.get("application") != alias
    ):
        wanted = application_id if alias is None else f"{alias} ({application_id})"
        raise ExportError(
            f"{path} is for application {found}, not {wanted}; export into another file instead"
        )
    notes: list[str] = []
    file_views: CommentedMap = document["views"]
    for view in views:
        existing = file_views.get(view.view_name)
        if view.view_name in file_views and not isinstance(existing, CommentedSeq):
            raise ExportError(f"{path}: view {view.view_name} is not a list of snapshots")
    for view in views:
        existing = file_views.get(view.view_name)
        if isinstance(existing, CommentedSeq):
            notes.extend(_merge_view(file_views, view, existing))
    new_views = [view for view in views if view.view_name not in file_views]
    if new_views:
        # Comment lines at the end of the file stay at the end, after the new views.
        ending = _pop_tail(file_views) if file_views else ""
        for view in new_views:
            file_views[_string(view.view_name)] = _new_seq(view.entries)
        _push_tail(file_views, ending)
    out = io.StringIO()
    yaml.dump(document, out)
    return MergeResult(out.getvalue(), tuple(notes))


def _tail_slot(file_views: CommentedMap) -> tuple[list[Any], int, object]:
    """Where the comment after the last view lives."""
    name = list(file_views.keys())[-1]
    value = file_views[name]
    if isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
        return _item_trailing_slot(value, len(value) - 1)
    return file_views.ca.items.setdefault(name, [None, None, None, None]), 2, name


def _pop_tail(file_views: CommentedMap) -> str:
    slot, position, _ = _tail_slot(file_views)
    token: CommentToken | None = slot[position]
    if token is None:
        return ""
    first, _, rest = token.value.partition("\n")
    slot[position] = _token(first + "\n", token)
    return rest


def _push_tail(file_views: CommentedMap, rest: str) -> None:
    if not rest:
        return
    slot, position, _ = _tail_slot(file_views)
    token: CommentToken | None = slot[position]
    first = token.value.partition("\n")[0] if token is not None else ""
    slot[position] = _token(first + "\n" + rest, token)


def _new_map(entry: Entry) -> CommentedMap:
    result = CommentedMap()
    for name, value in entry.items():
        result[name] = _string(value) if isinstance(value, str) else value
    return result


def _new_seq(entries: Sequence[Entry]) -> CommentedSeq:
    seq = CommentedSeq(_new_map(entry) for entry in entries)
    if not entries:
        seq.fa.set_flow_style()
    return seq


def _merge_view(file_views: CommentedMap, view: ExportedView, seq: CommentedSeq) -> list[str]:
    notes: list[str] = []
    remote = {(str(e["device_type"]), str(e["snapshot_name"])): e for e in view.entries}
    # Comments before item i live with what precedes it: gather them per item first.
    trailing = [_pop_trailing(seq, i) for i in range(len(seq))]
    head_token, head_rest = _pop_head(file_views, view.view_name, seq)
    if not seq or seq.fa.flow_style():
        # `/view: [...]  # comment` is one line: what follows it comes after the view.
        before, after = ["" for _ in trailing], head_rest + "".join(t.rest for t in trailing)
        seq.fa.set_block_style()
    else:
        before = [head_rest] + [t.rest for t in trailing[:-1]]
        after = trailing[-1].rest if trailing else ""

    kept: list[tuple[Any, str, _Trailing | None]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(list(seq)):
        key = (str(item.get("device_type")), str(item.get("snapshot_name")))
        want = remote.get(key)
        if want is None:
            notes.append(f"removed: {describe(view.view_name, *key)} (no longer exists remotely)")
            continue
        seen.add(key)
        _update(item, want)
        kept.append((item, before[index], trailing[index]))
    for key, entry in remote.items():
        if key not in seen:
            kept.append((_new_map(entry), "", None))

    del seq[:]
    seq.ca.items.clear()
    if not kept:
        # An empty block sequence cannot be written: the view becomes `[]`.
        fresh = _new_seq(())
        file_views[view.view_name] = fresh
        _set_head(file_views, view.view_name, fresh, head_token, after)
        return notes
    seq.extend(item for item, _, _ in kept)
    _set_head(file_views, view.view_name, seq, head_token, kept[0][1])
    for index, (item, _, own) in enumerate(kept):
        follows = kept[index + 1][1] if index + 1 < len(kept) else after
        slot, position, last_key = _item_trailing_slot(seq, index)
        eol = own.eol if own is not None else ""
        if own is not None and own.key != last_key:
            # The item's old last line moved up or went away: its comment stays with it.
            if own.key in item:
                item.ca.items.setdefault(own.key, [None, None, None, None])[2] = _token(
                    eol + "\n", own.token
                )
            eol = ""
        slot[position] = _token(eol + "\n" + follows, own.token if own else None)
    return notes


def _pop_trailing(seq: CommentedSeq, index: int) -> _Trailing:
    slot, position, key = _item_trailing_slot(seq, index)
    token: CommentToken | None = slot[position]
    slot[position] = None
    return _Trailing(token, key)


def _pop_head(
    file_views: CommentedMap, view_name: str, seq: CommentedSeq
) -> tuple[CommentToken | None, str]:
    """(the token after the view key, the comment lines before the first item)."""
    slot = file_views.ca.items.get(view_name)
    token: CommentToken | None = slot[2] if slot else None
    rest = ""
    if token is not None:
        first, _, rest = token.value.partition("\n")
        token = _token(first + "\n", token)
    if slot and slot[3]:
        rest += "".join(t.value for t in slot[3])
        slot[3] = None
    if seq.ca.comment:
        seq.ca.comment = None
    if slot:
        slot[2] = None
    return token, rest


def _set_head(
    file_views: CommentedMap,
    view_name: str,
    seq: CommentedSeq,
    eol: CommentToken | None,
    rest: str,
) -> None:
    eol_text = eol.value.rstrip("\n") if eol is not None else ""
    slot = file_views.ca.items.setdefault(view_name, [None, None, None, None])
    slot[2] = _token(eol_text + "\n" + rest, eol)
    seq.ca.comment = [slot[2], None] if slot[2] is not None else None


def _update(item: CommentedMap, want: Entry) -> None:
    """Changed values in place; fields the file leaves unmanaged stay so, unless the remote
    value cannot be left unmanaged (is_device_type_selected_by_user defaults to false)."""
    for name in ("event_id", "start"):
        value = want[name]
        if not _same(item.get(name), value):
            item[name] = _string(value, item.get(name)) if isinstance(value, str) else value
    selected = want.get("is_device_type_selected_by_user", False)
    flag = "is_device_type_selected_by_user"
    if flag in item:
        if not _same(item[flag], selected):
            item[flag] = selected
    elif selected:
        _insert(item, flag, True)
    for name in resource.OPTIONAL_MUTABLE_FIELDS:
        if name not in item:
            continue  # not managed by this file: stays so
        remote = want.get(name)
        if remote is None:
            # Unset remotely: a declared value would be planned as a patch.
            item.ca.items.pop(name, None)
            del item[name]
        elif not _same(item[name], remote):
            item[name] = _string(str(remote), item[name])


def _insert(item: CommentedMap, name: str, value: FieldValue) -> None:
    rank = FIELD_ORDER.index(name)
    position = sum(1 for key in item if key in FIELD_ORDER and FIELD_ORDER.index(key) < rank)
    item.insert(position, name, value)
