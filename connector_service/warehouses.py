"""Tenant warehouses for reading: opened per request, read-only, and closed right after.

A DuckDB file admits one writing process; a reader that kept it open would block the next
sync. So a request opens its tenant's file read-only only when the cache cannot answer, and
the cache is keyed by :func:`data_version`, which needs no connection at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ondigital_connect.warehouse import DuckDBWarehouse, data_version, duckdb_path

__all__ = ["data_version", "reader"]


@contextmanager
def reader(url: str) -> Iterator[DuckDBWarehouse]:
    """A read-only connection to the tenant's warehouse for the duration of one answer."""
    warehouse = DuckDBWarehouse(duckdb_path(url), read_only=True, memory_limit="1GB",
                                threads=1)
    try:
        yield warehouse
    finally:
        warehouse.close()
