"""order_facts / refund_facts on the hand-made shop of ``tests/kpi_shop.py`` (numbers by hand)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ondigital_connect.errors import ConfigError
from ondigital_connect.transforms import build
from ondigital_connect.warehouse import DuckDBWarehouse
from tests.kpi_shop import load_shop

D = Decimal


@pytest.fixture
def shop(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    return load_shop(warehouse)


def facts(wh: DuckDBWarehouse) -> dict[str, tuple]:
    rows = wh.fetch("SELECT order_key, channel, customer_type, customer_seq, is_cancelled, "
                    "gross_sales, discounts, net_sales, units FROM order_facts")
    return {r[0]: r[1:] for r in rows}


def test_orders_get_channel_sequence_and_ex_vat_money(shop: DuckDBWarehouse) -> None:
    stats = build(shop, reporting_currency="SEK")
    assert (stats.orders, stats.refunds, stats.orders_without_rate) == (7, 1, 0)
    got = facts(shop)
    assert got.keys() == {"A", "B", "C", "E", "F", "G", "H"}  # the test order D is left out
    assert got["A"] == ("Paid Search", "new", 1, False, D("200"), D("20"), D("180"), 2)
    assert got["B"] == ("Email", "returning", 2, False, D("80"), D("0"), D("80"), 1)
    assert got["C"] == ("Organic Search", "guest", None, False, D("92"), D("0"), D("92"), 1)
    assert got["E"] == ("Direct", "new", 1, True, D("40"), D("0"), D("40"), 1)
    assert got["F"] == ("Direct", "returning", 3, False, D("40"), D("0"), D("40"), 1)


def test_refunds_are_facts_on_their_own_date_ex_vat(shop: DuckDBWarehouse) -> None:
    build(shop, reporting_currency="SEK")
    assert shop.fetch("SELECT refund_date, channel, customer_type, returns, units_returned, "
                      "cogs_returned FROM refund_facts") == [
        (dt.date(2026, 2, 20), "Paid Search", "new", D("90"), 1, D("10"))]


def test_a_missing_rate_leaves_amounts_null_and_is_counted(shop: DuckDBWarehouse) -> None:
    stats = build(shop, reporting_currency="NOK")
    assert stats.orders_without_rate == 7
    assert shop.fetch("SELECT count(*) FROM order_facts WHERE net_sales IS NOT NULL") == [(0,)]


def test_rebuilding_is_idempotent(shop: DuckDBWarehouse) -> None:
    build(shop, reporting_currency="SEK")
    first = sorted(shop.fetch("SELECT * FROM order_facts"))
    build(shop, reporting_currency="SEK")
    assert sorted(shop.fetch("SELECT * FROM order_facts")) == first


def test_the_reporting_currency_is_checked(shop: DuckDBWarehouse) -> None:
    with pytest.raises(ConfigError, match="ISO code"):
        build(shop, reporting_currency="SEK'; DROP TABLE orders; --")
    assert shop.fetch("SELECT count(*) FROM orders") == [(8,)]


def test_cli_build_reports_counts_and_missing_rates(shop: DuckDBWarehouse) -> None:
    from click.testing import CliRunner

    from ondigital_connect.cli import cli

    path = shop.path
    shop.close()
    ok = CliRunner().invoke(cli, ["build", "--warehouse", f"duckdb:///{path}", "--currency",
                                  "sek"])
    assert ok.exit_code == 0, ok.output
    assert "order_facts: 7 orders; refund_facts: 1 refunds" in ok.output
    nok = CliRunner().invoke(cli, ["build", "--warehouse", f"duckdb:///{path}", "--currency",
                                   "NOK"])
    assert nok.exit_code == 0 and "7 orders have no exchange rate to NOK" in nok.output
    bad = CliRunner().invoke(cli, ["build", "--warehouse", f"duckdb:///{path}", "--currency",
                                   "kronor"])
    assert bad.exit_code == 1 and "ISO code" in bad.output


def test_cli_build_takes_the_tenants_channel_rules(shop: DuckDBWarehouse, tmp_path) -> None:
    from click.testing import CliRunner

    from ondigital_connect.cli import cli

    rules = tmp_path / "channels.toml"
    rules.write_text('[[channel_rules]]\nchannel = "Newsletter"\nmedium = "email"\n')
    path = shop.path
    shop.close()
    ok = CliRunner().invoke(cli, ["build", "--warehouse", f"duckdb:///{path}", "--currency",
                                  "SEK", "--channel-rules", str(rules)])
    assert ok.exit_code == 0, ok.output
    wh = DuckDBWarehouse(path, read_only=True)
    assert wh.fetch("SELECT channel FROM order_facts WHERE order_key = 'B'") == [("Newsletter",)]
    wh.close()
