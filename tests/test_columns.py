"""Columns: rows held column by column, still readable as row dicts."""

from __future__ import annotations

import pytest

from ondigital_connect.models.columns import Columns
from ondigital_connect.models.tables import get_table
from ondigital_connect.warehouse.arrow import to_arrow
from ondigital_connect.warehouse.merge import PARENT_SEQ, dedupe_batch


def test_reads_as_rows_and_pads_missing_columns() -> None:
    cols = Columns({"a": [1, 2]})
    cols.extend({"a": [3], "b": ["x"]})
    assert len(cols) == 3
    assert list(cols) == [{"a": 1, "b": None}, {"a": 2, "b": None}, {"a": 3, "b": "x"}]
    assert cols[-1] == {"a": 3, "b": "x"} and cols[0:2] == list(cols)[0:2]
    cols.extend({"b": ["y"]})
    assert cols.column("a") == [1, 2, 3, None] and cols.column("zzz") == [None] * 4
    with pytest.raises(IndexError):
        cols[4]


def test_unequal_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="unequal"):
        Columns({"a": [1, 2], "b": [1]})


def test_from_rows_and_take_round_trip() -> None:
    rows = [{"a": 1}, {"a": 2, "b": 5}, {"b": 6}]
    cols = Columns.from_rows(rows)
    assert list(cols.take([2, 0])) == [{"a": None, "b": 6}, {"a": 1, "b": None}]


def test_to_arrow_gives_the_same_table_for_rows_and_columns() -> None:
    spec = get_table("order_lines")
    rows = [{"source": "s", "account_id": "a", "line_key": f"k{i}", "order_key": "o",
             "quantity": i} for i in range(3)]
    assert to_arrow(spec, Columns.from_rows(rows)).equals(to_arrow(spec, rows))


def test_dedupe_keeps_the_newest_version_and_its_children_only() -> None:
    root = get_table("orders")
    orders = Columns({"order_key": ["o1", "o2", "o1"], "updated_at": [1, 1, 2]})
    lines = Columns({"line_key": ["a", "b", "c"], "order_key": ["o1", "o2", "o1"],
                     PARENT_SEQ: [0, 1, 2]})
    out, dropped = dedupe_batch(root, {"orders": orders, "order_lines": lines})
    assert dropped == 1
    assert out["orders"].column("order_key") == ["o2", "o1"]
    assert out["order_lines"].column("line_key") == ["b", "c"]
