"""Warehouses: ``connect(url)`` returns the right implementation of the Warehouse protocol."""

from __future__ import annotations

from ondigital_connect.errors import ConfigError
from ondigital_connect.warehouse.base import MergeStats, Warehouse
from ondigital_connect.warehouse.duckdb import DuckDBWarehouse

__all__ = ["DuckDBWarehouse", "MergeStats", "Warehouse", "connect", "duckdb_path"]


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
