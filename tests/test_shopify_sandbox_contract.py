"""ShopifySource reads every stream from the loopback Shopify sandbox; counts match the business."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ondigital_connect.http import RetryPolicy
from ondigital_connect.models.canonical import make_key
from ondigital_connect.models.tables import get_table
from ondigital_connect.privacy import pseudonymise
from ondigital_connect.sandbox import ShopifySandbox
from ondigital_connect.simulate import SimulatedBusiness
from ondigital_connect.sources.base import Batch, Window
from ondigital_connect.sources.shopify import ShopifySettings, ShopifySource
from ondigital_connect.warehouse.merge import PARENT_SEQ

KEY = b"contract-key"


@pytest.fixture(scope="module")
def business() -> SimulatedBusiness:
    return SimulatedBusiness(seed=11, orders=800)


@pytest.fixture(scope="module")
def sandbox(business: SimulatedBusiness) -> Iterator[ShopifySandbox]:
    with ShopifySandbox(business, plan="unlimited", max_query_cost=None) as shop:
        yield shop
    assert shop.server_errors == []


def make_source(shop: ShopifySandbox, business: SimulatedBusiness, sleeps: list[float],
                **overrides: Any) -> ShopifySource:
    settings = ShopifySettings(shop=business.shop_domain, token=shop.token, base_url=shop.url,
                               **overrides)
    return ShopifySource(settings, pseudonym_key=KEY,
                         retry=RetryPolicy(jitter=0.0, sleeper=sleeps.append))


def read(source: ShopifySource, stream: str, window: Window,
         batch_size: int = 300) -> list[Batch]:
    batches = list(source.read(stream, window, batch_size=batch_size))
    assert all(b.rejects == [] for b in batches), [r.reason for b in batches for r in b.rejects]
    assert all(b.drift == [] for b in batches)
    for batch in batches:
        for table, rows in batch.rows.items():
            model = get_table(table).model
            for row in rows:
                model.model_validate({k: v for k, v in row.items() if k != PARENT_SEQ})
    return batches


def rows(batches: list[Batch], table: str) -> list[dict[str, Any]]:
    return [r for b in batches for r in b.rows[table]]


def everything(business: SimulatedBusiness) -> Window:
    return Window(None, business.now)


@pytest.mark.parametrize("nested", [
    {},  # defaults: every nested connection fits its first page
    {"line_items_page_size": 2, "refunds_page_size": 1, "refund_lines_page_size": 1,
     "orders_page_size": 37},  # forces follow-up queries for lines, refunds and refund lines
])
def test_orders_match_the_business(sandbox, business, nested):
    sleeps: list[float] = []
    sandbox.requests.clear()
    batches = read(make_source(sandbox, business, sleeps, **nested), "orders",
                   everything(business))
    operations = {r.operation for r in sandbox.requests}
    follow_ups = {"OrderLineItems", "OrderRefunds", "RefundLineItems"}
    full_refund_lists = any(len(o.refunds) >= 2 for o in business.orders())  # default first: 2
    expected_follow_ups = follow_ups if nested else {"OrderRefunds"} if full_refund_lists else set()
    assert operations & follow_ups == expected_follow_ups
    expected = list(business.orders())
    orders = {r["order_id"]: r for r in rows(batches, "orders")}
    assert sorted(orders) == sorted(str(o.order_id) for o in expected)
    assert sum(b.received for b in batches) == len(expected)
    assert len(rows(batches, "order_lines")) == sum(len(o.lines) for o in expected)
    assert len(rows(batches, "refunds")) == sum(len(o.refunds) for o in expected)
    assert len(rows(batches, "refund_lines")) == sum(
        len(r.lines) for o in expected for r in o.refunds)
    zone = business.timezone
    for o in expected:
        row = orders[str(o.order_id)]
        assert row["order_key"] == make_key("shopify", business.shop_domain, o.order_id)
        assert (row["total"], row["presentment_total"]) == (o.total_shop, o.total_presentment)
        assert row["total_refunded"] == o.refunded_shop
        assert row["currency"] == o.shop_currency
        assert row["presentment_currency"] == o.presentment_currency
        assert row["is_test"] == o.test and row["line_count"] == len(o.lines)
        assert row["refund_count"] == len(o.refunds)
        assert row["gross_sales"] == sum((ln.unit_price_shop * ln.quantity for ln in o.lines),
                                         Decimal(0))
        assert row["timezone"] == zone
        assert row["order_date"] == o.created_at.astimezone(row_zone(zone)).date()
        assert row["updated_at"] == o.updated_at
        assert row["utm_source"] == o.utm_source and row["market"] == o.country_code
        expected_key = (pseudonymise(KEY, f"shopify:{business.shop_domain}", str(o.customer_id))
                        if o.customer_id else None)
        assert row["customer_key"] == expected_key
    refunds = {r["refund_id"]: r for r in rows(batches, "refunds")}
    for o in expected:
        for r in o.refunds:
            got = refunds[str(r.refund_id)]
            assert got["amount"] == r.total_shop
            assert got["refund_date"] == r.created_at.astimezone(row_zone(zone)).date()
    assert batches[-1].cursor == max(o.updated_at for o in expected)
    emails = {o.customer_email for o in expected if o.customer_email}
    dump = repr(batches)
    assert emails and not any(email in dump for email in emails)
    assert sleeps == []


def row_zone(name: str) -> dt.tzinfo:
    return ZoneInfo(name)


def test_incremental_window_reads_only_recent_changes(sandbox, business):
    start = business.now - dt.timedelta(days=30)
    batches = read(make_source(sandbox, business, []), "orders", Window(start, business.now))
    expected = {str(o.order_id) for o in business.orders() if o.updated_at >= start}
    assert {r["order_id"] for r in rows(batches, "orders")} == expected
    cursors = [b.cursor for b in batches]
    assert cursors == sorted(cursors)


def test_customers_match_the_business(sandbox, business):
    batches = read(make_source(sandbox, business, []), "customers", everything(business))
    expected = {pseudonymise(KEY, f"shopify:{business.shop_domain}", str(c.customer_id)): c
                for c in business.customers()}
    got = {r["customer_key"]: r for r in rows(batches, "customers")}
    assert got.keys() == expected.keys()
    for key, customer in expected.items():
        assert got[key]["vendor_order_count"] == customer.number_of_orders
        assert got[key]["marketing_consent"] == customer.accepts_marketing
        assert got[key]["country_code"] == customer.country_code
    dump = repr(batches)
    assert not any(c.email in dump for c in expected.values())


def test_products_and_inventory_match_the_business(sandbox, business):
    source = make_source(sandbox, business, [])
    products = rows(read(source, "products", everything(business)), "products")
    assert sorted(int(p["variant_id"]) for p in products) == sorted(
        p.variant_id for p in business.products)
    cost = {str(p.variant_id): p.unit_cost_shop for p in business.products}
    assert all(p["unit_cost"] == cost[p["variant_id"]] for p in products)
    batches = read(source, "inventory_levels", everything(business), batch_size=50)
    levels = rows(batches, "inventory_levels")
    expected = list(business.inventory_levels())
    assert len(levels) == len(expected)
    assert sum(r["on_hand"] for r in levels) == sum(e.on_hand for e in expected)
    assert sum(r["available"] for r in levels) == sum(e.available for e in expected)
    today = business.now.astimezone(row_zone(business.timezone)).date()
    assert {b.report_dates for b in batches} == {(today, today)}


def test_standard_plan_cost_limits_and_throttling(business, caplog):
    """The real limits: 1000 points per query, a 2000-point bucket refilling 100/s."""
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    with ShopifySandbox(business, plan="standard", clock=lambda: clock[0]) as shop:
        settings = ShopifySettings(shop=business.shop_domain, token=shop.token,
                                   base_url=shop.url)
        source = ShopifySource(settings, pseudonym_key=KEY,
                               retry=RetryPolicy(jitter=0.0, sleeper=sleep))
        start = business.now - dt.timedelta(days=20)
        batches = read(source, "orders", Window(start, business.now))
        expected = {str(o.order_id) for o in business.orders() if o.updated_at >= start}
        assert {r["order_id"] for r in rows(batches, "orders")} == expected
        assert all(r.status == 200 for r in shop.requests)
        assert shop.server_errors == []
    assert len(expected) > 10
    assert "retrying with page size" in caplog.text  # 50 orders cost far more than 1000
    assert sleeps, "a standard-plan bucket must make the client wait at least once"
