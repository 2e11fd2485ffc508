"""``ondigital-connect sync shopify``: one source's streams into one warehouse."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click
from rich.console import Console
from rich.table import Column, Table

from ondigital_connect.cli.build_cmd import ad_markets_option, build_config, channel_rules_option
from ondigital_connect.cli.progress import describe_run, live_progress
from ondigital_connect.demo import SHOPIFY_STREAMS
from ondigital_connect.errors import OnDigitalError
from ondigital_connect.settings import Settings


@click.group()
def sync() -> None:
    """Sync a source into a warehouse (incremental, with lookback; safe to rerun)."""


@sync.command("shopify")
@click.option("--shop", required=True, help="The shop's myshopify domain, e.g. acme.myshopify.com.")
@click.option("--warehouse", "warehouse_url", required=True,
              help="Warehouse URL, e.g. duckdb:///data/acme.duckdb (absolute path).")
@click.option("--stream", "streams", multiple=True, type=click.Choice(SHOPIFY_STREAMS),
              help="Stream(s) to sync; default: all.")
@click.option("--token-env", default="ODC_SHOPIFY_TOKEN", show_default=True,
              help="Environment variable holding the Admin API access token.")
@click.option("--api-version", default=None, help="Admin API version (default: the client's).")
@click.option("--base-url", default=None, help="Override the API host (e.g. a local sandbox).")
@click.option("--tenant", default="default", show_default=True, help="Tenant name (locks, logs).")
@click.option("--lookback-days", type=float, default=None, help="Override the stream lookback.")
@click.option("--batch-size", type=int, default=None, help="Records per committed batch.")
@click.option("--page-workers", type=click.IntRange(0, 16), default=2, show_default=True,
              help="Worker processes that validate and map order pages, started only once "
                   "10,000 orders have been read; 0 reads in this process alone "
                   "(see docs/performance.md).")
@click.option("--currency", "reporting_currency", default=None,
              help="Reporting currency of the rebuild after the sync (default: the shop's).")
@click.option("--build/--no-build", "rebuild", default=True, show_default=True,
              help="Rebuild the KPI facts and rollups after a successful sync.")
@channel_rules_option
@ad_markets_option
def sync_shopify(shop: str, warehouse_url: str, streams: tuple[str, ...], token_env: str,
                 api_version: str | None, base_url: str | None, tenant: str,
                 lookback_days: float | None, batch_size: int | None, page_workers: int,
                 reporting_currency: str | None, rebuild: bool, channel_rules: Path | None,
                 ad_markets: Path | None) -> None:
    """Sync Shopify orders, customers, products and inventory into the warehouse."""
    from ondigital_connect.sources.shopify import ShopifySettings, ShopifySource
    from ondigital_connect.sync import SyncEngine
    from ondigital_connect.warehouse import connect

    settings = Settings()
    token = os.environ.get(token_env)
    if not token:
        raise click.UsageError(f"set the Shopify access token in ${token_env}")
    extra = {"api_version": api_version} if api_version else {}
    shopify = ShopifySettings(shop=shop, token=token, base_url=base_url,
                              page_workers=page_workers, **extra)
    key = settings.pseudonym_key.get_secret_value().encode()
    source = ShopifySource(shopify, pseudonym_key=key)
    lookback = dt.timedelta(days=lookback_days) if lookback_days is not None else None
    console = Console(stderr=True)
    try:
        wh = connect(warehouse_url)
        engine_kw = {"tenant": tenant, "lock_dir": Path(settings.home) / "locks"}
        runs = []
        with live_progress(console) as progress:
            engine = SyncEngine(wh, progress=progress, **engine_kw)
            for stream in streams or SHOPIFY_STREAMS:
                runs.append(engine.run(source, stream, lookback=lookback,
                                       batch_size=batch_size or settings.batch_size))
        built = None
        if rebuild:
            from ondigital_connect.transforms import build

            currency = (reporting_currency or source.context().currency).upper()
            rules, markets = build_config(channel_rules, ad_markets)
            built = (currency, build(wh, reporting_currency=currency, rules=rules,
                                     markets=markets))
        wh.close()
    except OnDigitalError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        source.close()
    print_runs(Console(), runs)
    if built is not None:
        currency, stats = built
        click.echo(f"built KPI facts in {currency}: {stats.orders:,} orders, "
                   f"{stats.refunds:,} refunds")


def print_runs(console: Console, runs: list) -> None:
    """A table of finished runs."""
    table = Table("status", "fetched", "loaded", "rejected", "duplicates", "seconds")
    table.columns.insert(0, Column("stream", no_wrap=True))
    for run in runs:
        row = describe_run(run)
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()))
    console.print(table)
