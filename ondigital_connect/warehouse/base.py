"""The Warehouse protocol both engines implement, and the small values it returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ondigital_connect.models.canonical import RejectedRecord, SchemaDrift, SyncRun, SyncState
from ondigital_connect.models.spec import TableSpec

Rows = Sequence[dict[str, Any]]  # row dicts, or Columns (the same rows by column)


@dataclass(frozen=True, slots=True)
class MergeStats:
    """What one entity merge did: distinct keys offered, written, skipped as stale or repeated."""

    offered: int
    written: int
    stale: int
    repeated_in_run: int


class Warehouse(Protocol):
    """What ``DuckDBWarehouse`` (and later ``BigQueryWarehouse``) provide; callers see no driver.

    The sync engine opens one ``transaction()`` per batch (entity streams) or per window
    (report streams) and writes data, rejects, run counts and state inside it, so state
    never runs ahead of data.
    """

    dialect: ClassVar[str]

    def ensure_schema(self, specs: Sequence[TableSpec] | None = None) -> list[str]:
        """Create missing tables and add missing nullable columns; return what changed."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Commit everything done inside on success, roll it all back on an exception."""
        ...

    def merge_entities(self, root: TableSpec, rows: dict[str, Rows], *, run_id: str) -> MergeStats:
        """Upsert root rows by key (older version never wins) and replace their children."""
        ...

    def replace_report(
        self, spec: TableSpec, rows: Rows, *, source: str, account_id: str,
        dates: tuple[dt.date, dt.date] | None,
    ) -> int:
        """Delete the (source, account, date range) when ``dates`` is given, then insert rows."""
        ...

    def get_state(self, source: str, account_id: str, stream: str) -> SyncState | None:
        """The stored cursor of a stream, if any."""
        ...

    def put_state(self, state: SyncState) -> None:
        """Store a stream's cursor (inside the caller's transaction)."""
        ...

    def save_run(self, run: SyncRun) -> None:
        """Insert or update a run-log row."""
        ...

    def add_rejects(self, rejects: Sequence[RejectedRecord]) -> None:
        """Keep rejected raw records with their reasons."""
        ...

    def add_drift(self, events: Sequence[SchemaDrift]) -> None:
        """Record fields first seen now (already known ones are ignored)."""
        ...

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query with bound parameters."""
        ...

    def table_rows(self, table: str) -> Iterator[dict[str, Any]]:
        """Every row of a known table as dicts (for tests and small exports)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
