"""A saved plan whose views cannot all be listed again is stale: what the unlisted view
holds now is unknown, so the recomputed plan cannot be shown to equal the saved one. Nothing
is applied, not even the operations of the views that were listed."""

from __future__ import annotations

import httpx

from reconciler.api.runtime import Runtime
from reconciler.cli.commands import apply as apply_command
from support.workspace import APP, Workspace, remote_attributes, snapshot


class RefusedListing(httpx.AsyncBaseTransport):
    """The emulator, except that listing `view` is answered 400 (failed at once, no retry)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, view: str) -> None:
        self.inner, self.view = inner, view

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.params.get("filter[view_name]") == self.view:
            return httpx.Response(400, json={"errors": ["listing refused by the test"]})
        return await self.inner.handle_async_request(request)


def test_a_view_that_cannot_be_listed_again_makes_the_saved_plan_stale(ws: Workspace) -> None:
    # /checkout has a create to apply; /home is in sync: the saved plan has nothing there.
    ws.write_snapshots({"/checkout": [snapshot("new")], "/home": [snapshot("h")]})
    ws.seed(remote_attributes("h", view="/home"))
    assert ws.plan(out="plan.json").code == 0
    before = ws.remote_keys()

    runtime = Runtime(transport=RefusedListing(ws.transport(), "/home"))
    outcome = ws.command(apply_command.run, {"plan_path": "plan.json"}, runtime)

    assert (outcome.code, outcome.out) == (1, "")
    prefix = f"error: saved plan is stale: cannot re-list view /home of application {APP}: GET "
    assert outcome.err.startswith(prefix), outcome.err
    assert outcome.err.endswith(
        ": 400 Bad Request: listing refused by the test. "
        "Nothing was applied; run `reconciler plan` again.\n"
    )
    assert ws.remote_keys() == before == [(APP, "/home", "desktop", "h")]
