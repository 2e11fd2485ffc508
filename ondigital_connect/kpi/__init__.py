"""KPIs: base measures, formulas and the metric registry (the semantic layer's definitions)."""

from __future__ import annotations

from ondigital_connect.kpi.catalogue import METRICS
from ondigital_connect.kpi.formula import Formula, parse
from ondigital_connect.kpi.measures import MEASURES, ROLLUPS, Measure, Rollup
from ondigital_connect.kpi.registry import Metric, MetricRegistry

__all__ = ["MEASURES", "METRICS", "ROLLUPS", "Formula", "Measure", "Metric", "MetricRegistry",
           "Rollup", "parse"]
