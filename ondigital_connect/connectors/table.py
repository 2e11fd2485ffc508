"""Connectors over one fact table with its natural fields (``shopify``: one row per order).

Each field maps to a vetted SQL expression; a request picks from that allow-list, groups by its
breakdowns and sums its metrics. Only additive metrics live here (ratios come from
``control_tower``, whose planner computes them from sums in Decimal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ondigital_connect.connectors.base import SAMPLE_ROWS, DataQuery, Result, cap, resolve
from ondigital_connect.connectors.fields import DATE_FIELDS, Field
from ondigital_connect.kpi.filters import compile_where, fields_of
from ondigital_connect.transforms.dialect import date_bucket


@dataclass(frozen=True, slots=True)
class Column:
    """A field and the SQL expression that computes it (an aggregate for metrics)."""

    field: Field
    sql: str


@dataclass(frozen=True, slots=True)
class TableConnector:
    """Group-by-and-sum over ``table``, dated by ``date_column`` (the fields' allow-list)."""

    id: str
    label: str
    description: str
    table: str
    date_column: str
    columns: tuple[Column, ...]

    def fields(self) -> tuple[Field, ...]:
        dates = tuple(Field(d, label, f"{label} of the {self.date_column.replace('_', ' ')}.",
                            "DIMENSION", semantic, "Date")
                      for d, label, semantic in _date_fields())
        return (*dates, *(c.field for c in self.columns))

    def run(self, warehouse: Any, query: DataQuery) -> Result:
        """One grouped statement with bound parameters, answered in request order."""
        p = resolve(self.fields(), query)
        exprs = self._expressions()
        selects = [f"{exprs[f]} AS {f}" for f in p.columns]
        where = [f"{self.date_column} BETWEEN ? AND ?"]
        params: list[Any] = [query.date_from, query.date_to]
        kinds = {f: "date" if f == "date" else "text" for f in fields_of(p.where)}
        predicates, values = compile_where(p.where, exprs, kinds)  # type: ignore[arg-type]
        where += predicates
        params += values
        sql = f"SELECT {', '.join(selects)} FROM {self.table} WHERE {' AND '.join(where)}"
        if p.dimensions:
            positions = ", ".join(str(p.columns.index(d) + 1) for d in p.dimensions)
            sql += f" GROUP BY {positions} ORDER BY {positions}"
        limit = SAMPLE_ROWS if query.sample else query.max_rows + 1
        rows = warehouse.fetch(f"{sql} LIMIT {int(limit)}", params)
        return Result(p.columns, cap([tuple(r) for r in rows], query), p.filters_applied)

    def _expressions(self) -> dict[str, str]:
        exprs = {d: self._date_sql(grain) for d, (_, grain) in DATE_FIELDS.items()}
        exprs.update({c.field.id: c.sql for c in self.columns})
        return exprs

    def _date_sql(self, grain: str) -> str:
        return date_bucket(grain, self.date_column, "duckdb")


def _date_fields() -> list[tuple[str, str, str]]:
    labels = {"date": "Date", "week": "ISO week", "month": "Month", "quarter": "Quarter",
              "year": "Year"}
    return [(d, labels[d], semantic) for d, (semantic, _) in DATE_FIELDS.items()]


def _dim(id: str, label: str, sql: str, description: str, semantic: str = "TEXT") -> Column:
    return Column(Field(id, label, description, "DIMENSION", semantic, "Order"), sql)


def _sum(id: str, label: str, sql: str, description: str, semantic: str = "CURRENCY") -> Column:
    return Column(Field(id, label, description, "METRIC", semantic, "Order"), sql)


SHOPIFY_ORDERS = TableConnector(
    "shopify", "Shopify orders",
    "One row per order (test orders excluded) on the shop's local order date; money ex VAT in "
    "the reporting currency at the order day's rate. Refunds are not netted here: see "
    "control_tower's revenue for refunds on their own date.",
    "order_facts", "order_date", (
        _dim("market", "Market", "market", "The order's market."),
        _dim("country_code", "Country", "country_code", "Shipping country (ISO code).",
             "COUNTRY_CODE"),
        _dim("channel", "Channel", "channel", "Default channel group of the order."),
        _dim("source", "Source", "source", "utm_source or referring site."),
        _dim("medium", "Medium", "medium", "utm_medium."),
        _dim("campaign", "Campaign", "campaign", "utm_campaign (ad campaign name if matched)."),
        _dim("customer_type", "Customer type", "customer_type", "new, returning or guest."),
        _dim("order_currency", "Order currency", "currency", "The currency the shop charged."),
        _dim("order_status", "Order status",
             "CASE WHEN is_cancelled THEN 'cancelled' ELSE 'open' END", "cancelled or open."),
        _sum("orders", "Orders", "count(*)", "Orders placed (cancelled included).", "NUMBER"),
        _sum("cancelled_orders", "Cancelled orders", "count(*) FILTER (WHERE is_cancelled)",
             "Orders later cancelled.", "NUMBER"),
        _sum("gross_sales", "Gross sales", "sum(gross_sales)", "Price x quantity, ex VAT."),
        _sum("discounts", "Discounts", "sum(discounts)", "Discounts, ex VAT."),
        _sum("net_sales", "Net sales", "sum(net_sales)",
             "Gross sales - discounts, ex VAT and shipping (refunds not deducted)."),
        _sum("shipping", "Shipping", "sum(shipping)", "Shipping charged."),
        _sum("tax", "Tax", "sum(tax)", "VAT charged."),
        _sum("units", "Units", "sum(units)", "Items ordered.", "NUMBER"),
        _sum("cogs", "COGS", "sum(cogs)", "Units x unit cost."),
    ))
