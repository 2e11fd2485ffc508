"""Warehouses: ``connect(url)`` returns the right implementation of the Warehouse protocol."""

from __future__ import annotations

import os

from ondigital_connect.errors import ConfigError, WarehouseUnavailable
from ondigital_connect.warehouse.base import MergeStats, Warehouse
from ondigital_connect.warehouse.duckdb import DuckDBWarehouse

__all__ = ["DuckDBWarehouse", "MergeStats", "Warehouse", "connect", "data_version",
           "duckdb_path"]


def duckdb_path(url: str) -> str:
    """The file path in ``duckdb:///abs/path.duckdb``, ``duckdb://rel.duckdb`` or ``duckdb://:memory:``."""
    scheme, sep, rest = url.partition("://")
    if scheme != "duckdb" or not sep or not rest:
        raise ConfigError(f"not a DuckDB URL: {url!r}; expected duckdb:///path/to/file.duckdb")
    return rest


def connect(url: str, *, read_only: bool = False) -> Warehouse:
    """Open the warehouse a URL names (DuckDB now; BigQuery arrives with its extra)."""
    scheme = url.partition("://")[0]
    if scheme == "duckdb":
        return DuckDBWarehouse(duckdb_path(url), read_only=read_only)
    raise ConfigError(f"unknown warehouse URL {url!r}; expected duckdb:///path.duckdb")


def data_version(url: str) -> str:
    """A token that changes whenever the warehouse's data may have changed (a cache key part).

    For a DuckDB file it is the modification time and size of the file and its WAL: cheap (two
    ``stat`` calls, no connection, so readers never hold the file while a sync wants to write)
    and never stale, since every committed write touches one of them.
    """
    path = duckdb_path(url)
    parts = []
    for name in (path, f"{path}.wal"):
        try:
            st = os.stat(name)
        except FileNotFoundError:
            if name == path:
                raise WarehouseUnavailable("the warehouse file does not exist yet") from None
            parts.append("-")
            continue
        parts.append(f"{st.st_mtime_ns}.{st.st_size}")
    return ":".join(parts)
