"""The pipeline wired together: desired -> remote -> diff -> planner -> a plan document.

Shared by `plan`, `apply` (which plans first, checks saved plans for staleness, and
re-plans afterwards to check convergence) and `export`.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.api.errors import AuthError
from reconciler.api.sites import resolve_target
from reconciler.client import ApiClient
from reconciler.config import Settings, load_settings
from reconciler.desired import load_desired
from reconciler.diff import DiffOptions, diff_report
from reconciler.errors import InvalidInput
from reconciler.fingerprint import desired_fingerprint
from reconciler.gitrev import head_commit
from reconciler.model import DesiredState, RemoteSnapshot, ViewError, ViewScope
from reconciler.planfile import PlanDocument
from reconciler.planner import SafetyThresholds, build_plan
from reconciler.remote import Listing, ListingRules, RemoteReader
from reconciler.runtime import Runtime
from reconciler.secrets import Credentials
from reconciler.targets import TargetSet, UnmatchedTarget

logger = logging.getLogger("reconciler.target")


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a command needs to talk to the API, resolved once."""

    settings: Settings
    base_url: str
    credentials: Credentials
    runtime: Runtime = Runtime()

    def client(self) -> ApiClient:
        return self.runtime.client(self.base_url, self.credentials)


def make_context(
    config_path: str | None,
    overrides: Mapping[str, object],
    *,
    environ: Mapping[str, str] | None = None,
    runtime: Runtime = Runtime(),
) -> Context:
    env = os.environ if environ is None else environ
    return _context(load_settings(config_path, overrides, env), env, runtime)


def _context(settings: Settings, env: Mapping[str, str], runtime: Runtime) -> Context:
    """The target (after the policy: nothing is connected or looked up before), then keys."""
    target = resolve_target(settings)
    logger.info("API host %s (%s)", target.host, target.origin)
    return Context(settings, target.base_url, Credentials.from_environ(env), runtime)


def prepare(
    config_path: str | None,
    overrides: Mapping[str, object],
    *,
    runtime: Runtime = Runtime(),
) -> tuple[Context, DesiredState]:
    """Settings, then the snapshot files (offline, so bad files are reported even without
    keys), then the API target and keys."""
    settings = load_settings(config_path, overrides, os.environ)
    desired = load_valid_desired(settings)
    return _context(settings, os.environ, runtime), desired


def load_valid_desired(settings: Settings, paths: Sequence[str] = ()) -> DesiredState:
    state, problems = load_desired(
        list(paths) or [settings.snapshots], root=settings.repository_root
    )
    if problems:
        raise InvalidInput(problems)
    return state


def target_site(context: Context) -> str | None:
    return None if context.settings.api_url else context.settings.site


#: One reader per client, i.e. per run: what a run learns about the server (its page
#: maximum) and the warnings it gave are kept across plan, adoption and convergence.
_readers: weakref.WeakKeyDictionary[ApiClient, RemoteReader] = weakref.WeakKeyDictionary()


def reader(context: Context, client: ApiClient) -> RemoteReader:
    """The run's listing authority for `client` (bad keys stop everything with one error)."""
    settings = context.settings
    rules = ListingRules(settings.page_limit, settings.server_page_cap, settings.parallelism)
    found = _readers.get(client)
    if found is None or found.rules != rules:
        found = _readers[client] = RemoteReader(client, rules, is_fatal=AuthError)
    return found


async def list_all(context: Context, client: ApiClient, scopes: Sequence[ViewScope]) -> Listing:
    """List `scopes`; bad keys stop everything with one error instead of one per view."""
    return await reader(context, client).views(scopes)


async def list_scope(
    context: Context, client: ApiClient, scope: ViewScope
) -> tuple[RemoteSnapshot, ...] | ViewError:
    """One view's snapshots or its error, by the same rules as `list_all` (for adoption)."""
    return await reader(context, client).scope(scope)


async def compute_plan(
    context: Context,
    client: ApiClient,
    desired: DesiredState,
    *,
    targets: Sequence[str] = (),
    scopes: Sequence[ViewScope] | None = None,
    fingerprints: bool = False,
) -> tuple[PlanDocument, Listing]:
    """List the managed views (or those of `scopes` that are managed), diff, and build the
    ordered, checked plan. `fingerprints`: compute them (only saved and JSON plans show them).
    """
    settings = context.settings
    managed = {view.scope for view in desired.views}
    wanted = sorted(managed if scopes is None else managed & set(scopes))
    sources = {view.scope: view.position for view in desired.views}
    chosen = TargetSet.parse(targets, {scope: pos.path for scope, pos in sources.items()})
    listing = await list_all(context, client, wanted)
    unmatched = chosen.unmatched(
        managed,
        [s.key for s in desired.snapshots]
        + [s.key for items in listing.snapshots.values() for s in items],
    )
    if unmatched:
        raise UnmatchedTarget(unmatched[0])
    result = diff_report(
        (s for s in desired.snapshots if s.key.scope in listing.snapshots),
        listing.snapshots,
        DiffOptions(prune=settings.prune, ignore=settings.ignore),
    )
    thresholds = SafetyThresholds(
        max_delete_fraction=settings.max_delete_fraction,
        max_update_fraction=settings.max_update_fraction,
        min_existing=settings.min_existing,
    )
    plan = build_plan(result.operations, listing.counts, thresholds, chosen)
    document = PlanDocument(
        plan=plan,
        target_url=context.base_url,
        site=target_site(context),
        desired_fingerprint=desired_fingerprint(desired) if fingerprints else None,
        views=listing.fingerprinted_views() if fingerprints else listing.views,
        errors=listing.errors,
        targets=tuple(targets),
        warnings=listing.warnings,
        git_commit=head_commit(),
        ignored=sum(1 for key in result.ignored if chosen.selects(key)),
        unpruned=sum(1 for key in result.unpruned if chosen.selects(key)),
        sources=sources,
    )
    return document, listing
