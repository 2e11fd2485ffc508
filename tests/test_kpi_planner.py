"""KPIs through the planner on the hand-made shop (tests/kpi_shop.py); numbers by hand.

February 2026 holds orders B (80.00 net, Email, returning c1), C (92.00, Organic Search, guest),
E (40.00, Direct, new c2, cancelled) and F (40.00, Direct, returning c1), and the refund of A
(90.00 returns, Paid Search). So in February: 4 orders; gross sales 252.00; returns 90.00;
net sales 162.00; units 4 - 1 = 3; COGS 10 + 115 + 10 + 10 - 10 = 135.00; one new customer (c2)
and one returning customer (c1, twice); untraced orders E and F (80.00 of net sales).
January holds only A: 1 order, net 180.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import ondigital_connect
from ondigital_connect.errors import QueryError
from ondigital_connect.kpi.planner import KpiQuery, plan
from ondigital_connect.transforms import build
from ondigital_connect.warehouse import DuckDBWarehouse
from tests.kpi_shop import load_shop

D = Decimal
JAN, FEB_1, FEB_28 = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 2, 28)


@pytest.fixture
def shop(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    load_shop(warehouse)
    build(warehouse, reporting_currency="SEK")
    return warehouse


def one(shop: DuckDBWarehouse, metric: str, **kw: object) -> object:
    frame = ondigital_connect.kpis(shop, metric, date_from=kw.pop("date_from", FEB_1),
                                   date_to=kw.pop("date_to", FEB_28), **kw)
    assert len(frame) == 1
    return frame[metric][0]


@pytest.mark.parametrize(("metric", "expected"), [
    ("orders", D(4)), ("gross_sales", D("252")), ("discounts", D(0)), ("returns", D("90")),
    ("revenue", D("162")), ("units_sold", D(3)), ("cogs", D("135")),
    ("gross_profit", D("27")), ("new_customers", D(1)), ("returning_customers", D(1)),
    ("returning_customer_rate", D("0.5")), ("untraced_rate", D("0.5")),
    ("aov", D("40.5")), ("cart_size", D("0.75")), ("return_rate", D("90") / D("252")),
    ("margin_pct", D("27") / D("162")), ("untraced_revenue_rate", D("80") / D("162")),
])
def test_sales_metrics_in_february(shop: DuckDBWarehouse, metric: str, expected: D) -> None:
    assert one(shop, metric) == expected


# Ads and sessions in February (tests/kpi_shop.py): spend 100.00 + 115.00 = 215.00 SEK,
# 3,000 impressions, 70 clicks, platform value 300.00 + 230.00; 120 sessions, 55 engaged.
@pytest.mark.parametrize(("metric", "expected"), [
    ("marketing_cost", D("215")), ("cos", D("215") / D("162")), ("roas", D("162") / D("215")),
    ("cpc", D("215") / D(70)), ("ctr", D(70) / D(3000)), ("cpa", D("215") / D(4)),
    ("cac", D("215")), ("contribution", D("162") - D("135") - D("215")),
    ("romi", (D("162") - D("135") - D("215")) / D("215")),
    ("platform_roas", D("530") / D("215")), ("sessions", D(120)), ("cr", D(4) / D(120)),
    ("engagement_rate", D(55) / D(120)),
])
def test_blended_metrics_in_february(shop: DuckDBWarehouse, metric: str, expected: D) -> None:
    assert one(shop, metric) == expected


def test_blending_by_channel_keeps_each_side(shop: DuckDBWarehouse) -> None:
    frame = ondigital_connect.kpis(shop, "revenue,marketing_cost,sessions,orders",
                                   by="channel", date_from=FEB_1, date_to=FEB_28)
    assert frame.values.tolist() == [
        ["Direct", D("80"), D(0), D(40), D(2)],
        ["Email", D("80"), D(0), D(20), D(1)],
        ["Organic Search", D("92"), D(0), D(0), D(1)],
        ["Paid Search", D("-90"), D("100"), D(60), D(0)],  # the return of January's order A
        ["Paid Social", D(0), D("115"), D(0), D(0)],
    ]


def test_aov_over_two_months_is_the_ratio_of_the_sums(shop: DuckDBWarehouse) -> None:
    by_month = ondigital_connect.kpis(shop, "aov,revenue,orders", by="date", grain="month",
                                      date_from=JAN, date_to=FEB_28)
    assert by_month.values.tolist() == [[JAN, D("180"), D("180"), D(1)],
                                        [FEB_1, D("40.5"), D("162"), D(4)]]
    # (180 + 162) / (1 + 4) = 68.4, not the mean of the monthly AOVs (110.25)
    assert one(shop, "aov", date_from=JAN) == D("68.4")


def test_returns_are_booked_on_the_refund_date_in_the_orders_channel(
    shop: DuckDBWarehouse,
) -> None:
    frame = ondigital_connect.kpis(shop, "revenue,returns", by="channel", date_from=FEB_1,
                                   date_to=FEB_28)
    assert frame.values.tolist() == [["Direct", D("80"), D(0)], ["Email", D("80"), D(0)],
                                     ["Organic Search", D("92"), D(0)],
                                     ["Paid Search", D("-90"), D("90")]]


def test_a_customer_returning_twice_in_a_month_counts_once(shop: DuckDBWarehouse) -> None:
    days = ondigital_connect.kpis(shop, "returning_customers", by="date", date_from=FEB_1,
                                  date_to=FEB_28)
    assert sum(days["returning_customers"]) == 2  # c1 on Feb 1 and on Feb 10
    assert one(shop, "returning_customers") == 1  # but one customer in the month


def test_filters_are_bound_values(shop: DuckDBWarehouse) -> None:
    assert one(shop, "orders", filters={"channel": ["Direct", "Email"]}) == D(3)
    assert one(shop, "orders", filters={"channel": ["Direct' OR 1=1 --"]}) == D(0)
    p = plan(KpiQuery(("orders",), FEB_1, FEB_28, filters={"channel": ["x'; DROP TABLE o"]}))
    assert "DROP" not in p.sql and "x'; DROP TABLE o" in p.params


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"metrics": ("users",)}, "cannot be recounted from daily web analytics rows"),
    ({"metrics": ("sessions", "users"), "dimensions": ("channel",)}, "ask for new_users"),
    ({"metrics": ("cpl",), "dimensions": ("customer_type",)}, "cannot be broken down by"),
    ({"metrics": ("leads",), "filters": {"customer_type": ["new"]}}, "cannot be broken down by"),
    ({"metrics": ("revenue",), "dimensions": ("category",)}, "cannot be broken down by"),
    ({"metrics": ("revenue",), "dimensions": ("market; DROP TABLE orders",)},
     "cannot be broken down by"),
    ({"metrics": ("revenue",), "filters": {"1=1) OR (1": ["x"]}}, "cannot be broken down by"),
    ({"metrics": ("revenue",), "filters": {"market": "SE"}}, "list of 1 to"),
    ({"metrics": ("profit!",)}, "unknown metric"),
    ({"metrics": ("revenue",), "grain": "fortnight"}, "unknown grain"),
    ({"metrics": ()}, "at least one metric"),
])
def test_bad_queries_are_refused_with_the_reason(kwargs: dict, message: str) -> None:
    query = {"metrics": ("revenue",), "date_from": FEB_1, "date_to": FEB_28, **kwargs}
    with pytest.raises(QueryError, match=message):
        plan(KpiQuery(**query))


def test_a_reversed_range_is_refused() -> None:
    with pytest.raises(QueryError, match="reversed"):
        plan(KpiQuery(("revenue",), FEB_28, FEB_1))


def test_cli_prints_kpis_as_table_csv_and_json(shop: DuckDBWarehouse) -> None:
    import json

    from click.testing import CliRunner

    from ondigital_connect.cli import cli

    path = shop.path
    shop.close()
    base = ["kpi", "--warehouse", f"duckdb:///{path}", "--metrics", "revenue,orders,aov",
            "--by", "date", "--grain", "month", "--from", "2026-01-01", "--to", "2026-02-28"]
    table = CliRunner().invoke(cli, base)
    assert table.exit_code == 0, table.output
    assert "40.50" in table.output and "2026-02-01" in table.output
    csv = CliRunner().invoke(cli, [*base, "--format", "csv"])
    assert csv.output.splitlines() == ["date,revenue,orders,aov", "2026-01-01,180,1,180",
                                       "2026-02-01,162,4,40.5"]
    got = json.loads(CliRunner().invoke(cli, [*base, "--format", "json", "--filter",
                                              "channel=Direct,Email"]).output)
    # Direct and Email in February: B 80.00 + E 40.00 + F 40.00 over three orders
    assert got == [{"date": "2026-02-01", "revenue": "160", "orders": "3",
                    "aov": str(D(160) / D(3))}]
    compared = CliRunner().invoke(cli, [*base[:-6], "--from", "2026-02-01", "--to",
                                        "2026-02-28", "--compare-from", "2026-01-01",
                                        "--compare-to", "2026-01-31", "--by", "", "--format",
                                        "csv"])
    assert compared.output.splitlines()[1] == "162,4,40.5,180,1,180", compared.output
    bad = CliRunner().invoke(cli, [*base, "--metrics", "users"])
    assert bad.exit_code == 1 and "cannot be recounted" in bad.output


MAR_1, MAR_31 = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


def test_an_order_with_two_categories_counts_once_in_total(shop: DuckDBWarehouse) -> None:
    by_category = ondigital_connect.kpis(
        shop, "product_orders,product_units,product_revenue,product_margin_pct", by="category",
        date_from=MAR_1, date_to=MAR_31)
    assert by_category.values.tolist() == [
        ["Bags", D(1), D(1), D("80"), D("70") / D("80")],
        ["Shoes", D(1), D(2), D("80"), D("60") / D("80")]]
    assert one(shop, "product_orders", date_from=MAR_1, date_to=MAR_31) == D(1)
    assert one(shop, "orders", date_from=MAR_1, date_to=MAR_31) == D(1)


def test_inventory_value_takes_the_last_day_not_the_sum(shop: DuckDBWarehouse) -> None:
    assert one(shop, "inventory_value", date_from=MAR_1, date_to=MAR_31) == D("470")
    assert one(shop, "units_on_hand", date_from=MAR_1, date_to=MAR_31) == D(13)
    days = ondigital_connect.kpis(shop, "inventory_value", by="date", date_from=MAR_1,
                                  date_to=MAR_31)
    assert days.values.tolist() == [[MAR_1, D("550")], [MAR_31, D("470")]]
    months = ondigital_connect.kpis(shop, "inventory_value", by="date,category", grain="month",
                                    date_from=MAR_1, date_to=MAR_31)
    assert months.values.tolist() == [[MAR_1, "Bags", D("320")], [MAR_1, "Shoes", D("150")]]


def test_a_comparison_period_adds_its_values_beside(shop: DuckDBWarehouse) -> None:
    frame = ondigital_connect.kpis(shop, "revenue,orders", by="channel", date_from=FEB_1,
                                   date_to=FEB_28, compare=(JAN, dt.date(2026, 1, 31)))
    # January had only order A (Paid Search, 180.00); February's channels as above
    assert frame.values.tolist() == [
        ["Direct", D("80"), D(2), None, None], ["Email", D("80"), D(1), None, None],
        ["Organic Search", D("92"), D(1), None, None],
        ["Paid Search", D("-90"), D(0), D("180"), D(1)]]
    assert frame.columns.tolist() == ["channel", "revenue", "orders", "revenue_compare",
                                      "orders_compare"]
    total = ondigital_connect.kpis(shop, "revenue,aov", date_from=FEB_1, date_to=FEB_28,
                                   compare=(JAN, dt.date(2026, 1, 31)))
    assert total.values.tolist() == [[D("162"), D("40.5"), D("180"), D("180")]]
    with pytest.raises(QueryError, match="day grain"):
        ondigital_connect.kpis(shop, "revenue", by="date", grain="month", date_from=FEB_1,
                               date_to=FEB_28, compare=(JAN, dt.date(2026, 1, 31)))



def test_a_utm_campaign_holding_the_ad_campaign_id_meets_its_spend(shop: DuckDBWarehouse) -> None:
    frame = ondigital_connect.kpis(shop, "revenue,marketing_cost", by="campaign",
                                   date_from=FEB_1, date_to=dt.date(2026, 4, 30),
                                   filters={"campaign": ["brand_search", "spring_sale"]})
    assert frame.values.tolist() == [["brand_search", D("160"), D("100")],
                                     ["spring_sale", D(0), D("115")]]
