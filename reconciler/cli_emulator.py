"""The `emulator` command: runs the local Datadog API emulator, each unknown behaviour of the
API an option (registered on the group by `reconciler.cli`)."""

from __future__ import annotations

from typing import Any

import click

from reconciler.cli_options import configure_logging, verbose_option


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8126, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", "db_path", default=":memory:", show_default=True, help="SQLite file.")
@click.option("--fail-rate", default=0.0, type=float, help="Fraction of requests answered 5xx.")
@click.option("--latency-ms", default=0.0, type=float, help="Added latency per request.")
@click.option(
    "--drop-after-commit-rate",
    default=0.0,
    type=float,
    help="Fraction of writes committed, then answered by a dropped connection or a 502.",
)
@click.option(
    "--rate-limit",
    default=None,
    type=int,
    help="Requests allowed per period, per operation (default: unlimited).",
)
@click.option("--rate-period", default=1, type=int, show_default=True, help="Seconds.")
@click.option("--page-limit-default", default=100, type=int, show_default=True)
@click.option(
    "--page-limit-max",
    "--page-cap",
    "page_limit_max",
    default=1000,
    type=int,
    show_default=True,
    help="The server's page cap.",
)
@click.option(
    "--page-cap-mode",
    type=click.Choice(["silent", "reject"]),
    default="silent",
    show_default=True,
    help="Above the cap: cut the page silently, or answer 400 'page[limit] must be <= N'.",
)
@click.option("--list-lag-ms", default=0.0, type=float, help="Writes show in listings this late.")
@click.option(
    "--sparse-items",
    default="",
    metavar="FIELDS",
    help="Attributes left out of list items, comma-separated (e.g. start,application_id).",
)
@click.option(
    "--timestamp-precision",
    type=click.Choice(["fixed", "variable"]),
    default="fixed",
    show_default=True,
    help="variable: created_at / modified_at with 0 to 6 fraction digits.",
)
@click.option(
    "--normalize-view-names",
    is_flag=True,
    help="Store view names as NFC, lower case, without trailing slash; filter likewise.",
)
@click.option(
    "--error-style",
    type=click.Choice(["strings", "objects"]),
    default="strings",
    show_default=True,
    help='{"errors": ["..."]} or {"errors": [{"status", "title", "detail"}]}.',
)
@click.option("--extra-attributes", is_flag=True, help="Unknown extra attributes on items.")
@click.option("--api-key", default=None, help="Accept only this API key (with --app-key).")
@click.option("--app-key", default=None, help="Accept only this application key.")
@click.option("--repeat-ids-rate", default=0.0, type=float, help="Listings with an id twice.")
@click.option(
    "--create-without-id-rate",
    default=0.0,
    type=float,
    help="Creates committed and answered 201 without data.id (or without a body).",
)
@click.option(
    "--concurrent-writer-rate",
    default=0.0,
    type=float,
    help="Creates that another writer makes too, at the same moment.",
)
@click.option("--seed", default=None, type=int, help="Seed of the fault injection.")
@verbose_option
def emulator(
    host: str,
    port: int,
    db_path: str,
    sparse_items: str,
    api_key: str | None,
    app_key: str | None,
    seed: int | None,
    verbose: int,
    **options: Any,
) -> int:
    """Run the local Datadog API emulator (heatmap snapshot endpoints only).

    Any non-empty DD-API-KEY / DD-APPLICATION-KEY pair is accepted, unless --api-key and
    --app-key name the only pair accepted (others: 403).
    """
    from reconciler.commands import emulator as command

    configure_logging(verbose)
    fields = tuple(name.strip() for name in sparse_items.split(",") if name.strip())
    return command.run(
        host=host,
        port=port,
        db_path=db_path,
        seed=seed,
        api_key=api_key,
        app_key=app_key,
        sparse_items=fields,
        **options,
    )
