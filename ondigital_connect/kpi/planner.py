"""The query planner: (metrics, breakdowns, dates, filters, grain) -> one SQL over the rollups.

Each rollup a query needs is summed at the asked grain in its own subquery; the subqueries are
joined on their shared breakdowns (blending sales with marketing and traffic), and only then
are the metric formulas applied to the sums (in Decimal), so ratios come from summed parts.
Distinct counts are recounted from the facts at the asked grain. Field names come from
allow-lists; every value is a bound parameter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ondigital_connect.errors import QueryError
from ondigital_connect.kpi.catalogue import METRICS
from ondigital_connect.kpi.filters import Where, compile_where, fields_of
from ondigital_connect.kpi.measures import Measure
from ondigital_connect.kpi.registry import Metric, MetricRegistry
from ondigital_connect.transforms.dialect import date_bucket

GRAINS = ("day", "week", "month", "quarter", "year")  # week: ISO week, starting Monday
#: rollup -> its table (rollups not listed are not built yet)
ROLLUP_TABLES = {"sales": "rollup_sales", "marketing": "rollup_marketing",
                 "traffic": "rollup_traffic", "leads": "rollup_leads",
                 "products": "rollup_products", "inventory": "rollup_inventory"}
#: measures and breakdowns defined but not served, with the reason
NOT_YET = {
    "users": "distinct users cannot be recounted from daily web analytics rows (one person "
             "appears on many days, sources and devices); ask for new_users (exact) or "
             "user_days (daily users summed)",
}
#: distinct measure -> (facts table, its date column, aggregate)
DISTINCT = {
    "returning_customers": (
        "order_facts", "order_date",
        "count(DISTINCT customer_key) FILTER (WHERE customer_type = 'returning')"),
    "product_orders": ("line_facts", "date", "count(DISTINCT order_key)"),
}
MAX_FILTER_VALUES = 500


@dataclass(frozen=True, slots=True)
class KpiQuery:
    """What to compute. ``filters`` maps a breakdown to the values it may take (OR'ed)."""

    metrics: tuple[str, ...]
    date_from: dt.date
    date_to: dt.date
    dimensions: tuple[str, ...] = ()
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    grain: str = "day"
    #: further filters: an AND of OR-groups with any operator (see :mod:`.filters`)
    where: Where = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """SQL with its bound parameters. It returns the breakdowns, then each measure summed at
    the asked grain; :meth:`rows` applies the metric formulas to those sums (in Decimal)."""

    sql: str
    params: list[Any]
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    metrics: tuple[Metric, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Breakdowns, then metric ids: the columns of :meth:`rows`."""
        return (*self.dimensions, *(m.id for m in self.metrics))

    def rows(self, fetched: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Metric values per fetched row: ratios from the sums, None where a denominator is 0."""
        n = len(self.dimensions)
        out = []
        for row in fetched:
            sums = dict(zip(self.measures, row[n:], strict=True))
            out.append((*row[:n], *(m.formula.evaluate(sums) for m in self.metrics)))
        return out


def plan(query: KpiQuery, registry: MetricRegistry = METRICS) -> Plan:
    """Validate ``query`` and turn it into SQL; QueryError says what cannot be asked."""
    metrics = _check(query, registry)
    sources = _sources(metrics)
    parts, params = [], []
    for name, source in sources.items():
        sql, values = _part(query, source)
        parts.append((name, sql))
        params += values
    dims = list(query.dimensions)
    body, keys = _joined(parts, dims)
    measures = tuple(dict.fromkeys(n for m in metrics for n in m.formula.measures))
    selects = [*keys, *(f"coalesce({n}, 0) AS {n}" for n in measures)]
    order = f" ORDER BY {', '.join(dims)}" if dims else ""
    sql = f"SELECT {', '.join(selects)} FROM {body}{order}"
    return Plan(sql, params, tuple(dims), measures, tuple(metrics))


def _joined(parts: list[tuple[str, str]], dims: list[str]) -> tuple[str, list[str]]:
    """The FROM clause and the breakdown columns: the subqueries FULL OUTER JOINed on their
    breakdowns with NULL meeting NULL, so empty markets (unmapped spend, orders without a
    market) blend into one row instead of two half rows."""
    body, names = f"({parts[0][1]}) AS {parts[0][0]}", [parts[0][0]]

    def key(dim: str) -> str:
        columns = [f"{n}.{dim}" for n in names]
        return columns[0] if len(columns) == 1 else f"coalesce({', '.join(columns)})"
    for name, sql in parts[1:]:
        if not dims:
            body += f" CROSS JOIN ({sql}) AS {name}"
            continue
        on = " AND ".join(f"{key(d)} IS NOT DISTINCT FROM {name}.{d}" for d in dims)
        body += f" FULL OUTER JOIN ({sql}) AS {name} ON {on}"
        names.append(name)
    return body, [f"{key(d)} AS {d}" for d in dims]


def _check(query: KpiQuery, registry: MetricRegistry) -> list[Metric]:
    if not query.metrics:
        raise QueryError("ask for at least one metric")
    metrics = [registry.get(m) for m in dict.fromkeys(query.metrics)]
    if query.grain not in GRAINS:
        raise QueryError(f"unknown grain {query.grain!r}; grains: {', '.join(GRAINS)}")
    if query.date_from > query.date_to:
        raise QueryError(f"date range is reversed: {query.date_from} > {query.date_to}")
    if len(set(query.dimensions)) != len(query.dimensions):
        raise QueryError("a breakdown is asked twice")
    for m in metrics:
        m.check_dimensions(query.dimensions)
        filtered = (*query.filters, *fields_of(query.where))
        m.check_dimensions(filtered)  # a filter on a field the metric lacks is refused
        _check_built(m, (*query.dimensions, *filtered))
    for name, values in query.filters.items():
        if isinstance(values, str) or not values or len(values) > MAX_FILTER_VALUES:
            raise QueryError(f"filter {name!r} needs a list of 1 to {MAX_FILTER_VALUES} values")
    return metrics


def _check_built(m: Metric, fields: Sequence[str]) -> None:
    """QueryError when the metric's data, a measure or a breakdown is not filled yet."""
    for rollup in m.rollups:
        if rollup not in ROLLUP_TABLES:
            raise QueryError(f"metric {m.id!r} needs {rollup} data, which is not built "
                             "yet (sync the source and run `ondigital-connect build`)")
        for dim in fields:
            if (rollup, dim) in NOT_YET:
                raise QueryError(f"metric {m.id!r} by {dim!r}: {NOT_YET[(rollup, dim)]}")
    for name in m.formula.measures:
        if name in NOT_YET:
            raise QueryError(f"metric {m.id!r}: {NOT_YET[name]}")


@dataclass(slots=True)
class _Source:
    """One subquery: a table, its date column, the aggregates, and whether only the last
    snapshot day of each period counts (semi-additive measures such as stock)."""

    table: str
    date_column: str
    aggregates: list[str]
    last_day_only: bool = False


def _sources(metrics: list[Metric]) -> dict[str, _Source]:
    """Subquery name -> its source."""
    sources: dict[str, _Source] = {}
    measures: dict[str, Measure] = {m.name: m for metric in metrics for m in metric.measures}
    for measure in measures.values():
        if measure.name in DISTINCT:
            table, date_column, aggregate = DISTINCT[measure.name]
            sources[f"d_{measure.name}"] = _Source(table, date_column,
                                                   [f"{aggregate} AS {measure.name}"])
            continue
        name = measure.rollup
        entry = sources.setdefault(name, _Source(
            ROLLUP_TABLES[name], "date", [], measure.additivity == "semi_additive"))
        entry.aggregates.append(f"sum({measure.name}) AS {measure.name}")
    return sources


def _bucket(query: KpiQuery, date_column: str) -> str:
    return date_bucket(query.grain, date_column, "duckdb")


def _part(query: KpiQuery, source: _Source) -> tuple[str, list[Any]]:
    """One source summed at the asked grain, filtered by bound parameters."""
    date_column = source.date_column
    dims = [f"{_bucket(query, date_column)} AS date" if dim == "date" else dim
            for dim in query.dimensions]
    where, params = [f"{date_column} BETWEEN ? AND ?"], [query.date_from, query.date_to]
    for name, values in query.filters.items():
        column = date_column if name == "date" else name
        where.append(f"{column} IN ({', '.join('?' for _ in values)})")
        params += list(values)
    columns = {f: date_column if f == "date" else f for f in fields_of(query.where)}
    kinds = {f: "date" if f == "date" else "text" for f in columns}
    predicates, values = compile_where(query.where, columns, kinds)  # type: ignore[arg-type]
    where += predicates
    params += values
    if source.last_day_only:  # a snapshot: the last day of each period, never a sum of days
        bucket = _bucket(query, date_column) if "date" in query.dimensions else "1"
        where.append(f"({bucket}, {date_column}) IN (SELECT {bucket}, max({date_column}) "
                     f"FROM {source.table} WHERE {date_column} BETWEEN ? AND ? GROUP BY 1)")
        params += [query.date_from, query.date_to]
    group = " GROUP BY ALL" if dims else ""
    sql = (f"SELECT {', '.join([*dims, *source.aggregates])} FROM {source.table} "
           f"WHERE {' AND '.join(where)}{group}")
    return sql, params
