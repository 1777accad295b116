"""`reconciler export`: write a snapshots file from what exists remotely, or merge into one."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler import exitcodes
from reconciler.desired import load_desired
from reconciler.engine import list_all, make_context
from reconciler.errors import InvalidInput, UsageProblem
from reconciler.export import (
    ExportedView,
    ExportError,
    check_application_id,
    merge_document,
    remote_by_view,
    render_document,
)
from reconciler.model import ViewScope
from reconciler.output import echo, redact_file_text
from reconciler.remote import Listing
from reconciler.runtime import Runtime


def run(
    *,
    application_id: str,
    views: Sequence[str],
    output: str | None,
    merge: str | None,
    config_path: str | None,
    overrides: Mapping[str, object],
    runtime: Runtime = Runtime(),
) -> int:
    if output is not None and merge is not None:
        raise UsageProblem("--output and --merge cannot be combined: --merge updates FILE")
    view_names = list(dict.fromkeys(views))  # repeated --view: once
    if not view_names:
        raise UsageProblem("name at least one --view (the API cannot list views)")
    if any(not name for name in view_names):
        raise UsageProblem("--view cannot be empty")
    check_application_id(application_id)
    original = _read_for_merge(merge) if merge is not None else None

    context = make_context(config_path, overrides, runtime=runtime)
    scopes = [ViewScope(application_id, name) for name in view_names]

    async def listing() -> Listing:
        async with context.client() as client:
            return await list_all(context, client, scopes)

    listed = asyncio.run(listing())
    if listed.errors:
        details = "; ".join(str(error) for error in listed.errors)
        raise ExportError(f"nothing was written: {details}")
    exported = remote_by_view(listed.snapshots, view_names)
    _warn(exported)

    if merge is not None and original is not None:
        result = merge_document(original, application_id, exported, path=merge)
        for note in result.notes:
            echo(note, err=True)
        if result.text != original:
            _write(merge, result.text)
        return exitcodes.OK
    text = render_document(application_id, exported)
    if output is None:
        echo(text, nl=False)
    else:
        _write(output, text)
    return exitcodes.OK


def _warn(views: Sequence[ExportedView]) -> None:
    for view in views:
        for warning in view.warnings:
            echo(warning, err=True)


def _read_for_merge(path: str) -> str:
    """The file to merge into, checked first: merging into an invalid file would hide or
    spread its problems."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    _, problems = load_desired([path])
    if problems:
        raise InvalidInput(problems)
    return text


def _write(path: str, text: str) -> None:
    """Atomically: a reader (or a crash) never sees half a file."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(redact_file_text(text))
            if target.exists():
                os.chmod(temporary, target.stat().st_mode & 0o777)
            else:
                os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
