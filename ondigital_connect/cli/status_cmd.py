"""``ondigital-connect status``: runs, counts, rejects and freshness of a warehouse."""

from __future__ import annotations

import datetime as dt

import click
from rich.console import Console
from rich.table import Table

from ondigital_connect.errors import OnDigitalError

TABLES = ("orders", "order_lines", "refunds", "customers", "products", "inventory_levels")


@click.command()
@click.option("--warehouse", "warehouse_url", required=True,
              help="Warehouse URL, e.g. duckdb:///data/acme.duckdb.")
def status(warehouse_url: str) -> None:
    """Show each stream's last run, counts, cursor, freshness and the top reject reasons."""
    from ondigital_connect.status import reject_reasons, stream_statuses, table_counts
    from ondigital_connect.warehouse import connect

    try:
        wh = connect(warehouse_url, read_only=True)
        statuses, reasons = stream_statuses(wh), reject_reasons(wh)
        counts = table_counts(wh, TABLES)
        wh.close()
    except OnDigitalError as exc:
        raise click.ClickException(str(exc)) from exc
    console, now = Console(), dt.datetime.now(dt.UTC)
    runs = Table("stream", "last run", "runs", "fetched", "loaded", "rejected", "cursor",
                 "fresh (h)", title="Streams")
    for s in statuses:
        age = s.freshness(now)
        runs.add_row(f"{s.source}/{s.account_id}/{s.stream}", s.last_status, str(s.runs),
                     f"{s.fetched:,}", f"{s.loaded:,}", f"{s.rejected:,}",
                     s.cursor.isoformat(timespec="seconds") if s.cursor else "-",
                     f"{age.total_seconds() / 3600:.1f}" if age else "never")
    console.print(runs)
    console.print(_counts(counts))
    if reasons:
        rej = Table("stream", "reason", "count", title="Top reject reasons")
        for stream, reason, n in reasons:
            rej.add_row(stream, reason[:80], str(n))
        console.print(rej)
    failed = [s for s in statuses if s.last_status == "failed"]
    for s in failed:
        console.print(f"[red]{s.source}/{s.stream} failed:[/red] {s.last_error}")


def _counts(counts: dict[str, int]) -> Table:
    table = Table("table", "rows", title="Tables")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    return table
