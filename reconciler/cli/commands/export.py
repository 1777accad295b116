"""`reconciler export`: write a snapshots file from what exists remotely, or merge into one."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.api.listing import Listing
from reconciler.api.runtime import Runtime
from reconciler.apply.interrupts import run_loop
from reconciler.config.environments import NO_SELECTION, Selection
from reconciler.config.settings import Overrides
from reconciler.core import exitcodes
from reconciler.core.errors import InvalidInput, UsageProblem
from reconciler.core.files import FileState, Refused, atomic_write, check_target, read_with_state
from reconciler.core.model import ViewScope
from reconciler.core.output import echo
from reconciler.core.yamlload import MAX_FILE_BYTES
from reconciler.desired.export import (
    ExportedView,
    ExportError,
    check_application_id,
    merge_document,
    remote_by_view,
    render_document,
)
from reconciler.desired.load import load_desired
from reconciler.plan.engine import list_all, make_context


def run(
    *,
    application_id: str,
    views: Sequence[str],
    output: str | None,
    merge: str | None,
    config_path: str | None,
    overrides: Overrides,
    runtime: Runtime = Runtime(),
    force: bool = False,
    selection: Selection = NO_SELECTION,
) -> int:
    """List the views, then print, write (`output`, refused if it exists unless `force`) or
    merge into `merge` (refused if that file changed meanwhile). Nothing written on error."""
    if output is not None and merge is not None:
        raise UsageProblem("--output and --merge cannot be combined: --merge updates FILE")
    view_names = list(dict.fromkeys(views))  # repeated --view: once
    if not view_names:
        raise UsageProblem("name at least one --view (the API cannot list views)")
    if any(not name for name in view_names):
        raise UsageProblem("--view cannot be empty")
    if force and output is None:
        raise UsageProblem("--force only applies to --output FILE")
    context = make_context(config_path, overrides, runtime=runtime, selection=selection)
    # With environments, --application-id may be an alias of the environment's.
    alias = application_id if application_id in context.application_aliases else None
    if alias is not None:
        application_id = context.application_aliases[alias]
    check_application_id(application_id)
    original = _read_for_merge(merge) if merge is not None else None
    if output is not None:
        _check_output(output, overwrite=force)  # before listing: fail fast

    scopes = [ViewScope(application_id, name) for name in view_names]

    async def listing() -> Listing:
        async with context.client() as client:
            return await list_all(context, client, scopes)

    listed = run_loop(listing)
    if listed.errors:
        details = "; ".join(str(error) for error in listed.errors)
        raise ExportError(f"nothing was written: {details}")
    exported = remote_by_view(listed.snapshots, view_names)
    _warn(exported)

    if merge is not None and original is not None:
        text, state = original
        result = merge_document(text, application_id, exported, path=merge, alias=alias)
        for note in result.notes:
            echo(note, err=True)
        if result.text != text:
            _write(merge, result.text, expect=state)
        return exitcodes.OK
    rendered = render_document(application_id, exported, alias=alias)
    if output is None:
        echo(rendered, nl=False)
    else:
        _write(output, rendered, overwrite=force)
    return exitcodes.OK


def _warn(views: Sequence[ExportedView]) -> None:
    for view in views:
        for warning in view.warnings:
            echo(warning, err=True)


def _read_for_merge(path: str) -> tuple[str, FileState]:
    """The file to merge into and its state, checked first: merging into an invalid file
    would hide or spread its problems."""
    try:
        data, state = read_with_state(path, MAX_FILE_BYTES)
        text = data.decode("utf-8")
    except Refused as exc:
        reason = str(exc).removeprefix("cannot read file: ")
        raise ExportError(f"cannot read {path}: {reason}") from None
    except UnicodeDecodeError:
        raise ExportError(f"cannot read {path}: not UTF-8 text") from None
    _, problems = load_desired([path])
    if problems:
        raise InvalidInput(problems)
    return text, state


def _check_output(path: str, *, overwrite: bool) -> None:
    try:
        check_target(path, overwrite=overwrite)
    except Refused as exc:
        raise ExportError(f"cannot write {path}: {exc}") from None


def _write(
    path: str, text: str, *, overwrite: bool = True, expect: FileState | None = None
) -> None:
    """Atomically (a reader, a crash or a full disk never sees half a file), never through
    a symbolic link."""
    try:
        atomic_write(path, text, overwrite=overwrite, expect=expect)
    except Refused as exc:
        raise ExportError(f"cannot write {path}: {exc}") from None
