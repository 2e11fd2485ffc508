"""Connectors answered by the KPI planner: ``control_tower`` (every KPI) and narrower views.

Their fields come from the metric registry and the rollups' breakdowns, so a KPI added to the
catalogue appears in Looker Studio without touching the service. Dates come as one field per
grain (day, ISO week, month, quarter, year) so that distinct and ratio KPIs are computed at the
grain the report shows instead of being re-added by Looker Studio.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from ondigital_connect.connectors.base import SAMPLE_ROWS, DataQuery, Result, cap, resolve
from ondigital_connect.connectors.fields import DATE_FIELDS, Field
from ondigital_connect.errors import QueryError
from ondigital_connect.kpi.catalogue import METRICS
from ondigital_connect.kpi.planner import KpiQuery, plan
from ondigital_connect.kpi.registry import Metric

_DATE_LABELS = {"date": "Date", "week": "ISO week", "month": "Month", "quarter": "Quarter",
                "year": "Year"}
#: breakdown -> (label, description, Looker semantic type); others default to text
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "market": ("Market", "The market (country or region) of the order, ad or visit.", "TEXT"),
    "channel": ("Channel", "Default channel group from UTM, click ids and referrer.", "TEXT"),
    "source": ("Source", "utm_source or the referring site.", "TEXT"),
    "campaign": ("Campaign", "The campaign name (ad platform name when matched).", "TEXT"),
    "customer_type": ("Customer type", "new, returning or guest, from order history.", "TEXT"),
    "product": ("Product", "The product (SKU or product key).", "TEXT"),
    "category": ("Category", "The product's category.", "TEXT"),
    "sku": ("SKU", "Stock keeping unit.", "TEXT"),
}
_SEMANTIC = {"currency": "CURRENCY", "percent": "PERCENT", "number": "NUMBER",
             "ratio": "NUMBER"}


def metric_field(metric: Metric) -> Field:
    """A registry metric as a connector field (summable only when additive)."""
    return Field(metric.id, metric.label, metric.description, "METRIC",
                 _SEMANTIC[metric.semantic_type], metric.group,
                 reaggregatable=metric.additivity == "additive")


@cache
def available_metrics() -> tuple[Metric, ...]:
    """Metrics the rollups can answer today (the planner refuses the rest with a reason)."""
    day = dt.date(2000, 1, 1)
    out = []
    for metric in METRICS:
        try:
            plan(KpiQuery((metric.id,), day, day))
        except QueryError:
            continue
        out.append(metric)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PlannerConnector:
    """A connector over a subset of the registry's metrics (all when ``metric_ids`` is empty)."""

    id: str
    label: str
    description: str
    metric_ids: tuple[str, ...] = ()

    def metrics(self) -> tuple[Metric, ...]:
        wanted = set(self.metric_ids)
        return tuple(m for m in available_metrics() if not wanted or m.id in wanted)

    def fields(self) -> tuple[Field, ...]:
        """Date fields, the breakdowns the metrics share, then the metrics (built once)."""
        return _fields(self)

    def run(self, warehouse: Any, query: DataQuery) -> Result:
        """Plan the request on the rollups and answer in request order."""
        p = resolve(self.fields(), query)
        grain = _grain([d for d in p.dimensions if d in DATE_FIELDS])
        dims = tuple(dict.fromkeys("date" if d in DATE_FIELDS else d for d in p.dimensions))
        metrics = p.metrics or self._listing_metrics(dims)
        kpi_plan = plan(KpiQuery(metrics, query.date_from, query.date_to, dims, grain=grain,
                                 where=p.where))
        limit = SAMPLE_ROWS if query.sample else query.max_rows + 1
        fetched = warehouse.fetch(f"{kpi_plan.sql} LIMIT {int(limit)}", kpi_plan.params)
        rows = cap(kpi_plan.rows(fetched), query)
        index = {name: i for i, name in enumerate(kpi_plan.columns)}
        order = [index["date" if c in DATE_FIELDS else c] for c in p.columns]
        return Result(p.columns, [tuple(r[i] for i in order) for r in rows],
                      p.filters_applied)

    def _listing_metrics(self, dims: tuple[str, ...]) -> tuple[str, ...]:
        """For a request with breakdowns only (a filter control's list of values): one metric
        from each rollup that goes by them, so the values of every source are listed (a
        channel with ad spend but no sales too). The metric columns are not returned."""
        chosen: dict[str, str] = {}
        for metric in self.metrics():
            if len(metric.rollups) == 1 and all(d in metric.dimensions for d in dims):
                chosen.setdefault(metric.rollups[0], metric.id)
        if not chosen:
            raise QueryError(f"no metric of this connector goes by {', '.join(dims)}")
        return tuple(chosen.values())


#: a date grain -> the coarser grains it nests in (an ISO week nests in none of them)
_NESTS_IN = {"day": {"week", "month", "quarter", "year"}, "week": set(),
             "month": {"quarter", "year"}, "quarter": {"year"}, "year": set()}


def _grain(dated: list[str]) -> str:
    """The grain to plan at: the finest asked date field's. The coarser ones are rendered from
    the same date (a day's month), so they must nest in it: a week does not nest in a month."""
    grains = [DATE_FIELDS[d][1] for d in dated]
    if not grains:
        return "day"
    finest = next(g for g in _NESTS_IN if g in grains)
    coarser = [g for g in grains if g != finest]
    if any(g not in _NESTS_IN[finest] for g in coarser):
        raise QueryError(f"the date fields {' and '.join(dated)} do not nest in one another; "
                         "ask for them in separate charts")
    return finest


@cache
def _fields(connector: PlannerConnector) -> tuple[Field, ...]:
    metrics = connector.metrics()
    dims = dict.fromkeys(d for m in metrics for d in m.dimensions if d != "date")
    out = [Field(d, _DATE_LABELS[d], f"Report date by {grain} (shop or account time zone).",
                 "DIMENSION", semantic, "Date") for d, (semantic, grain) in DATE_FIELDS.items()]
    for d in dims:
        label, description, semantic = DIMENSIONS.get(
            d, (d.replace("_", " ").capitalize(), "", "TEXT"))
        out.append(Field(d, label, description, "DIMENSION", semantic, "Breakdowns"))
    return (*out, *(metric_field(m) for m in metrics))


CONTROL_TOWER = PlannerConnector(
    "control_tower", "Control tower",
    "Every KPI, blended across sales, marketing, traffic, products and stock.")
INVENTORY = PlannerConnector(
    "inventory", "Inventory",
    "Stock on hand and its value by product, category and SKU (last day of each period).",
    ("inventory_value", "units_on_hand"))
