"""``kpis()``: KPIs from a warehouse as a DataFrame (money stays Decimal)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ondigital_connect.errors import QueryError
from ondigital_connect.kpi.planner import KpiQuery, plan


def kpis(
    warehouse: Any, metrics: str | Sequence[str], *, date_from: dt.date, date_to: dt.date,
    by: str | Sequence[str] = (), filters: Mapping[str, Sequence[str]] | None = None,
    grain: str = "day", compare: tuple[dt.date, dt.date] | None = None,
) -> Any:
    """Compute ``metrics`` (ids or a comma list) by ``by`` for a date range (both inclusive).

    ``filters`` keeps rows whose breakdown takes one of the given values, e.g.
    ``{"market": ["SE", "NO"]}``. ``compare=(from, to)`` adds ``<metric>_compare`` columns
    computed the same way over that period, matched on the other breakdowns (by day offset
    when broken down by date, which needs the day grain). Unknown metrics or breakdowns, or a
    metric asked by a breakdown it does not have, raise ``QueryError`` with the reason.
    """
    import pandas as pd

    query = KpiQuery(_names(metrics), date_from, date_to, _names(by), dict(filters or {}),
                     grain)
    columns, rows = _run(warehouse, query)
    frame = pd.DataFrame([list(r) for r in rows], columns=list(columns), dtype=object)
    if compare is None:
        return frame
    return _with_comparison(warehouse, query, frame, compare)


def _run(warehouse: Any, query: KpiQuery) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    p = plan(query)
    return p.columns, p.rows(warehouse.fetch(p.sql, p.params))


def _with_comparison(warehouse: Any, query: KpiQuery, frame: Any,
                     compare: tuple[dt.date, dt.date]) -> Any:
    import pandas as pd

    if "date" in query.dimensions and query.grain != "day":
        raise QueryError("a comparison broken down by date needs the day grain")
    other = dataclasses.replace(query, date_from=compare[0], date_to=compare[1])
    columns, rows = _run(warehouse, other)
    shift = query.date_from - compare[0]
    dims = list(query.dimensions)
    previous = pd.DataFrame([list(r) for r in rows], columns=list(columns), dtype=object)
    if "date" in dims:
        previous["date"] = [d + shift for d in previous["date"]]
    renamed = {m: f"{m}_compare" for m in query.metrics}
    previous = previous.rename(columns=renamed)
    if not dims:
        return pd.concat([frame, previous], axis=1)
    merged = frame.merge(previous, on=dims, how="left")
    return merged.astype(object).where(merged.notna(), None)


def _names(value: str | Sequence[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    return tuple(i.strip() for i in items if i.strip())
