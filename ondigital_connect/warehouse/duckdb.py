"""DuckDBWarehouse: the embedded default warehouse, one file per tenant."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from ondigital_connect.errors import ConfigError, WarehouseError, WarehouseUnavailable
from ondigital_connect.models.canonical import RejectedRecord, SchemaDrift, SyncRun, SyncState
from ondigital_connect.models.spec import TableSpec
from ondigital_connect.models.tables import TABLES, children_of, get_table
from ondigital_connect.warehouse.arrow import to_arrow
from ondigital_connect.warehouse.base import MergeStats, Rows
from ondigital_connect.warehouse.ddl import create_table, migration_plan, quote
from ondigital_connect.warehouse.merge import dedupe_batch

# Flags _classify adds to the staged root rows (not columns of any table).
_EXISTED, _REPEAT, _STALE, _WINS = "_odc_existed", "_odc_repeat", "_odc_stale", "_odc_wins"
_FLAGS = ", ".join((_EXISTED, _REPEAT, _STALE, _WINS))


class DuckDBWarehouse:
    """A tenant's DuckDB file: schema from specs, key-guarded merges, run log, rejects, state.

    Writers hold the file exclusively (DuckDB allows one writing process); readers open it
    with ``read_only=True``. Bulk loads go through Arrow, never row-by-row inserts.
    """

    dialect: ClassVar[str] = "duckdb"

    def __init__(
        self, path: str | Path = ":memory:", *, read_only: bool = False,
        memory_limit: str = "2GB", threads: int = 2, checkpoint_threshold: str = "256MB",
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        config = {"memory_limit": memory_limit, "threads": threads}
        try:
            self._con = duckdb.connect(self.path, read_only=read_only, config=config)
        except duckdb.IOException as exc:
            raise WarehouseUnavailable(
                f"cannot open {self.path}: {str(exc).splitlines()[0]}"
            ) from exc
        # Dates derived in SQL must not depend on the machine's zone: sessions run in UTC.
        self._con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            # Fewer checkpoints while loading: each one rewrites table data (halves commit cost);
            # the WAL still makes every commit durable and is folded in at close.
            self._con.execute(f"SET checkpoint_threshold = '{_size(checkpoint_threshold)}'")
        self._in_txn = False
        if not read_only:
            self.ensure_schema()

    # -- schema ---------------------------------------------------------------------------
    def ensure_schema(self, specs: Sequence[TableSpec] | None = None) -> list[str]:
        """Create missing tables and add new nullable columns; returns the statements run."""
        done: list[str] = []
        existing = self._existing_columns()
        for spec in specs or TABLES.values():
            if spec.name not in existing:
                self._run(create_table(spec))
                done.append(f"created {spec.name}")
                continue
            for stmt in migration_plan(spec, existing[spec.name]):
                self._run(stmt)
                done.append(stmt)
        return done

    def _existing_columns(self) -> dict[str, dict[str, str]]:
        rows = self.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main'"
        )
        out: dict[str, dict[str, str]] = {}
        for table, column, data_type in rows:
            out.setdefault(table, {})[column] = data_type
        return out

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One DuckDB transaction: all of it commits or none of it does."""
        if self._in_txn:
            raise WarehouseError("transactions do not nest")
        self._run("BEGIN TRANSACTION")
        self._in_txn = True
        try:
            yield
        except BaseException:
            self._in_txn = False
            with suppress(duckdb.Error):  # the transaction is void either way: keep the error
                self._con.execute("ROLLBACK")
            raise
        self._in_txn = False
        self._run("COMMIT")

    # -- writes ---------------------------------------------------------------------------
    def merge_entities(self, root: TableSpec, rows: dict[str, Rows], *, run_id: str) -> MergeStats:
        """Upsert root rows (an older ``version_column`` never overwrites a newer one) and
        replace the children of every root row that won."""
        if root.kind != "entity" or root.version_column is None:
            raise ConfigError(f"table {root.name!r} is not an entity table")
        offered = len(rows.get(root.name, []))
        if not offered:
            return MergeStats(0, 0, 0, 0)
        rows, in_batch_repeats = dedupe_batch(root, rows)
        now = dt.datetime.now(dt.UTC)
        stamp = {"_synced_at": now, "_run_id": run_id}
        self._register("_stage_root", to_arrow(root, rows[root.name], **stamp))
        try:
            repeated, stale, written, replaced = self._classify(root, run_id)
            self._replace_winners(root, replaced)
            for child in children_of(root.name):
                self._load_children(root, child, rows.get(child.name, []), stamp, replaced)
        finally:
            self._unregister("_stage_root")
        return MergeStats(offered, written, stale, in_batch_repeats + repeated)

    def _classify(self, root: TableSpec, run_id: str) -> tuple[int, int, int, int]:
        """Stage each offered row with what the table holds of it (one join): whether it was
        there, loaded by this run already, newer there (stale), and whether it wins.

        Returns (repeated in this run, stale, winners, winners that replace a stored row).
        """
        t, on, ver = quote(root.name), _join(root.primary_key), quote(root.version_column or "")
        first = quote(root.primary_key[0])
        self._run(
            f"CREATE OR REPLACE TEMP TABLE _offered AS SELECT s.*, "
            f"t.{first} IS NOT NULL AS {_EXISTED}, "
            f"(t.{first} IS NOT NULL AND t._run_id = ?) AS {_REPEAT}, "
            f"(t._run_id IS DISTINCT FROM ? AND t.{ver} > s.{ver}) AS {_STALE}, "
            f"(t.{first} IS NULL OR t.{ver} <= s.{ver}) AS {_WINS} "
            f"FROM _stage_root s LEFT JOIN {t} t ON {on}", [run_id, run_id],
        )
        ((repeated, stale, wins, replaced),) = self.fetch(
            f"SELECT count(*) FILTER (WHERE {_REPEAT}), count(*) FILTER (WHERE {_STALE}), "
            f"count(*) FILTER (WHERE {_WINS}), count(*) FILTER (WHERE {_WINS} AND {_EXISTED}) "
            f"FROM _offered"
        )
        return int(repeated), int(stale), int(wins), int(replaced)

    def _replace_winners(self, root: TableSpec, replaced: int) -> None:
        """Delete the stored versions the winners replace (if any), insert the winners."""
        t, keys = quote(root.name), ", ".join(quote(k) for k in root.primary_key)
        if replaced:
            self._run(f"DELETE FROM {t} WHERE ({keys}) IN (SELECT ({keys}) FROM _offered "
                      f"WHERE {_WINS} AND {_EXISTED})")
        self._run(f"INSERT INTO {t} BY NAME SELECT * EXCLUDE ({_FLAGS}) FROM _offered "
                  f"WHERE {_WINS}")

    def _load_children(
        self, root: TableSpec, child: TableSpec, rows: Rows, stamp: dict[str, Any],
        replaced: int,
    ) -> None:
        """Replace the children of the winners: a new parent has none stored to delete."""
        assert child.parent is not None
        if len(root.primary_key) != 1:
            raise ConfigError(f"{child.name}: parents with composite keys are not supported")
        c, fk, pk = quote(child.name), quote(child.parent[1]), quote(root.primary_key[0])
        if replaced:
            self._run(f"DELETE FROM {c} WHERE {fk} IN (SELECT {pk} FROM _offered "
                      f"WHERE {_WINS} AND {_EXISTED})")
        if not rows:
            return
        self._register("_stage_child", to_arrow(child, rows, **stamp))
        try:
            self._run(
                f"INSERT INTO {c} BY NAME SELECT * FROM _stage_child "
                f"WHERE {fk} IN (SELECT {pk} FROM _offered WHERE {_WINS})"
            )
        finally:
            self._unregister("_stage_child")

    def replace_report(
        self, spec: TableSpec, rows: Rows, *, source: str, account_id: str,
        dates: tuple[dt.date, dt.date] | None,
    ) -> int:
        """Replace a report window: delete (source, account, dates) then insert ``rows``."""
        if spec.kind != "report" or spec.window_column is None:
            raise ConfigError(f"table {spec.name!r} is not a report table")
        t, w = quote(spec.name), quote(spec.window_column)
        if dates is not None:
            self._run(
                f"DELETE FROM {t} WHERE source = ? AND account_id = ? AND {w} BETWEEN ? AND ?",
                [source, account_id, dates[0], dates[1]],
            )
        if rows:
            self._insert(spec, to_arrow(spec, rows, _synced_at=dt.datetime.now(dt.UTC)))
        return len(rows)

    def _insert(self, spec: TableSpec, table: pa.Table) -> None:
        self._register("_stage_insert", table)
        try:
            self._run(f"INSERT INTO {quote(spec.name)} BY NAME SELECT * FROM _stage_insert")
        finally:
            self._unregister("_stage_insert")

    # -- control tables -------------------------------------------------------------------
    def get_state(self, source: str, account_id: str, stream: str) -> SyncState | None:
        """The stored cursor of one stream."""
        rows = self._dicts(
            "SELECT * FROM _sync_state WHERE source = ? AND account_id = ? AND stream = ?",
            [source, account_id, stream],
        )
        return SyncState.model_validate(rows[0]) if rows else None

    def put_state(self, state: SyncState) -> None:
        """Replace one stream's cursor."""
        self._run(
            "DELETE FROM _sync_state WHERE source = ? AND account_id = ? AND stream = ?",
            [state.source, state.account_id, state.stream],
        )
        self._insert_models("_sync_state", [state])

    def save_run(self, run: SyncRun) -> None:
        """Insert or replace a run-log row."""
        self._run("DELETE FROM _sync_runs WHERE run_id = ?", [run.run_id])
        self._insert_models("_sync_runs", [run])

    def add_rejects(self, rejects: Sequence[RejectedRecord]) -> None:
        """Append rejected records."""
        self._insert_models("_rejects", rejects)

    def add_drift(self, events: Sequence[SchemaDrift]) -> None:
        """Record drift events whose (source, account, stream, field) is not known yet."""
        if not events:
            return
        self._register("_stage_drift", to_arrow(get_table("_schema_drift"), _dump(events)))
        try:
            self._run(
                "INSERT INTO _schema_drift BY NAME SELECT * FROM _stage_drift s WHERE NOT EXISTS "
                "(SELECT 1 FROM _schema_drift d WHERE d.source = s.source AND "
                "d.account_id = s.account_id AND d.stream = s.stream AND "
                "d.field_path = s.field_path)"
            )
        finally:
            self._unregister("_stage_drift")

    def _insert_models(self, table: str, models: Sequence[Any]) -> None:
        if models:
            spec = get_table(table)
            self._insert(spec, to_arrow(spec, _dump(models)))

    # -- reads ----------------------------------------------------------------------------
    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query with bound parameters and return all rows."""
        cursor = self._run(sql, list(params))
        with _warehouse_errors():
            return cursor.fetchall()

    def fetch_df(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a read query and return a pandas DataFrame."""
        cursor = self._run(sql, list(params))
        with _warehouse_errors():
            return cursor.df()

    def table_rows(self, table: str) -> Iterator[dict[str, Any]]:
        """Every row of a known table, as dicts."""
        spec = get_table(table)
        yield from self._dicts(f"SELECT * FROM {quote(spec.name)}", [])

    def _dicts(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cur = self._run(sql, params)
        names = [d[0] for d in cur.description or []]
        with _warehouse_errors():
            rows = cur.fetchall()
        return [dict(zip(names, row, strict=True)) for row in rows]

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._con.close()

    # -- plumbing -------------------------------------------------------------------------
    def _run(self, sql: str, params: list[Any] | None = None) -> duckdb.DuckDBPyConnection:
        with _warehouse_errors():
            return self._con.execute(sql, params or [])

    def _register(self, name: str, table: pa.Table) -> None:
        with _warehouse_errors():
            self._con.register(name, table)

    def _unregister(self, name: str) -> None:
        """Drop a staged view; a failure is ignored (the next register replaces it), so it
        never hides the error that ended the load."""
        with suppress(duckdb.Error):
            self._con.unregister(name)


@contextmanager
def _warehouse_errors() -> Iterator[None]:
    """DuckDB's errors as ``WarehouseError`` (first line of the message only)."""
    try:
        yield
    except duckdb.Error as exc:
        raise WarehouseError(f"duckdb: {str(exc).splitlines()[0]}") from exc


def _size(text: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]?i?B", text.strip(), re.IGNORECASE):
        raise ConfigError(f"not a size: {text!r}; expected e.g. '256MB'")
    return text.strip()


def _join(keys: Sequence[str]) -> str:
    return " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in keys)


def _dump(models: Sequence[Any]) -> list[dict[str, Any]]:
    return [m.model_dump(by_alias=True) for m in models]
