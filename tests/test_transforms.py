"""order_facts / refund_facts on a hand-made shop; every expected number is worked out by hand.

The shop sells in SEK with prices including 25 % VAT and reports in SEK.
- A: customer c1, 2026-01-10, landing page with a gclid. One line: 2 x 125.00, discount 25.00,
  VAT 45.00 (a fifth of the discounted 225.00). Ex VAT the line's rate is 45 / 180 = 25 %:
  gross 250 / 1.25 = 200.00, discount 25 / 1.25 = 20.00, net 180.00.
- B: c1 again, 2026-02-01, utm email / newsletter: 1 x 100.00, VAT 20.00 -> net 80.00. Returning,
  although the period Feb holds no earlier order of c1.
- C: a guest paying EUR, 2026-02-01, referred by google.se: 1 x 10.00 EUR, VAT 2.00 -> 8.00 EUR,
  at the rate of 2026-01-31 (11.5 SEK; the 12.0 of 2026-02-02 is later) = 92.00 SEK.
- D: a test order: left out. E: c2's cancelled first order, no trace at all: Direct, new.
- A refund of one unit of A on 2026-02-20: 112.50 with 22.50 VAT -> returns 90.00 on that day,
  in A's channel (Paid Search) and customer type (new).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ondigital_connect.errors import ConfigError
from ondigital_connect.models.canonical import FxRate
from ondigital_connect.models.tables import get_table
from ondigital_connect.transforms import build
from ondigital_connect.warehouse import DuckDBWarehouse

UTC = dt.UTC
D = Decimal


def order(key: str, day: str, currency: str = "SEK", **kw: Any) -> dict[str, Any]:
    created = dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")
    row = {"source": "shopify", "account_id": "s", "order_key": key, "order_id": key,
           "created_at": created, "order_date": created.date(), "timezone": "Europe/Stockholm",
           "updated_at": created, "is_test": False, "currency": currency, "gross_sales": D(0),
           "discounts": D(0), "shipping": D(0), "tax": D(0), "total": D(0),
           "total_refunded": D(0), "presentment_currency": currency,
           "presentment_gross_sales": D(0), "presentment_discounts": D(0),
           "presentment_shipping": D(0), "presentment_tax": D(0), "presentment_total": D(0),
           "line_count": 1, "refund_count": 0, "taxes_included": True}
    return {**row, **kw}


def line(order_key: str, price: str, qty: int, discount: str, tax: str,
         currency: str = "SEK") -> dict[str, Any]:
    return {"source": "shopify", "account_id": "s", "line_key": f"{order_key}-1", "line_id": "1",
            "order_key": order_key, "quantity": qty, "unit_price": D(price),
            "discount": D(discount), "tax": D(tax), "currency": currency, "unit_cost": D("10")}


@pytest.fixture
def shop(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    orders = [
        order("A", "2026-01-10", customer_key="c1",
              landing_page="https://shop.example/p?gclid=xyz"),
        order("B", "2026-02-01", customer_key="c1", utm_source="newsletter",
              utm_medium="email"),
        order("C", "2026-02-01", "EUR", referrer="https://www.google.se/"),
        order("D", "2026-02-02", customer_key="c1", is_test=True),
        order("E", "2026-02-05", customer_key="c2",
              cancelled_at=dt.datetime(2026, 2, 5, 13, tzinfo=UTC)),
    ]
    lines = [line("A", "125.00", 2, "25.00", "45.00"), line("B", "100.00", 1, "0", "20.00"),
             line("C", "10.00", 1, "0", "2.00", "EUR"), line("D", "999", 1, "0", "0"),
             line("E", "50.00", 1, "0", "10.00")]
    refunds = [{"source": "shopify", "account_id": "s", "refund_key": "R1", "order_key": "A",
                "refund_id": "R1", "refunded_at": dt.datetime(2026, 2, 20, 9, tzinfo=UTC),
                "refund_date": dt.date(2026, 2, 20), "timezone": "Europe/Stockholm",
                "currency": "SEK", "amount": D("112.50"), "goods_amount": D("112.50"),
                "shipping_amount": D(0), "tax_amount": D("22.50")}]
    refund_lines = [{"source": "shopify", "account_id": "s", "refund_line_key": "R1-1",
                     "refund_key": "R1", "order_key": "A", "quantity": 1,
                     "subtotal": D("112.50"), "tax": D("22.50"), "currency": "SEK"}]
    with warehouse.transaction():
        warehouse.merge_entities(get_table("orders"), {
            "orders": orders, "order_lines": lines, "refunds": refunds,
            "refund_lines": refund_lines}, run_id="r")
        warehouse._insert_models("fx_rates", [
            FxRate(rate_date=dt.date(2026, 1, 31), base_currency="EUR", quote_currency="SEK",
                   rate=D("11.5"), rate_source="test"),
            FxRate(rate_date=dt.date(2026, 2, 2), base_currency="EUR", quote_currency="SEK",
                   rate=D("12.0"), rate_source="test")])
    return warehouse


def facts(wh: DuckDBWarehouse) -> dict[str, tuple]:
    rows = wh.fetch("SELECT order_key, channel, customer_type, customer_seq, is_cancelled, "
                    "gross_sales, discounts, net_sales, units FROM order_facts")
    return {r[0]: r[1:] for r in rows}


def test_orders_get_channel_sequence_and_ex_vat_money(shop: DuckDBWarehouse) -> None:
    stats = build(shop, reporting_currency="SEK")
    assert (stats.orders, stats.refunds, stats.orders_without_rate) == (4, 1, 0)
    got = facts(shop)
    assert got.keys() == {"A", "B", "C", "E"}  # the test order D is left out
    assert got["A"] == ("Paid Search", "new", 1, False, D("200"), D("20"), D("180"), 2)
    assert got["B"] == ("Email", "returning", 2, False, D("80"), D("0"), D("80"), 1)
    assert got["C"] == ("Organic Search", "guest", None, False, D("92"), D("0"), D("92"), 1)
    assert got["E"] == ("Direct", "new", 1, True, D("40"), D("0"), D("40"), 1)


def test_refunds_are_facts_on_their_own_date_ex_vat(shop: DuckDBWarehouse) -> None:
    build(shop, reporting_currency="SEK")
    assert shop.fetch("SELECT refund_date, channel, customer_type, returns, units_returned "
                      "FROM refund_facts") == [
        (dt.date(2026, 2, 20), "Paid Search", "new", D("90"), 1)]


def test_a_missing_rate_leaves_amounts_null_and_is_counted(shop: DuckDBWarehouse) -> None:
    stats = build(shop, reporting_currency="NOK")
    assert stats.orders_without_rate == 4
    assert shop.fetch("SELECT count(*) FROM order_facts WHERE net_sales IS NOT NULL") == [(0,)]


def test_rebuilding_is_idempotent(shop: DuckDBWarehouse) -> None:
    build(shop, reporting_currency="SEK")
    first = sorted(shop.fetch("SELECT * FROM order_facts"))
    build(shop, reporting_currency="SEK")
    assert sorted(shop.fetch("SELECT * FROM order_facts")) == first


def test_the_reporting_currency_is_checked(shop: DuckDBWarehouse) -> None:
    with pytest.raises(ConfigError, match="ISO code"):
        build(shop, reporting_currency="SEK'; DROP TABLE orders; --")
    assert shop.fetch("SELECT count(*) FROM orders") == [(5,)]


def test_cli_build_reports_counts_and_missing_rates(shop: DuckDBWarehouse) -> None:
    from click.testing import CliRunner

    from ondigital_connect.cli import cli

    path = shop.path
    shop.close()
    ok = CliRunner().invoke(cli, ["build", "--warehouse", f"duckdb:///{path}", "--currency",
                                  "sek"])
    assert ok.exit_code == 0, ok.output
    assert "order_facts: 4 orders; refund_facts: 1 refunds" in ok.output
    nok = CliRunner().invoke(cli, ["build", "--warehouse", f"duckdb:///{path}", "--currency",
                                   "NOK"])
    assert nok.exit_code == 0 and "4 orders have no exchange rate to NOK" in nok.output
    bad = CliRunner().invoke(cli, ["build", "--warehouse", f"duckdb:///{path}", "--currency",
                                   "kronor"])
    assert bad.exit_code == 1 and "ISO code" in bad.output
