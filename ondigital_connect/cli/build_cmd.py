"""``ondigital-connect build``: rebuild the facts the KPIs are computed from."""

from __future__ import annotations

import click

from ondigital_connect.errors import OnDigitalError


@click.command()
@click.option("--warehouse", "warehouse_url", required=True,
              help="Warehouse URL, e.g. duckdb:///data/acme.duckdb.")
@click.option("--currency", "reporting_currency", required=True,
              help="The tenant's reporting currency (ISO code, e.g. SEK).")
def build(warehouse_url: str, reporting_currency: str) -> None:
    """Rebuild order and refund facts: channels, customer order sequence, ex-VAT money in the
    reporting currency at each day's rate."""
    from ondigital_connect.transforms import build as run_build
    from ondigital_connect.warehouse import connect

    try:
        wh = connect(warehouse_url)
        try:
            stats = run_build(wh, reporting_currency=reporting_currency.upper())
        finally:
            wh.close()
    except OnDigitalError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"order_facts: {stats.orders:,} orders; refund_facts: {stats.refunds:,} refunds")
    if stats.orders_without_rate:
        click.echo(f"warning: {stats.orders_without_rate:,} orders have no exchange rate to "
                   f"{reporting_currency.upper()} on or before their date (amounts left empty)",
                   err=True)
