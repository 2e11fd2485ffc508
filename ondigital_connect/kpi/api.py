"""``kpis()``: KPIs from a warehouse as a DataFrame (money stays Decimal)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ondigital_connect.kpi.planner import KpiQuery, plan


def kpis(
    warehouse: Any, metrics: str | Sequence[str], *, date_from: dt.date, date_to: dt.date,
    by: str | Sequence[str] = (), filters: Mapping[str, Sequence[str]] | None = None,
    grain: str = "day",
) -> Any:
    """Compute ``metrics`` (ids or a comma list) by ``by`` for a date range (both inclusive).

    ``filters`` keeps rows whose breakdown takes one of the given values, e.g.
    ``{"market": ["SE", "NO"]}``. Unknown metrics or breakdowns, or a metric asked by a
    breakdown it does not have, raise ``QueryError`` with the reason.
    """
    import pandas as pd

    query = KpiQuery(_names(metrics), date_from, date_to, _names(by), dict(filters or {}),
                     grain)
    p = plan(query)
    rows = p.rows(warehouse.fetch(p.sql, p.params))
    return pd.DataFrame([list(r) for r in rows], columns=list(p.columns), dtype=object)


def _names(value: str | Sequence[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    return tuple(i.strip() for i in items if i.strip())
