"""``ondigital-connect build``: rebuild the facts the KPIs are computed from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ondigital_connect.errors import OnDigitalError

channel_rules_option = click.option(
    "--channel-rules", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with the tenant's own channel rules (checked before GA4's).")
ad_markets_option = click.option(
    "--ad-markets", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file mapping ad accounts and campaign name patterns to markets "
         "([ad_markets]); unmapped spend keeps an empty market.")


def build_config(channel_rules: Path | None, ad_markets: Path | None) -> tuple[Any, Any]:
    """The channel rules and ad-market mapping a build uses (GA4's rules, no markets by
    default); the same files must be given to every build, or the next one rebuilds fully."""
    from ondigital_connect.kpi.channels import DEFAULT_RULES, rules_from_toml
    from ondigital_connect.transforms.ad_markets import NO_MARKETS, ad_markets_from_toml

    rules = (rules_from_toml(channel_rules.read_text(encoding="utf-8"))
             if channel_rules else DEFAULT_RULES)
    markets = (ad_markets_from_toml(ad_markets.read_text(encoding="utf-8"))
               if ad_markets else NO_MARKETS)
    return rules, markets


@click.command()
@click.option("--warehouse", "warehouse_url", required=True,
              help="Warehouse URL, e.g. duckdb:///data/acme.duckdb.")
@click.option("--currency", "reporting_currency", required=True,
              help="The tenant's reporting currency (ISO code, e.g. SEK).")
@channel_rules_option
@ad_markets_option
def build(warehouse_url: str, reporting_currency: str, channel_rules: Path | None,
          ad_markets: Path | None) -> None:
    """Rebuild the KPI facts and rollups: channels, customer order sequence, ex-VAT money in
    the reporting currency at each day's rate, leads, and ad spend by market."""
    from ondigital_connect.transforms import build as run_build
    from ondigital_connect.warehouse import connect

    currency = reporting_currency.upper()
    try:
        rules, markets = build_config(channel_rules, ad_markets)
        wh = connect(warehouse_url)
        try:
            stats = run_build(wh, reporting_currency=currency, rules=rules, markets=markets)
        finally:
            wh.close()
    except OnDigitalError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"order_facts: {stats.orders:,} orders; refund_facts: {stats.refunds:,} refunds; "
               f"lead_facts: {stats.leads:,} leads")
    for count, what in ((stats.orders_without_rate, "orders"),
                        (stats.leads_without_rate, "won leads")):
        if count:
            click.echo(f"warning: {count:,} {what} have no exchange rate to {currency} on or "
                       "before their date (amounts left empty)", err=True)
