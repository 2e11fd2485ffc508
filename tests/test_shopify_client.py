"""ShopifySource against a real loopback HTTP server serving hand-written Shopify replies."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import graphql
import orjson
import pytest
from pytest_httpserver import HTTPServer

from ondigital_connect.errors import ConfigError, QueryRejected, SourceAuthError
from ondigital_connect.http import RetryPolicy
from ondigital_connect.models.canonical import make_key
from ondigital_connect.models.tables import get_table
from ondigital_connect.privacy import pseudonymise
from ondigital_connect.sources.base import Batch, Window, get_source_class
from ondigital_connect.sources.shopify import (
    ShopifySettings,
    ShopifySource,
    mapping,
    payloads,
    queries,
)
from ondigital_connect.warehouse.merge import PARENT_SEQ

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
TOKEN = "shpat_test_0123456789abcdef"
SHOP = "acme-nordic.myshopify.com"
GQL = "/admin/api/2026-10/graphql.json"
KEY = b"tenant-secret-key"
UTC = dt.UTC
WINDOW = Window(dt.datetime(2026, 10, 1, tzinfo=UTC), dt.datetime(2026, 11, 1, tzinfo=UTC))
SEARCH = "updated_at:>='2026-10-01T00:00:00Z' AND updated_at:<='2026-11-01T00:00:00Z'"
DEFAULT_SCHEMA = (Path(__file__).parents[1] / ".cache" / "shopify-dev-mcp" / "package" / "dist"
                  / "data" / "admin_2026-10.json.gz")


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())




@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_source(srv: HTTPServer, sleeps: list[float], **overrides: Any) -> ShopifySource:
    overrides.setdefault("refund_lines_page_size", 2)
    settings = ShopifySettings(shop=SHOP, token=TOKEN, base_url=srv.url_for("/").rstrip("/"),
                               **overrides)
    retry = RetryPolicy(max_attempts=4, jitter=0.0, sleeper=sleeps.append)
    return ShopifySource(settings, pseudonym_key=KEY, retry=retry)


def expect(srv: HTTPServer, body: Any, *, status: int = 200,
           headers: dict[str, str] | None = None) -> None:
    data = body if isinstance(body, bytes) else orjson.dumps(
        load(body) if isinstance(body, str) else body)
    srv.expect_ordered_request(
        GQL, method="POST", headers={"X-Shopify-Access-Token": TOKEN},
    ).respond_with_data(data, status=status, headers=headers, content_type="application/json")


def finish(srv: HTTPServer) -> None:
    srv.check_assertions()
    srv.check_handler_errors()
    assert not srv.ordered_handlers, "a queued reply was never requested"
    assert not srv.oneshot_handlers


def sent(srv: HTTPServer) -> list[dict[str, Any]]:
    """The GraphQL bodies the client posted, in order."""
    bodies = []
    for request, _response in srv.log:
        assert request.path == GQL
        assert request.headers["X-Shopify-Access-Token"] == TOKEN
        assert request.headers["Content-Type"] == "application/json"
        bodies.append(orjson.loads(request.get_data()))
    return bodies


def operation(body: dict[str, Any]) -> str:
    """The name of the GraphQL operation a body carries."""
    for definition in graphql.parse(body["query"]).definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            return definition.name.value
    raise AssertionError("no operation")


def read_all(source: ShopifySource, stream: str, window: Window = WINDOW,
             batch_size: int = 1000) -> list[Batch]:
    return list(source.read(stream, window, batch_size=batch_size))


def rows(batches: list[Batch], table: str) -> list[dict[str, Any]]:
    return [row for b in batches for row in b.rows.get(table, [])]


def by(rows_: list[dict[str, Any]], column: str) -> dict[Any, dict[str, Any]]:
    return {row[column]: row for row in rows_}


def serve_two_pages(srv: HTTPServer) -> None:
    expect(srv, "shop")
    expect(srv, "orders_page1")
    expect(srv, "orders_page2")
    expect(srv, "order_5504_lines_rest")
    expect(srv, "refund_7005_lines_rest")


def assert_canonical(batches: list[Batch]) -> int:
    """Every row validates against its canonical model; returns how many rows were checked."""
    checked = 0
    for batch in batches:
        for table, table_rows in batch.rows.items():
            model = get_table(table).model
            for row in table_rows:
                assert "_synced_at" not in row and "_run_id" not in row
                model.model_validate({k: v for k, v in row.items() if k != PARENT_SEQ})
                checked += 1
    return checked


# -- pagination --------------------------------------------------------------------------------


def test_orders_are_read_to_the_last_page_with_cursor_and_search_query(http, sleeps):
    serve_two_pages(http)
    source = make_source(http, sleeps)
    batches = read_all(source, "orders")
    finish(http)
    bodies = sent(http)
    assert [operation(b) for b in bodies] == [
        "Shop", "Orders", "Orders", "OrderLineItems", "RefundLineItems"]
    first, second = bodies[1]["variables"], bodies[2]["variables"]
    assert first == {"query": SEARCH, "lines": 10, "refunds": 2, "refundLines": 2,
                     "after": None, "first": 50}
    assert second["after"] == "eyJsYXN0X2lkIjo1NTAzfQ==" and second["query"] == SEARCH
    assert bodies[3]["variables"] == {"id": "gid://shopify/Order/5504",
                                      "after": "eyJsaW5lIjoxMH0=", "first": 50}
    assert bodies[4]["variables"]["id"] == "gid://shopify/Refund/7005"
    assert bodies[4]["variables"]["after"] == "eyJybCI6Mn0="
    orders = rows(batches, "orders")
    assert [o["order_id"] for o in orders] == ["5501", "5502", "5503", "5504", "5505"]
    assert sum(b.received for b in batches) == 5
    assert batches[-1].cursor == dt.datetime(2026, 10, 22, 10, 0, tzinfo=UTC)
    assert sleeps == []


def test_batches_hold_about_batch_size_records_with_their_own_cursor(http, sleeps):
    serve_two_pages(http)
    batches = read_all(make_source(http, sleeps), "orders", batch_size=2)
    finish(http)
    assert [b.received for b in batches] == [3, 2]
    assert [len(b.rows["orders"]) for b in batches] == [3, 2]
    assert batches[0].cursor == dt.datetime(2026, 10, 22, 10, 0, tzinfo=UTC)
    assert batches[1].cursor == dt.datetime(2026, 10, 9, 15, 0, tzinfo=UTC)
    assert all(set(b.rows) == {"orders", "order_lines", "refunds", "refund_lines"} for b in batches)


def test_a_first_run_has_no_lower_bound(http, sleeps):
    expect(http, "shop")
    expect(http, "orders_drift")
    read_all(make_source(http, sleeps), "orders", Window(None, WINDOW.end))
    finish(http)
    assert sent(http)[1]["variables"]["query"] == "updated_at:<='2026-11-01T00:00:00Z'"


def test_nested_line_items_are_paginated_not_truncated(http, sleeps):
    serve_two_pages(http)
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    key = make_key("shopify", SHOP, "5504")
    lines = [r for r in rows(batches, "order_lines") if r["order_key"] == key]
    assert sorted(int(r["line_id"]) for r in lines) == list(range(401, 413))
    order = by(rows(batches, "orders"), "order_key")[key]
    assert order["line_count"] == 12
    assert order["gross_sales"] == Decimal("1200.00")


def test_refund_lines_are_paginated_and_summed(http, sleeps):
    serve_two_pages(http)
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    refund = by(rows(batches, "refunds"), "refund_id")["7005"]
    assert refund["goods_amount"] == Decimal("400.00")
    assert refund["shipping_amount"] == Decimal("39.20")
    assert refund["tax_amount"] == Decimal("89.80")
    assert refund["amount"] == Decimal("449.00")
    refund_lines = [r for r in rows(batches, "refund_lines") if r["refund_key"].endswith(":7005")]
    assert sorted(r["refund_line_key"] for r in refund_lines) == [
        make_key("shopify", SHOP, n) for n in ("9001", "9002", "9003")]
    third = by(refund_lines, "refund_line_key")[make_key("shopify", SHOP, "9003")]
    assert third["line_key"] == make_key("shopify", SHOP, "503") and third["quantity"] == 2


def test_a_full_refunds_list_is_fetched_again_in_full(http, sleeps):
    expect(http, "shop")
    page = load("orders_page1")
    page["data"]["orders"]["nodes"] = page["data"]["orders"]["nodes"][:1]
    page["data"]["orders"]["pageInfo"]["hasNextPage"] = False
    expect(http, page)
    expect(http, "order_5501_refunds")
    batches = read_all(make_source(http, sleeps, refunds_page_size=1), "orders")
    finish(http)
    assert sent(http)[2]["variables"] == {"id0": "gid://shopify/Order/5501", "refundLines": 2}
    assert sorted(r["refund_id"] for r in rows(batches, "refunds")) == ["3", "4"]
    assert rows(batches, "orders")[0]["refund_count"] == 2
    assert by(rows(batches, "refunds"), "refund_id")["4"]["shipping_amount"] == Decimal("49.00")


# -- throttling and failures -------------------------------------------------------------------


def test_throttled_reply_waits_what_the_bucket_needs_then_retries(http, sleeps):
    expect(http, "shop")
    expect(http, "throttled")
    expect(http, "orders_drift")
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    assert sleeps == [pytest.approx((252 - 3.0) / 100.0)]
    assert len(rows(batches, "orders")) == 1
    assert sent(http)[1] == sent(http)[2]  # the same page was asked for again


def test_throttled_429_without_retry_after_uses_the_bucket(http, sleeps):
    expect(http, "shop")
    expect(http, "throttled", status=429)
    expect(http, "orders_drift")
    read_all(make_source(http, sleeps), "orders")
    finish(http)
    assert sleeps == [pytest.approx(2.49)]


def test_429_with_retry_after_is_honoured(http, sleeps):
    expect(http, "shop")
    expect(http, "throttled", status=429, headers={"Retry-After": "4"})
    expect(http, "orders_drift")
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    assert sleeps == [4.0]
    assert len(rows(batches, "orders")) == 1


def test_next_query_waits_when_the_bucket_is_low(http, sleeps):
    expect(http, "shop")
    page1 = load("orders_page1")
    page1["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = 50.0
    expect(http, page1)
    expect(http, "orders_page2")
    expect(http, "order_5504_lines_rest")
    expect(http, "refund_7005_lines_rest")
    read_all(make_source(http, sleeps), "orders")
    finish(http)
    assert sleeps == [pytest.approx((252 - 50.0) / 100.0)]


def test_server_error_then_success(http, sleeps):
    expect(http, "shop")
    expect(http, b"<html><body>502 Bad Gateway</body></html>", status=502)
    expect(http, "orders_drift")
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    assert sleeps == [0.5]
    assert len(rows(batches, "orders")) == 1


def test_expired_token_is_a_clear_auth_error_and_not_retried(http, sleeps):
    expect(http, "unauthorized_401", status=401)
    with pytest.raises(SourceAuthError) as info:
        read_all(make_source(http, sleeps), "orders")
    finish(http)
    message = str(info.value)
    assert message.startswith("shopify")
    assert "token" in message and "renew" in message
    assert TOKEN not in message and "?" not in message
    assert len(http.log) == 1 and sleeps == []


def test_access_denied_names_the_missing_scope(http, sleeps):
    expect(http, "shop")
    expect(http, "access_denied")
    with pytest.raises(SourceAuthError, match="read_orders"):
        read_all(make_source(http, sleeps), "orders")
    finish(http)
    assert sleeps == []


@pytest.mark.parametrize(("cost", "smaller"), [(1312, 25), (14302, 3)])
def test_max_cost_exceeded_retries_the_same_page_smaller(http, sleeps, caplog, cost, smaller):
    expect(http, "shop")
    exceeded = load("max_cost_exceeded")
    exceeded["errors"][0]["extensions"]["cost"] = cost
    expect(http, exceeded)
    expect(http, "orders_drift")
    expect(http, "orders_drift")
    source = make_source(http, sleeps)
    with caplog.at_level(logging.WARNING):
        batches = read_all(source, "orders")
        read_all(source, "orders")  # the next read starts at the size that worked
    finish(http)
    bodies = sent(http)
    assert [b["variables"]["first"] for b in bodies[1:]] == [50, smaller, smaller]
    assert bodies[1]["variables"]["after"] == bodies[2]["variables"]["after"] is None
    assert len(rows(batches, "orders")) == 1
    assert f"page size {smaller}" in caplog.text


def test_max_cost_exceeded_at_page_size_one_fails(http, sleeps):
    expect(http, "shop")
    expect(http, "max_cost_exceeded")
    expect(http, "max_cost_exceeded")
    with pytest.raises(QueryRejected, match="exceeds the single query max cost"):
        read_all(make_source(http, sleeps, orders_page_size=2), "orders")
    finish(http)
    assert [b["variables"]["first"] for b in sent(http)[1:]] == [2, 1]


# -- records -----------------------------------------------------------------------------------


def test_unknown_fields_are_kept_and_reported_once_as_drift(http, sleeps):
    expect(http, "shop")
    page = load("orders_drift")
    twin = copy.deepcopy(page["data"]["orders"]["nodes"][0])
    twin["id"] = "gid://shopify/Order/5599"
    page["data"]["orders"]["nodes"].append(twin)
    expect(http, page)
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    drift = [d for b in batches for d in b.drift]
    assert sorted(d.field_path for d in drift) == [
        "email", "lineItems.nodes[].giftWrapped", "sustainabilityScore"]
    examples = {d.field_path: d.example for d in drift}
    assert examples["sustainabilityScore"] == {"grade": "A", "co2Grams": 1200}
    assert examples["email"] == "[redacted]"
    extra = rows(batches, "orders")[0]["extra"]
    assert extra == {"sustainabilityScore": {"grade": "A", "co2Grams": 1200},
                     "email": "[redacted]"}


def test_a_wrong_type_rejects_only_its_record_with_a_reason(http, sleeps):
    expect(http, "shop")
    expect(http, "orders_wrong_type")
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    rejects = [r for b in batches for r in b.rejects]
    assert len(rejects) == 1
    reject = rejects[0]
    assert "totalPriceSet.shopMoney.amount" in reject.reason
    assert "valid string" in reject.reason and "float" in reject.reason
    assert reject.key == make_key("shopify", SHOP, "5507")
    assert reject.raw["id"] == "gid://shopify/Order/5507"
    assert reject.raw["totalPriceSet"]["shopMoney"]["amount"] == 299.0
    assert [o["order_id"] for o in rows(batches, "orders")] == ["5508"]
    assert [r["line_id"] for r in rows(batches, "order_lines")] == ["801"]
    assert sum(b.received for b in batches) == 2


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("lineItems", "nodes", 0, "quantity"), "two", "lineItems.nodes.0.quantity"),
    (("totalTaxSet", "shopMoney", "amount"), "abc", "totalTaxSet.shopMoney.amount"),
    (("test",), "false", "test"),
    (("createdAt",), "2026-10-07T09:00:00", "createdAt"),
    (("refunds",), None, "refunds"),
])
def test_wrong_values_are_never_coerced(path, value, expected):
    node = load("orders_wrong_type")["data"]["orders"]["nodes"][1]
    target = node
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    result = payloads.ORDER.validate_one(node)
    assert isinstance(result, str)
    assert result.startswith(expected + ":")


def test_money_currencies_and_local_dates(http, sleeps):
    serve_two_pages(http)
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    orders = by(rows(batches, "orders"), "order_id")
    multi = orders["5501"]
    assert (multi["currency"], multi["presentment_currency"]) == ("SEK", "EUR")
    assert (multi["total"], multi["presentment_total"]) == (Decimal("746.00"), Decimal("64.90"))
    assert multi["gross_sales"] == Decimal("697.00")
    assert multi["presentment_gross_sales"] == Decimal("60.60")
    assert (multi["tax"], multi["presentment_tax"]) == (Decimal("149.20"), Decimal("12.98"))
    assert multi["shipping"] == Decimal("49.00") and multi["total_refunded"] == Decimal("299.00")
    assert multi["market"] == multi["country_code"] == "FI"
    assert multi["order_date"] == dt.date(2026, 10, 1)
    assert (multi["utm_source"], multi["utm_medium"], multi["utm_campaign"]) == (
        "google", "cpc", "brand")
    assert multi["click_id"] == "Cj0KCQ-abc" and multi["attribution_ready"] is True
    assert multi["financial_status"] == "PARTIALLY_REFUNDED"
    assert multi["delivery_status"] == "DELIVERED"
    line = by(rows(batches, "order_lines"), "line_id")["11"]
    assert (line["unit_price"], line["presentment_unit_price"]) == (Decimal("299.00"),
                                                                   Decimal("26.00"))
    assert line["currency"] == "SEK" and line["presentment_currency"] == "EUR"
    assert line["unit_cost"] == Decimal("120.00") and line["tax"] == Decimal("119.60")
    assert line["product_key"] == make_key("shopify", SHOP, "9")
    assert line["category"] == "T-shirts"
    assert by(rows(batches, "order_lines"), "line_id")["12"]["unit_cost"] is None

    late = orders["5502"]
    assert late["created_at"] == dt.datetime(2026, 10, 3, 23, 30, tzinfo=UTC)
    assert late["order_date"] == dt.date(2026, 10, 4)
    assert late["timezone"] == "Europe/Stockholm"
    assert late["click_id"] == "IwAR-xyz" and late["delivery_status"] is None

    refund = by(rows(batches, "refunds"), "refund_id")["3"]
    assert refund["refunded_at"] == dt.datetime(2026, 10, 22, 9, 59, tzinfo=UTC)
    assert refund["refund_date"] == dt.date(2026, 10, 22)
    assert refund["order_key"] == multi["order_key"]
    assert (refund["amount"], refund["presentment_amount"]) == (Decimal("299.00"),
                                                                Decimal("26.00"))
    assert refund["presentment_currency"] == "EUR"
    assert refund["goods_amount"] == Decimal("299.00") and refund["tax_amount"] == Decimal("59.80")

    test_order = orders["5503"]
    assert test_order["is_test"] is True and test_order["sales_channel"] == "shopify_draft_order"
    assert test_order["customer_key"] is None and test_order["market"] is None
    assert orders["5501"]["is_test"] is False


def test_customer_key_is_a_keyed_hash_and_no_email_is_emitted(http, sleeps, caplog):
    serve_two_pages(http)
    expect(http, "orders_drift")
    source = make_source(http, sleeps)
    with caplog.at_level(logging.DEBUG):
        batches = read_all(source, "orders")
        batches += read_all(source, "orders")  # the shop is fetched once per source
    finish(http)
    customer_key = by(rows(batches, "orders"), "order_id")["5501"]["customer_key"]
    assert customer_key == pseudonymise(KEY, f"shopify:{SHOP}", "77")
    assert customer_key != pseudonymise(b"another-tenant", f"shopify:{SHOP}", "77")
    assert customer_key.startswith("c_") and len(customer_key) == 34
    landing = by(rows(batches, "orders"), "order_id")["5502"]["landing_page"]
    assert landing.startswith("https://acme.se/?utm_source=newsletter")
    assert "email=" not in landing
    everything = repr(batches) + caplog.text
    for secret in ("anna.svensson", "@example.com", "%40example.com", TOKEN):
        assert secret not in everything


def test_every_row_fits_its_canonical_model(http, sleeps):
    serve_two_pages(http)
    expect(http, "orders_drift")
    expect(http, "customers_page")
    expect(http, "product_variants_page")
    expect(http, "inventory_page")
    expect(http, "inventory_levels_rest")
    source = make_source(http, sleeps)
    batches = read_all(source, "orders")
    batches += read_all(source, "orders")
    for stream in ("customers", "products", "inventory_levels"):
        batches += read_all(source, stream)
    finish(http)
    # orders 5+1, lines 19+1, refunds 2, refund lines 4, customers 2, products 3, stock 4
    assert assert_canonical(batches) == 41


# -- other streams -----------------------------------------------------------------------------


def test_customers_are_pseudonymous_and_bad_counts_rejected(http, sleeps):
    expect(http, "shop")
    expect(http, "customers_page")
    batches = read_all(make_source(http, sleeps), "customers")
    finish(http)
    body = sent(http)[1]
    assert body["variables"]["query"] == SEARCH
    assert not requested_fields(body["query"]) & PERSONAL_FIELDS
    customers = rows(batches, "customers")
    first = customers[0]
    assert first["customer_key"] == pseudonymise(KEY, f"shopify:{SHOP}", "77")
    assert first["vendor_order_count"] == 3 and first["marketing_consent"] is True
    assert first["country_code"] == "FI"
    assert customers[1]["marketing_consent"] is False and customers[1]["country_code"] is None
    rejects = [r for b in batches for r in b.rejects]
    assert len(rejects) == 1 and rejects[0].reason.startswith("numberOfOrders:")
    assert rejects[0].key == pseudonymise(KEY, f"shopify:{SHOP}", "79")
    assert batches[-1].cursor == dt.datetime(2026, 10, 22, 10, 0, tzinfo=UTC)


def test_products_are_variants_with_cost_and_latest_update(http, sleeps):
    expect(http, "shop")
    expect(http, "product_variants_page")
    batches = read_all(make_source(http, sleeps), "products")
    finish(http)
    products = by(rows(batches, "products"), "variant_id")
    red = products["9"]
    assert red["product_key"] == make_key("shopify", SHOP, "9") and red["product_id"] == "3"
    assert red["updated_at"] == dt.datetime(2026, 9, 30, 12, 0, tzinfo=UTC)
    assert (red["price"], red["unit_cost"], red["currency"]) == (Decimal("299.00"),
                                                                 Decimal("120.00"), "SEK")
    assert (red["category"], red["brand"], red["status"]) == ("T-shirts", "Acme", "ACTIVE")
    socks = products["10"]
    assert socks["unit_cost"] is None and socks["category"] is None
    assert socks["status"] == "ARCHIVED"
    assert products["11"]["updated_at"] == dt.datetime(2026, 10, 2, 10, 0, tzinfo=UTC)


def test_inventory_is_a_daily_snapshot_in_shop_time(http, sleeps):
    expect(http, "shop")
    expect(http, "inventory_page")
    expect(http, "inventory_levels_rest")
    end = dt.datetime(2026, 11, 1, 23, 30, tzinfo=UTC)  # already 2 November in Stockholm
    batches = read_all(make_source(http, sleeps), "inventory_levels", Window(None, end))
    finish(http)
    assert [b.report_dates for b in batches] == [(dt.date(2026, 11, 2), dt.date(2026, 11, 2))]
    assert sent(http)[2]["variables"] == {"id": "gid://shopify/InventoryItem/1009",
                                          "after": "eyJsdmwiOjJ9", "first": 50}
    levels = rows(batches, "inventory_levels")
    assert {(r["product_key"].rsplit(":", 1)[1], r["location_id"]) for r in levels} == {
        ("9", "1"), ("9", "2"), ("9", "3"), ("10", "1")}
    dc = [r for r in levels if r["location_id"] == "1" and r["sku"] == "TS-RED-M"][0]
    assert (dc["available"], dc["on_hand"], dc["unit_cost"]) == (40, 42, Decimal("120.00"))
    assert all(r["snapshot_date"] == dt.date(2026, 11, 2) for r in levels)


def test_source_is_registered_and_validates_its_arguments(http, sleeps):
    assert get_source_class("shopify") is ShopifySource
    source = make_source(http, sleeps)
    assert source.account_id == SHOP
    assert source.streams["orders"].tables == ("orders", "order_lines", "refunds",
                                                "refund_lines")
    assert source.streams["inventory_levels"].kind == "report"
    with pytest.raises(ConfigError, match="no stream"):
        read_all(source, "abandoned_checkouts")
    assert read_all(source, "orders", Window(WINDOW.end, WINDOW.start)) == []
    assert http.log == []
    with pytest.raises(ValueError, match="myshopify"):
        ShopifySettings(shop="acme.example.com", token=TOKEN)
    assert TOKEN not in repr(ShopifySettings(shop=SHOP, token=TOKEN))


# -- the GraphQL documents against Shopify's published schema ----------------------------------


@pytest.fixture(scope="module")
def admin_schema() -> graphql.GraphQLSchema:
    path = Path(os.environ.get("ODC_SHOPIFY_SCHEMA", DEFAULT_SCHEMA))
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Shopify schema {path} is missing (set ODC_SHOPIFY_SCHEMA)")
        pytest.skip(f"Shopify schema {path} not available")
    with gzip.open(path) as fh:
        data = json.load(fh)
    schema = graphql.build_client_schema(data.get("data", data))
    schema._validation_errors = []  # the published schema trips graphql-core's own checks
    return schema


@pytest.mark.parametrize("name", sorted(queries.ALL))
def test_documents_validate_against_the_2026_10_schema(admin_schema, name):
    errors = graphql.validate(admin_schema, graphql.parse(queries.ALL[name]))
    assert errors == [], [e.message for e in errors]


def test_schema_check_catches_a_wrong_field(admin_schema):
    wrong = queries.ORDERS.replace("displayFulfillmentStatus", "fulfillmentStatusDisplay")
    assert graphql.validate(admin_schema, graphql.parse(wrong))


PERSONAL_FIELDS = {"email", "emailAddress", "defaultEmailAddress", "phone", "phoneNumber",
                   "defaultPhoneNumber", "firstName", "lastName", "displayName", "address1",
                   "address2", "zip", "note", "ipAddress", "browserIp"}


def requested_fields(document: str) -> set[str]:
    names: set[str] = set()

    class Collect(graphql.Visitor):
        def enter_field(self, node: graphql.FieldNode, *_args: Any) -> None:
            names.add(node.name.value)

    graphql.visit(graphql.parse(document), Collect())
    return names


@pytest.mark.parametrize("name", sorted(queries.ALL))
def test_no_document_asks_for_personal_data(name):
    fields = requested_fields(queries.ALL[name])
    assert fields
    assert not fields & PERSONAL_FIELDS


def _selected(fragment: str) -> set[str]:
    document = graphql.parse(queries.ALL["Orders"])
    for definition in document.definitions:
        if getattr(definition, "name", None) and definition.name.value == fragment:
            return {s.name.value for s in definition.selection_set.selections}
    raise AssertionError(fragment)


@pytest.mark.parametrize(("fragment", "shape"), [
    ("OrderFields", payloads.Order), ("LineItemFields", payloads.LineItem),
    ("RefundFields", payloads.Refund),
])
def test_shapes_know_every_field_the_query_asks_for(fragment, shape):
    assert _selected(fragment) <= payloads.known_fields(shape)


# -- follow-ups that do not fit ----------------------------------------------------------------


def test_a_bad_follow_up_rejects_its_order_with_the_raw_node(http, sleeps):
    expect(http, "shop")
    expect(http, "orders_page2")
    rest = load("order_5504_lines_rest")
    rest["data"]["order"]["lineItems"]["nodes"][1]["quantity"] = "two"
    expect(http, rest)
    expect(http, "refund_7005_lines_rest")
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    rejects = [r for b in batches for r in b.rejects]
    assert [r.key for r in rejects] == [make_key("shopify", SHOP, "5504")]
    assert rejects[0].reason.startswith("lineItems.nodes.11.quantity:")
    assert len(rejects[0].raw["lineItems"]["nodes"]) == 12  # the node as sent, completed
    assert [o["order_id"] for o in rows(batches, "orders")] == ["5505"]
    assert not any(r["order_key"].endswith(":5504") for r in rows(batches, "order_lines"))


def test_an_order_that_vanishes_mid_follow_up_is_rejected(http, sleeps):
    expect(http, "shop")
    expect(http, "orders_page2")
    expect(http, {"data": {"order": None}, "extensions": load("shop")["extensions"]})
    expect(http, "refund_7005_lines_rest")
    batches = read_all(make_source(http, sleeps), "orders")
    finish(http)
    rejects = [r for b in batches for r in b.rejects]
    assert len(rejects) == 1 and "vanished" in rejects[0].reason
    assert rejects[0].key == make_key("shopify", SHOP, "5504")
    assert [o["order_id"] for o in rows(batches, "orders")] == ["5505"]


@pytest.mark.parametrize("prefetch", [True, False])
def test_a_page_with_a_bad_node_still_completes_the_others(http, sleeps, prefetch):
    expect(http, "shop")
    page = load("orders_page2")
    bad = load("orders_wrong_type")["data"]["orders"]["nodes"][0]
    page["data"]["orders"]["nodes"].insert(0, bad)
    expect(http, page)
    expect(http, "order_5504_lines_rest")
    expect(http, "refund_7005_lines_rest")
    batches = read_all(make_source(http, sleeps, prefetch_pages=prefetch), "orders")
    finish(http)
    assert [r.key for b in batches for r in b.rejects] == [make_key("shopify", SHOP, "5507")]
    lines = rows(batches, "order_lines")
    assert sum(r["order_key"].endswith(":5504") for r in lines) == 12
    assert len([r for r in rows(batches, "refund_lines") if r["refund_key"].endswith(":7005")]) == 3
    assert sum(b.received for b in batches) == 3


# -- privacy and attribution helpers -----------------------------------------------------------


def test_redact_blanks_personal_keys_and_email_addresses():
    raw = {"phone": "+46 70 123 45 67", "customer": {"defaultEmailAddress": None},
           "notes": ["call anna.svensson@example.com", "ok"], "total": "1.00"}
    assert mapping.redact(raw) == {
        "phone": "[redacted]", "customer": {"defaultEmailAddress": None},
        "notes": ["call [redacted]", "ok"], "total": "1.00"}


@pytest.mark.parametrize(("url", "expected"), [
    ("https://x.se/?utm_source=nl&email=a%40b.se&gclid=G1", "https://x.se/?utm_source=nl&gclid=G1"),
    ("https://x.se/?utm_source=nl&tel=0701234567&ref=x", "https://x.se/?utm_source=nl&ref=x"),
    ("https://x.se/p?utm_source=google", "https://x.se/p?utm_source=google"),
    (None, None),
])
def test_scrub_url_drops_personal_parameters(url, expected):
    assert mapping.scrub_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("https://x.se/?fbclid=F&gclid=G", "G"),  # gclid is looked for first
    ("https://x.se/?utm_source=bing&msclkid=M%2B1", "M+1"),
    ("https://x.se/?xgclid=1&wbraid=W", "W"),
    ("https://x.se/#gclid=G", None),
    ("https://x.se/", None),
])
def test_click_id_takes_the_first_known_parameter(url, expected):
    assert mapping.click_id(url) == expected
