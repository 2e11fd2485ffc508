"""The metric registry: consistent with its measures, honest about breakdowns, documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from ondigital_connect.errors import ConfigError, QueryError
from ondigital_connect.kpi import MEASURES, METRICS, MetricRegistry
from ondigital_connect.kpi.dictionary import render_dictionary
from ondigital_connect.kpi.registry import metric

DOC = Path(__file__).resolve().parents[1] / "docs" / "kpis.md"
BRIEF = ("revenue", "gross_sales", "total_sales", "marketing_cost", "cogs", "orders", "sessions",
         "units_sold", "cart_size", "new_customers", "returning_customers",
         "returning_customer_rate", "cr", "aov", "cos", "roas", "gross_profit", "margin_pct",
         "contribution", "cpc", "ctr", "cpa", "cac", "cpl", "romi", "return_rate",
         "untraced_rate", "inventory_value")


def test_every_kpi_the_brief_names_is_registered() -> None:
    missing = [m for m in BRIEF if m not in METRICS]
    assert not missing


def test_every_metric_is_complete() -> None:
    for m in METRICS:
        assert m.label and m.description.endswith("."), m.id
        assert all(name in MEASURES for name in m.formula.measures), m.id
        assert "date" in m.dimensions, m.id
        if m.additivity == "ratio":
            assert m.trap, f"{m.id}: a ratio should say how it aggregates"


def test_breakdowns_are_what_the_measures_share() -> None:
    assert "customer_type" in METRICS.get("aov").dimensions
    cos = METRICS.get("cos")  # marketing spend has no customer type
    assert "customer_type" not in cos.dimensions and "channel" in cos.dimensions
    with pytest.raises(QueryError, match="'cos' cannot be broken down by 'customer_type'"):
        cos.check_dimensions(["date", "customer_type"])
    METRICS.get("product_margin_pct").check_dimensions(["category", "market"])
    with pytest.raises(QueryError, match="'channel'"):
        METRICS.get("product_revenue").check_dimensions(["channel"])


def test_aggregation_follows_the_formula_and_the_measures() -> None:
    kinds = {m.id: m.additivity for m in METRICS}
    assert kinds["revenue"] == "additive" and kinds["aov"] == "ratio"
    assert kinds["returning_customers"] == "distinct"
    assert kinds["inventory_value"] == "semi_additive"
    assert kinds["cos"] == "ratio" and kinds["contribution"] == "additive"


def test_unknown_metrics_measures_and_duplicates_are_refused() -> None:
    with pytest.raises(QueryError, match="unknown metric 'profitz'"):
        METRICS.get("profitz")
    with pytest.raises(ConfigError, match="unknown measures revenu"):
        metric("x", "X", "revenu / orders", "currency", "X.")
    registry = MetricRegistry([metric("x", "X", "orders", "number", "X.")])
    with pytest.raises(ConfigError, match="twice"):
        registry.add(metric("x", "X", "orders", "number", "X."))


def test_docs_kpis_md_is_generated_from_the_registry() -> None:
    assert DOC.read_text(encoding="utf-8") == render_dictionary(METRICS), (
        "docs/kpis.md is stale: run `ondigital-connect kpi-dictionary --output docs/kpis.md`")
    text = DOC.read_text(encoding="utf-8")
    for m in METRICS:
        assert f"### {m.label} (`{m.id}`)" in text and f"`{m.formula.text}`" in text
