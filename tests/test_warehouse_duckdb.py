"""DuckDBWarehouse: generated DDL, additive migration, guarded merges, report windows, atomicity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import Field

from ondigital_connect.errors import ConfigError, WarehouseError, WarehouseUnavailable
from ondigital_connect.models import TABLES, get_table
from ondigital_connect.models.canonical import Fact
from ondigital_connect.models.spec import table_spec
from ondigital_connect.warehouse import DuckDBWarehouse, connect
from ondigital_connect.warehouse.ddl import create_table
from tests.fakes import T0, order_row

UTC = dt.UTC


def _line(order: int, line: int, qty: int = 1) -> dict:
    return {"source": "fake", "account_id": "acct", "line_key": f"fake:acct:{line}",
            "order_key": f"fake:acct:{order}", "line_id": str(line), "quantity": qty,
            "unit_price": Decimal("10.00"), "discount": Decimal(0), "tax": Decimal(0),
            "currency": "SEK"}


def test_every_table_is_created_with_money_as_decimal(warehouse: DuckDBWarehouse) -> None:
    types = dict(warehouse.fetch(
        "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"))
    assert {t for t in (k.split(".")[0] for k in types)} >= set(TABLES)
    assert types["orders.total"] == "DECIMAL(38,9)"
    assert types["orders.created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["orders.order_date"] == "DATE"
    assert types["orders._synced_at"] == "TIMESTAMP WITH TIME ZONE"


def test_ddl_comes_from_the_spec_for_both_dialects() -> None:
    spec = get_table("orders")
    duck = create_table(spec)
    bq = create_table(spec, "bigquery")
    assert '"gross_sales" DECIMAL(38,9) NOT NULL' in duck
    assert "`gross_sales` NUMERIC NOT NULL" in bq
    assert "PARTITION BY `order_date`" in bq and "CLUSTER BY `account_id`, `market`" in bq


def test_adding_a_nullable_column_migrates_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    DuckDBWarehouse(path).close()

    class OrderV2(get_table("orders").model):  # type: ignore[misc,valid-type]
        gift_message: str | None = None

    spec = table_spec(OrderV2, name="orders", primary_key=("order_key",), kind="entity",
                      version_column="updated_at")
    wh = DuckDBWarehouse(path)
    assert wh.ensure_schema([spec]) == [
        'ALTER TABLE "orders" ADD COLUMN "gift_message" VARCHAR']
    assert wh.ensure_schema([spec]) == []
    wh.close()


def test_a_new_not_null_column_is_refused(tmp_path: Path) -> None:
    class Strict(Fact):
        k: str
        must: int = Field()

    wh = DuckDBWarehouse(tmp_path / "s.duckdb")
    base = table_spec(Fact, name="x_table", primary_key=("source",), kind="control")
    wh.ensure_schema([base])
    with pytest.raises(ConfigError, match="NOT NULL"):
        wh.ensure_schema([table_spec(Strict, name="x_table", primary_key=("k",), kind="control")])
    wh.close()


def test_older_version_never_overwrites_newer(warehouse: DuckDBWarehouse) -> None:
    spec = get_table("orders")
    new, old = T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=1)
    with warehouse.transaction():
        warehouse.merge_entities(spec, {"orders": [order_row(1, new, Decimal("50"))],
                                        "order_lines": [_line(1, 11, qty=5)]}, run_id="r1")
    with warehouse.transaction():
        stats = warehouse.merge_entities(spec, {"orders": [order_row(1, old, Decimal("99"))],
                                                "order_lines": [_line(1, 11, qty=9)]},
                                         run_id="r2")
    assert stats.stale == 1 and stats.written == 0
    assert warehouse.fetch("SELECT total, updated_at FROM orders") == [(Decimal("50"), new)]
    assert warehouse.fetch("SELECT quantity FROM order_lines") == [(5,)]


def test_newer_version_replaces_row_and_its_children(warehouse: DuckDBWarehouse) -> None:
    spec = get_table("orders")
    with warehouse.transaction():
        warehouse.merge_entities(spec, {"orders": [order_row(1, T0, Decimal("50"))],
                                        "order_lines": [_line(1, 11), _line(1, 12)]}, run_id="a")
    later = T0 + dt.timedelta(hours=1)
    with warehouse.transaction():
        warehouse.merge_entities(spec, {"orders": [order_row(1, later, Decimal("40"))],
                                        "order_lines": [_line(1, 11, qty=3)]}, run_id="b")
    assert warehouse.fetch("SELECT count(*), max(total) FROM orders") == [(1, Decimal("40"))]
    assert warehouse.fetch("SELECT line_key, quantity FROM order_lines") == [("fake:acct:11", 3)]


def test_duplicate_keys_in_one_batch_keep_the_newest(warehouse: DuckDBWarehouse) -> None:
    spec = get_table("orders")
    rows = [order_row(1, T0 + dt.timedelta(hours=2), Decimal("2")),
            order_row(1, T0, Decimal("1"))]
    lines = [dict(_line(1, 11, qty=2), _parent_seq=0), dict(_line(1, 11, qty=1), _parent_seq=1)]
    with warehouse.transaction():
        stats = warehouse.merge_entities(spec, {"orders": rows, "order_lines": lines},
                                         run_id="r")
    assert stats.repeated_in_run == 1
    assert warehouse.fetch("SELECT total FROM orders") == [(Decimal("2"),)]
    assert warehouse.fetch("SELECT quantity FROM order_lines") == [(2,)]


def test_report_window_is_replaced_not_appended(warehouse: DuckDBWarehouse) -> None:
    spec = get_table("inventory_levels")
    day = dt.date(2026, 10, 20)

    def level(sku: str, on_hand: int) -> dict:
        return {"source": "fake", "account_id": "acct", "snapshot_date": day,
                "product_key": sku, "sku": sku, "location_id": "1", "on_hand": on_hand,
                "available": on_hand, "currency": "SEK"}

    for qty in (5, 7):
        with warehouse.transaction():
            warehouse.replace_report(spec, [level("A", qty), level("B", qty)], source="fake",
                                     account_id="acct", dates=(day, day))
    assert warehouse.fetch("SELECT sku, on_hand FROM inventory_levels ORDER BY sku") == [
        ("A", 7), ("B", 7)]


def test_a_failed_transaction_leaves_nothing(warehouse: DuckDBWarehouse) -> None:
    spec = get_table("orders")
    with pytest.raises(RuntimeError), warehouse.transaction():
        warehouse.merge_entities(spec, {"orders": [order_row(1, T0, Decimal("1"))]}, run_id="r")
        raise RuntimeError("crash before commit")
    assert warehouse.fetch("SELECT count(*) FROM orders") == [(0,)]


def test_read_only_connection_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "ro.duckdb"
    DuckDBWarehouse(path).close()
    reader = connect(f"duckdb://{path}", read_only=True)
    assert reader.fetch("SELECT count(*) FROM orders") == [(0,)]
    with pytest.raises(Exception, match="read-only"):
        reader.fetch("INSERT INTO _erasures VALUES ('x', now(), NULL)")
    reader.close()


def test_second_writer_process_gets_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "busy.duckdb"
    holder = DuckDBWarehouse(path)
    code = ("from ondigital_connect.warehouse import DuckDBWarehouse as W\n"
            f"W({str(path)!r})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=False)
    holder.close()
    assert out.returncode != 0
    assert WarehouseUnavailable.__name__ in out.stderr and "cannot open" in out.stderr


def test_connect_rejects_unknown_urls() -> None:
    with pytest.raises(ConfigError, match="expected duckdb"):
        connect("postgres://x")


def test_arrow_conversion_keeps_values_of_rows_with_different_keys() -> None:
    from ondigital_connect.warehouse.arrow import to_arrow

    spec = get_table("orders")
    a = order_row(1, T0, Decimal("1.50"))
    b = dict(order_row(2, T0, Decimal("2.50")), cancelled_at=T0, market="NO")
    c = dict(order_row(3, T0, Decimal("3.50")), market="SE")
    table = to_arrow(spec, [a, b, c], _run_id="r").to_pydict()
    assert table["market"] == [None, "NO", "SE"]
    assert table["cancelled_at"] == [None, T0, None]
    assert table["total"] == [Decimal("1.5"), Decimal("2.5"), Decimal("3.5")]
    same = to_arrow(spec, [c, dict(c, order_key="k2")], _run_id="r").to_pydict()
    assert same["order_key"] == ["fake:acct:3", "k2"]
    assert same["_run_id"] == ["r", "r"]
    assert same["cancelled_at"] == [None, None]


def test_composite_keys_merge_with_the_version_guard(warehouse: DuckDBWarehouse) -> None:
    spec = get_table("ad_entities")

    def row(entity: str, name: str, hours: int) -> dict:
        return {"source": "meta", "account_id": "a", "level": "campaign", "entity_id": entity,
                "name": name, "updated_at": T0 + dt.timedelta(hours=hours)}

    with warehouse.transaction():
        warehouse.merge_entities(spec, {"ad_entities": [row("1", "x", 1), row("2", "y", 1)]},
                                 run_id="r1")
    with warehouse.transaction():
        stats = warehouse.merge_entities(
            spec, {"ad_entities": [row("1", "x2", 2), row("2", "older", 0)]}, run_id="r2")
    assert (stats.written, stats.stale) == (1, 1)
    assert warehouse.fetch("SELECT entity_id, name FROM ad_entities ORDER BY 1") == [
        ("1", "x2"), ("2", "y")]


def test_a_failed_rollback_does_not_hide_the_error_that_ended_the_transaction(
    warehouse: DuckDBWarehouse,
) -> None:
    # not DuckDB's "connection closed" from the rollback
    with pytest.raises(ValueError, match="boom"), warehouse.transaction():
        warehouse._con.close()
        raise ValueError("boom")
    with pytest.raises(WarehouseError, match="duckdb: "):  # later use: our error, not DuckDB's
        warehouse.fetch("SELECT 1")
