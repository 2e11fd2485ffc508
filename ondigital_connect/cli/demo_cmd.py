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
def demo(orders: int, path: Path, seed: int) -> None:
    """Simulate a Nordic shop, serve it as a Shopify sandbox, sync it, summarise 30 days."""
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
