"""Rows (dicts keyed by column) -> Arrow tables typed by the table spec, for bulk loads."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import orjson
import pyarrow as pa

from ondigital_connect.models.columns import Columns
from ondigital_connect.models.spec import TableSpec

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DECIMAL(38,9)": pa.decimal128(38, 9),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "JSON": pa.string(),
}


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """The Arrow schema matching a table spec (JSON travels as text)."""
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.sql_type], c.nullable) for c in spec.columns])


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


def to_arrow(spec: TableSpec, rows: Sequence[dict[str, Any]] | Columns, **stamp: Any) -> pa.Table:
    """Build an Arrow table column by column (10x faster than row-wise conversion).

    ``rows`` are row dicts, ``Columns`` (taken as they are) or an Arrow table already typed
    by the spec (its stamp columns are set, columns the spec does not know are dropped).
    ``stamp`` sets a column to one value for every row (``_synced_at``, ``_run_id``).
    Missing keys become NULL; keys the spec does not know are ignored.
    """
    if isinstance(rows, pa.Table):
        return _restamped(spec, rows, stamp)
    n = len(rows)
    names = [c.name for c in spec.columns if c.name not in stamp]
    if isinstance(rows, Columns):
        columns = {name: rows.column(name) for name in names}
    else:
        columns = dict(zip(names, _transpose(list(rows), names), strict=True))
    for col in spec.columns:
        if col.name in stamp:
            columns[col.name] = [stamp[col.name]] * n
        elif col.sql_type == "JSON":
            columns[col.name] = [_json_text(v) for v in columns[col.name]]
    return pa.Table.from_pydict(columns, schema=arrow_schema(spec))


def _restamped(spec: TableSpec, table: pa.Table, stamp: dict[str, Any]) -> pa.Table:
    """``table`` in the spec's column order with the ``stamp`` columns set."""
    schema = arrow_schema(spec)
    missing = [f.name for f in schema if f.name not in stamp and f.name not in table.column_names]
    if missing:
        raise ValueError(f"{spec.name}: Arrow rows lack columns {', '.join(missing)}")
    arrays = [pa.repeat(pa.scalar(stamp[f.name], f.type), table.num_rows) if f.name in stamp
              else table.column(f.name) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _transpose(rows: list[dict[str, Any]], names: list[str]) -> list[Sequence[Any]]:
    """Rows -> columns in the order of ``names`` (a missing key is NULL).

    When every row has the same keys (the common case: one mapper builds them all), one
    C-level ``itemgetter`` pass does the work; otherwise each column is gathered with
    ``dict.get`` so that no value is ever dropped.
    """
    if not rows:
        return [[] for _ in names]
    keys = rows[0].keys()
    present = [name for name in names if name in keys]
    if len(present) > 1 and all(r.keys() == keys for r in rows):
        values = dict(zip(present, zip(*map(itemgetter(*present), rows), strict=True),
                          strict=True))
        nulls = [None] * len(rows)
        return [values.get(name, nulls) for name in names]
    return [[r.get(name) for r in rows] for name in names]
