"""``ondigital-connect kpi``: compute KPIs from a built warehouse and print them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ondigital_connect.errors import OnDigitalError


@click.command("kpi")
@click.option("--warehouse", "warehouse_url", required=True,
              help="Warehouse URL, e.g. duckdb:///data/acme.duckdb (run `build` first).")
@click.option("--metrics", required=True, help="Comma list, e.g. revenue,orders,aov.")
@click.option("--by", default="", help="Comma list of breakdowns, e.g. market,channel.")
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--grain", default="day", show_default=True,
              type=click.Choice(["day", "week", "month", "quarter", "year"]))
@click.option("--filter", "filters", multiple=True, metavar="FIELD=V1,V2",
              help="Keep rows whose breakdown takes one of the values; repeatable.")
@click.option("--compare-from", type=click.DateTime(["%Y-%m-%d"]),
              help="Start of a period to compare with (adds <metric>_compare columns).")
@click.option("--compare-to", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "json"]))
def kpi(warehouse_url: str, metrics: str, by: str, date_from: dt.datetime, date_to: dt.datetime,
        grain: str, filters: tuple[str, ...], compare_from: dt.datetime | None,
        compare_to: dt.datetime | None, fmt: str) -> None:
    """Print metrics by breakdowns for a date range (ratios from summed parts)."""
    if (compare_from is None) != (compare_to is None):
        raise click.UsageError("give both --compare-from and --compare-to, or neither")
    compare = (compare_from.date(), compare_to.date()) if compare_from and compare_to else None
    from ondigital_connect.kpi.api import kpis
    from ondigital_connect.warehouse import connect

    try:
        wh = connect(warehouse_url, read_only=True)
        try:
            frame = kpis(wh, metrics, by=by, date_from=date_from.date(),
                         date_to=date_to.date(), filters=_filters(filters), grain=grain,
                         compare=compare)
        finally:
            wh.close()
    except OnDigitalError as exc:
        raise click.ClickException(str(exc)) from exc
    if fmt in ("csv", "json"):
        frame = frame.map(_plain)
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(frame.to_dict(orient="records"), default=_json, indent=1))
    else:
        table = Table(*frame.columns)
        for row in frame.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        Console().print(table)


def _filters(items: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not FIELD=V1,V2", param_hint="--filter")
        out.setdefault(name.strip(), []).extend(v.strip() for v in values.split(","))
    return out


def _plain(value: Any) -> Any:
    """A Decimal as plain digits without trailing zeros (``180.000000000`` -> ``180``)."""
    if isinstance(value, Decimal) and value.is_finite():
        return format(value.normalize(), "f")
    return value


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | dt.date) else value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
    return str(value)
