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
@click.option("--warehouse", "warehouse_url",
              help="Warehouse URL, e.g. duckdb:///data/acme.duckdb (not needed with "
                   "--print-sql).")
@click.option("--currency", "reporting_currency",
              help="The tenant's reporting currency (ISO code, e.g. SEK).")
@channel_rules_option
@ad_markets_option
@click.option("--print-sql", is_flag=True,
              help="Print the SQL of every statement a build runs instead of building.")
@click.option("--dialect", type=click.Choice(["duckdb", "bigquery"]), default="duckdb",
              show_default=True, help="The SQL dialect --print-sql renders.")
@click.option("--incremental", is_flag=True,
              help="With --print-sql: the statements of a build that rebuilds only what "
                   "changed since the last one.")
def build(warehouse_url: str | None, reporting_currency: str | None,
          channel_rules: Path | None, ad_markets: Path | None, print_sql: bool, dialect: str,
          incremental: bool) -> None:
    """Rebuild the KPI facts and rollups: channels, customer order sequence, ex-VAT money in
    the reporting currency at each day's rate, leads, and ad spend by market.

    With --print-sql, print the build's SQL for a dialect instead (written once, rendered
    per dialect; parameters are ? on DuckDB and @name on BigQuery).
    """
    try:
        rules, markets = build_config(channel_rules, ad_markets)
        if print_sql:
            _print_sql(dialect, rules, incremental)
            return
        if not warehouse_url or not reporting_currency:
            raise click.UsageError("--warehouse and --currency are required to build "
                                   "(or give --print-sql)")
        if incremental or dialect != "duckdb":
            raise click.UsageError("--dialect and --incremental go with --print-sql")
        currency = reporting_currency.upper()
        stats = _run(warehouse_url, currency, rules, markets)
    except OnDigitalError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"order_facts: {stats.orders:,} orders; refund_facts: {stats.refunds:,} refunds; "
               f"lead_facts: {stats.leads:,} leads")
    for count, what in ((stats.orders_without_rate, "orders"),
                        (stats.leads_without_rate, "won leads")):
        if count:
            click.echo(f"warning: {count:,} {what} have no exchange rate to {currency} on or "
                       "before their date (amounts left empty)", err=True)


def _run(warehouse_url: str, currency: str, rules: Any, markets: Any) -> Any:
    from ondigital_connect.transforms import build as run_build
    from ondigital_connect.warehouse import connect

    wh = connect(warehouse_url)
    try:
        return run_build(wh, reporting_currency=currency, rules=rules, markets=markets)
    finally:
        wh.close()


def _print_sql(dialect: str, rules: Any, incremental: bool) -> None:
    """Each statement as ``-- name (binds ...)`` then its SQL and a semicolon."""
    from ondigital_connect.transforms import statements

    for statement in statements(dialect, rules=rules, incremental=incremental, pretty=True):
        binds = f" (binds {', '.join(statement.params)})" if statement.params else ""
        click.echo(f"-- {statement.name}{binds}\n{statement.sql.strip()};\n")
