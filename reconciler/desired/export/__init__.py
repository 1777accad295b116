"""Export: remote snapshots -> a snapshots file (SPEC section 2), or merged into one.

Pure functions over RemoteSnapshot values, one job per module: `select` chooses the entries,
`emit` writes a new file, `merge` updates an existing one keeping its comments. The command
(`reconciler.cli.commands.export`) lists, prints and writes.
"""

from reconciler.desired.export.emit import (
    MODELINE,
    double_quoted,
    needs_quotes,
    render_document,
    scalar,
)
from reconciler.desired.export.merge import MergeResult, merge_document
from reconciler.desired.export.select import (
    FIELD_ORDER,
    Entry,
    ExportedView,
    ExportError,
    check_application_id,
    describe,
    export_view,
    remote_by_view,
)

__all__ = [
    "FIELD_ORDER",
    "MODELINE",
    "Entry",
    "ExportError",
    "ExportedView",
    "MergeResult",
    "check_application_id",
    "describe",
    "double_quoted",
    "export_view",
    "merge_document",
    "needs_quotes",
    "remote_by_view",
    "render_document",
    "scalar",
]
