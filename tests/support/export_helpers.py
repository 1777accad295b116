"""Running `reconciler export` in a test workspace, as the CLI runs it."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.api.runtime import Runtime
from reconciler.cli.commands import export as export_command
from reconciler.config.settings import Overrides
from support.workspace import APP, Outcome, Workspace


def export(
    ws: Workspace,
    *views: str,
    application_id: str = APP,
    output: str | None = None,
    merge: str | None = None,
    force: bool = False,
    **overrides: object,
) -> Outcome:
    names: Sequence[str] = views
    return ws._run(
        lambda: export_command.run(
            application_id=application_id,
            views=list(names),
            output=output,
            merge=merge,
            config_path=None,
            overrides=Overrides(**{"api_url": "http://127.0.0.1:9", **overrides}),
            runtime=Runtime(transport=ws.transport()),
            force=force,
        )
    )
