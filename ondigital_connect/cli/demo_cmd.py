"""``ondigital-connect demo``: the main job, end to end on a simulated shop."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ondigital_connect.cli.progress import live_progress
from ondigital_connect.cli.sync_cmd import print_runs


@click.command()
@click.option("--orders", type=int, default=20_000, show_default=True,
              help="Orders in the simulated two years of business.")
@click.option("--warehouse", "path", type=click.Path(path_type=Path),
              default=Path("demo.duckdb"), show_default=True, help="DuckDB file to create.")
@click.option("--seed", type=int, default=7, show_default=True, help="Simulation seed.")
@click.option("--serve/--no-serve", default=False, show_default=True,
              help="Then start the connector service over the demo with a demo key.")
@click.option("--bind", default="127.0.0.1:8080", show_default=True,
              help="Where the service listens (with --serve).")
def demo(orders: int, path: Path, seed: int, serve: bool, bind: str) -> None:
    """Simulate a Nordic shop, serve it as a Shopify sandbox, sync it, build the KPIs,
    summarise 30 days, and (with --serve) serve them to Looker Studio."""
    from ondigital_connect.demo import run_demo

    console = Console()
    console.print(f"Simulating {orders:,} orders and serving them on a loopback Shopify sandbox…")
    with live_progress(Console(stderr=True)) as progress:
        runs, summary, (start, end) = run_demo(orders=orders, warehouse_path=path, seed=seed,
                                               progress=progress)
    print_runs(console, runs)
    table = Table("market", "orders", "net sales", "returns", "AOV", "currency",
                  title=f"Last 30 days ({start} to {end}, shop-local dates)")
    for m in summary:
        table.add_row(m.market, f"{m.orders:,}", f"{m.net_sales:,.2f}", f"{m.returns:,.2f}",
                      f"{m.aov:,.2f}" if m.aov is not None else "-", m.currency)
    console.print(table)
    console.print("Net sales: line price x qty - discounts - VAT, minus returns (ex VAT) on "
                  "their refund date; test and cancelled orders excluded; AOV before returns.")
    console.print(f"Warehouse: {path.resolve()}  (try: ondigital-connect status "
                  f"--warehouse duckdb://{path.resolve()})")
    _kpi_table(console, path, start, end)
    if serve:
        _serve(console, path, bind)


def _kpi_table(console: Console, path: Path, start: object, end: object) -> None:
    """The same 30 days through the KPI layer (rollups, reporting currency, refunds on their
    own date), as Looker Studio will see them."""
    from ondigital_connect.kpi.api import kpis
    from ondigital_connect.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path, read_only=True)
    try:
        frame = kpis(warehouse, "revenue,orders,aov,returning_customer_rate",
                     date_from=start, date_to=end, by="market")  # type: ignore[arg-type]
    finally:
        warehouse.close()
    table = Table("market", "revenue", "orders", "AOV", "returning customers",
                  title="The same days through the KPI layer (control_tower)")
    for row in frame.itertuples(index=False):
        rate = row.returning_customer_rate
        table.add_row(str(row.market), f"{row.revenue:,.2f}", f"{row.orders:,}",
                      f"{row.aov:,.2f}" if row.aov is not None else "-",
                      f"{rate:.1%}" if rate is not None else "-")
    console.print(table)
    console.print("The KPI layer counts cancelled orders, as Shopify's own reports do; the "
                  "summary above leaves them out.")


def _serve(console: Console, path: Path, bind: str) -> None:
    """Create the demo tenant and key, print how to call the service, then become gunicorn."""
    import os

    from ondigital_connect.cli.serve_cmd import gunicorn_argv
    from ondigital_connect.demo_service import prepare_demo_service

    service = prepare_demo_service(path, path.resolve().parent / ".odc-demo")
    console.print(f"\nConnector service on http://{bind}  (Ctrl-C to stop)")
    console.print(f"Demo API key (tenant 'demo', every connector): {service.key}")
    console.print(f"Try: curl -s -H 'Authorization: Bearer {service.key}' http://{bind}/v1/connectors")
    argv = gunicorn_argv(bind, None, None)
    os.execve(argv[0], argv, {**os.environ, **service.env})  # noqa: S606 - our gunicorn
