"""Tenant warehouses for reading: opened per request, read-only, and closed right after.

A DuckDB file admits one writing process; a reader that kept it open would block the next
sync. So a request opens its tenant's file read-only only when the cache cannot answer, and
the cache is keyed by :func:`data_version`, which needs no connection at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from connector_service.errors import WarehouseNotServed
from ondigital_connect.errors import WarehouseError
from ondigital_connect.warehouse import DuckDBWarehouse, duckdb_path
from ondigital_connect.warehouse import data_version as _duckdb_version

__all__ = ["built_currency", "data_version", "reader"]


def data_version(url: str) -> str:
    """The tenant warehouse's data version (see ``ondigital_connect.warehouse.data_version``).

    Only DuckDB warehouses are served so far: another URL is a 501 that says so, not an
    internal error."""
    if not url.startswith("duckdb://"):
        raise WarehouseNotServed("this tenant's warehouse type is not served yet (DuckDB only)")
    return _duckdb_version(url)


@contextmanager
def reader(url: str) -> Iterator[DuckDBWarehouse]:
    """A read-only connection to the tenant's warehouse for the duration of one answer."""
    warehouse = DuckDBWarehouse(duckdb_path(url), read_only=True, memory_limit="1GB",
                                threads=1)
    try:
        yield warehouse
    finally:
        warehouse.close()


def built_currency(warehouse: DuckDBWarehouse) -> str | None:
    """The reporting currency of the last KPI build (None before the first): money fields are
    labelled with it, since that is the currency the numbers are in."""
    try:
        rows = warehouse.fetch("SELECT reporting_currency FROM _builds "
                               "ORDER BY built_at DESC LIMIT 1")
    except WarehouseError:  # no build yet
        return None
    return rows[0][0] if rows else None
