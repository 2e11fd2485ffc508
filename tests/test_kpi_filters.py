"""Looker Studio's filter operators through the planner, on the hand-made shop; numbers by hand.

February (tests/kpi_shop.py) by channel, net sales: Email 80 (B, returning, Feb 1), Organic
Search 92 (C, guest, Feb 1), Direct 40 (E, new, Feb 5) + 40 (F, returning, Feb 10), Paid Search
-90 (the refund of A on Feb 20, no order). Sales carry no market (NULL) in this shop.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ondigital_connect.errors import QueryError
from ondigital_connect.kpi.filters import Condition
from ondigital_connect.kpi.planner import KpiQuery, plan
from ondigital_connect.transforms import build
from ondigital_connect.warehouse import DuckDBWarehouse
from tests.kpi_shop import load_shop

D = Decimal
FEB_1, FEB_28 = dt.date(2026, 2, 1), dt.date(2026, 2, 28)


@pytest.fixture(scope="module")
def shop() -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse()
    load_shop(warehouse)
    build(warehouse, reporting_currency="SEK")
    return warehouse


def totals(shop: DuckDBWarehouse, *groups: tuple[Condition, ...]) -> tuple[object, object]:
    """(revenue, orders) for February under the filter."""
    p = plan(KpiQuery(("revenue", "orders"), FEB_1, FEB_28, where=tuple(groups)))
    [row] = p.rows(shop.fetch(p.sql, p.params))
    return row


def c(field: str, operator: str, *values: str, exclude: bool = False) -> Condition:
    return Condition(field, operator, values, exclude)


@pytest.mark.parametrize(("condition", "revenue", "orders"), [
    (c("channel", "EQUALS", "Direct"), D(80), 2),
    (c("channel", "EQUALS", "Direct", exclude=True), D(82), 2),
    (c("channel", "CONTAINS", "Search"), D(2), 1),
    (c("channel", "CONTAINS", "search"), D(0), 0),  # case-sensitive, as Looker Studio is
    (c("channel", "REGEXP_PARTIAL_MATCH", "mail"), D(80), 1),
    (c("channel", "REGEXP_EXACT_MATCH", "mail"), D(0), 0),
    (c("channel", "REGEXP_EXACT_MATCH", "(Email|Direct)"), D(160), 3),
    (c("channel", "IN_LIST", "Email", "Organic Search"), D(172), 2),
    (c("channel", "IN_LIST", "Email", "Organic Search", exclude=True), D(-10), 2),
    (c("market", "IS_NULL"), D(162), 4),
    (c("market", "IS_NULL", exclude=True), D(0), 0),
    (c("market", "EQUALS", "SE", exclude=True), D(162), 4),  # EXCLUDE keeps empty markets
    (c("channel", "BETWEEN", "Direct", "Email"), D(160), 3),
    (c("date", "BETWEEN", "20260201", "20260205"), D(212), 3),
    (c("date", "NUMERIC_GREATER_THAN", "20260205"), D(-50), 1),
    (c("date", "NUMERIC_LESS_THAN_OR_EQUAL", "20260205"), D(212), 3),
    (c("date", "EQUALS", "20260210"), D(40), 1),
    (c("channel", "EQUALS", "x' OR '1'='1"), D(0), 0),  # a bound value, inert
])
def test_each_operator(shop: DuckDBWarehouse, condition: Condition, revenue: D,
                       orders: int) -> None:
    assert totals(shop, (condition,)) == (revenue, orders)


def test_and_of_or_groups(shop: DuckDBWarehouse) -> None:
    # (Email or Direct) and returning: B and F
    assert totals(shop, (c("channel", "EQUALS", "Email"), c("channel", "EQUALS", "Direct")),
                  (c("customer_type", "EQUALS", "returning"),)) == (D(120), 2)
    # one OR-group across two fields: Email (B) or new customers (E, and A's refund)
    assert totals(shop, (c("channel", "EQUALS", "Email"),
                         c("customer_type", "EQUALS", "new"))) == (D(30), 2)


def test_filters_apply_to_every_blended_source(shop: DuckDBWarehouse) -> None:
    # February spend: Paid Search 100 (brand_search), Paid Social 115.
    p = plan(KpiQuery(("revenue", "marketing_cost", "cos"), FEB_1, FEB_28,
                      where=((c("channel", "CONTAINS", "Paid"),),)))
    [row] = p.rows(shop.fetch(p.sql, p.params))
    assert row == (D(-90), D(215), D(215) / D(-90))


@pytest.mark.parametrize(("condition", "message"), [
    (c("channel", "REGEXP_PARTIAL_MATCH", "a(b"), "invalid pattern"),
    (c("channel", "REGEXP_PARTIAL_MATCH", "(?=a)"), "invalid pattern"),
    (c("channel", "NUMERIC_GREATER_THAN", "3"), "not supported for a text field"),
    (c("date", "CONTAINS", "2026"), "not supported for a date field"),
    (c("channel", "LIKE", "x"), "not supported"),
    (c("channel", "EQUALS"), "needs 1 value"),
    (c("channel", "BETWEEN", "a"), "needs 2 values"),
    (c("channel", "IN_LIST"), "needs 1 to 500 values"),
    (c("date", "EQUALS", "2026-02-30"), "is not a date"),
    (c("channel; DROP TABLE orders", "EQUALS", "x"), "cannot be broken down by"),
    (c("sku", "EQUALS", "x"), "cannot be broken down by 'sku'"),
])
def test_bad_filters_are_refused_before_sql(shop: DuckDBWarehouse, condition: Condition,
                                            message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan(KpiQuery(("revenue",), FEB_1, FEB_28, where=((condition,),)))


def test_an_empty_group_is_refused() -> None:
    with pytest.raises(QueryError, match="empty"):
        plan(KpiQuery(("revenue",), FEB_1, FEB_28, where=((),)))
