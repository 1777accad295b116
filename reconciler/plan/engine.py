"""The pipeline wired together: desired -> remote -> diff -> planner -> a plan document.

Shared by `plan`, `apply` (which plans first, checks saved plans for staleness, and
re-plans afterwards to check convergence) and `export`.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.api.client import ApiClient
from reconciler.api.errors import AuthError
from reconciler.api.listing import Listing, ListingRules, RemoteReader
from reconciler.api.runtime import Runtime
from reconciler.config.environments import NO_SELECTION, Environment, Selection, declared, select
from reconciler.config.settings import Overrides, Settings, load_settings
from reconciler.config.sites import resolve_target
from reconciler.core.errors import InvalidInput, UsageProblem
from reconciler.core.fingerprint import desired_fingerprint
from reconciler.core.model import DesiredState, RemoteSnapshot, ViewError, ViewScope
from reconciler.core.secrets import Credentials
from reconciler.desired.baseref import BaseState
from reconciler.desired.gitrev import head_commit
from reconciler.desired.load import LoadReport, load_report
from reconciler.desired.placement import for_environment, unknown_environments, without_environments
from reconciler.plan.attribution import attribute
from reconciler.plan.diff import DiffOptions, diff_report
from reconciler.plan.planfile import PlanDocument
from reconciler.plan.planner import SafetyThresholds, build_plan
from reconciler.plan.targets import TargetSet, UnmatchedTarget

logger = logging.getLogger("reconciler.target")


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a command needs to talk to the API, resolved once (per environment)."""

    settings: Settings
    base_url: str
    credentials: Credentials
    runtime: Runtime = Runtime()
    #: The environment of reconciler.yaml this context is for (None: none declared).
    environment: str | None = None
    #: alias -> application id of the environment.
    application_aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def application_names(self) -> dict[str, str]:
        """application id -> alias, for output (the first alias of an id, by name)."""
        names: dict[str, str] = {}
        for alias, application_id in sorted(self.application_aliases.items()):
            names.setdefault(application_id, alias)
        return names

    def client(self) -> ApiClient:
        return self.runtime.client(self.base_url, self.credentials)


def make_context(
    config_path: str | None,
    overrides: Overrides,
    *,
    environ: Mapping[str, str] | None = None,
    runtime: Runtime = Runtime(),
    selection: Selection = NO_SELECTION,
) -> Context:
    """The context of a command that reads no snapshot files (export), in one environment."""
    env = os.environ if environ is None else environ
    environments = select(config_path, overrides, env, selection)
    if environments is None:
        return _context(load_settings(config_path, overrides, env), env, runtime)
    if len(environments) > 1:
        raise UsageProblem("this command works in one environment at a time: give one --env")
    return _environment_context(environments[0], env, runtime)


def _context(settings: Settings, env: Mapping[str, str], runtime: Runtime) -> Context:
    """The target (after the policy: nothing is connected or looked up before), then keys."""
    target = resolve_target(settings)
    logger.info("API host %s (%s)", target.host, target.origin)
    return Context(settings, target.base_url, Credentials.from_environ(env), runtime)


def prepare_all(
    config_path: str | None,
    overrides: Overrides,
    *,
    runtime: Runtime = Runtime(),
    selection: Selection = NO_SELECTION,
) -> list[tuple[Context, DesiredState]]:
    """Per selected environment (or once, when reconciler.yaml declares none): settings,
    then the snapshot files (offline, so bad files are reported even without keys), then
    the API target and keys. Every environment is resolved before any is contacted: a
    problem in one touches none."""
    environ = os.environ
    sections = declared(config_path)
    environments = select(config_path, overrides, environ, selection, sections)
    if environments is None:
        settings = load_settings(config_path, overrides, environ)
        report = _load_report(settings)
        problems = report.problems + without_environments(report.placed)
        if problems:
            raise InvalidInput(sorted(problems))
        return [(_context(settings, environ, runtime), report.state)]
    report = _load_report(environments[0].settings)  # the files are the same for all
    problems = report.problems + unknown_environments(report.placed, list(sections))
    states = []
    for environment in environments:
        state, found = for_environment(
            report.state, report.placed, environment.name, environment.applications
        )
        problems += found
        states.append(state)
    if problems:
        raise InvalidInput(sorted(set(problems)))
    contexts = [_environment_context(environment, environ, runtime) for environment in environments]
    return list(zip(contexts, states, strict=True))


def _environment_context(
    environment: Environment, environ: Mapping[str, str], runtime: Runtime
) -> Context:
    try:
        target = resolve_target(environment.settings)
    except UsageProblem as exc:
        raise UsageProblem(f"environment {environment.name!r}: {exc}") from None
    logger.info("environment %s: API host %s (%s)", environment.name, target.host, target.origin)
    credentials = Credentials.from_environ(
        environ,
        api_key_env=environment.api_key_env,
        app_key_env=environment.app_key_env,
        environment=environment.name,
    )
    return Context(
        environment.settings,
        target.base_url,
        credentials,
        runtime,
        environment=environment.name,
        application_aliases=environment.applications,
    )


def _load_report(settings: Settings) -> LoadReport:
    return load_report([settings.snapshots], root=settings.repository_root)


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
    return await reader(context, client).views(scopes, context.runtime.listing_progress)


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
    require_match: bool = True,
    base: BaseState | None = None,
) -> tuple[PlanDocument, Listing]:
    """List the managed views (or those of `scopes` that are managed), diff, and build the
    ordered, checked plan. `fingerprints`: compute them (only saved and JSON plans show them).
    `base`: the files at `--base REF`, to attribute each operation (`plan.attribution`).
    """
    settings = context.settings
    managed = {view.scope for view in desired.views}
    wanted = sorted(managed if scopes is None else managed & set(scopes))
    sources = {view.scope: view.position for view in desired.views}
    names = context.application_names
    chosen = TargetSet.parse(targets, {scope: pos.path for scope, pos in sources.items()}, names)
    listing = await list_all(context, client, wanted)
    unmatched = chosen.unmatched(
        managed,
        [s.key for s in desired.snapshots]
        + [s.key for items in listing.snapshots.values() for s in items],
    )
    if unmatched and require_match:
        raise UnmatchedTarget(unmatched[0])
    result = diff_report(
        desired.snapshots,  # those of views that were not listed are left out
        listing.snapshots,
        DiffOptions(prune=settings.prune, ignore=settings.ignore),
    )
    thresholds = SafetyThresholds(
        max_delete_fraction=settings.max_delete_fraction,
        max_update_fraction=settings.max_update_fraction,
        min_existing=settings.min_existing,
    )
    plan = build_plan(result.operations, listing.counts, thresholds, chosen)
    attribution = (
        None
        if base is None
        else attribute(plan.operations, base.ref, base.commit, base.state, listing.snapshots)
    )
    document = PlanDocument(
        plan=plan,
        environment=context.environment,
        applications=names,
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
        unmatched=tuple(unmatched),
        attribution=attribution,
    )
    return document, listing


def check_targets_matched(documents: Sequence[PlanDocument]) -> None:
    """With several environments a `--target` may match in some only; matching in none
    is the typo `compute_plan` reports for one."""
    for target in documents[0].unmatched if documents else ():
        if all(target in document.unmatched for document in documents):
            raise UnmatchedTarget(target)
