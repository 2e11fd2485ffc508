"""The sync engine: windows, batches, merges, rejects, run log and state that never runs ahead."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ondigital_connect.ahead import read_ahead
from ondigital_connect.errors import ConfigError, OnDigitalError
from ondigital_connect.gcpause import gc_paused
from ondigital_connect.models.canonical import RejectedRecord, SchemaDrift, SyncRun, SyncState
from ondigital_connect.models.tables import get_table
from ondigital_connect.sources.base import Batch, Source, StreamSpec, Window
from ondigital_connect.sync.lock import stream_lock
from ondigital_connect.sync.windows import plan_window
from ondigital_connect.warehouse.base import Warehouse

Clock = Callable[[], dt.datetime]
Progress = Callable[["SyncRun"], None]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class _Counts:
    received: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0
    stale: int = 0
    reject_seq: int = 0
    cursor: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SyncEngine:
    """Runs one stream of one source into one warehouse, safely.

    Entity streams commit each batch with its rejects, run counts and (for streams sorted
    by cursor) the new cursor in one transaction, so a crash loses at most the batch in
    flight and a rerun converges. Report streams replace their whole window in one
    transaction. A second concurrent run of the same stream is refused.
    """

    warehouse: Warehouse
    tenant: str = "default"
    lock_dir: Path = field(default_factory=lambda: Path(".odc/locks"))
    clock: Clock = utc_now
    progress: Progress | None = None
    #: Batches the source reads (fetches and maps) ahead while the warehouse loads; 0: in turn.
    read_ahead: int = 1

    def run(
        self, source: Source, stream: str, *, batch_size: int = 5000,
        lookback: dt.timedelta | None = None, start_at: dt.datetime | None = None,
    ) -> SyncRun:
        """Sync ``stream`` of ``source``; returns the finished run-log row."""
        spec = _stream_spec(source, stream)
        with stream_lock(self.lock_dir, self.tenant, source.name, source.account_id, stream):
            state = self.warehouse.get_state(source.name, source.account_id, stream)
            window = plan_window(
                state.cursor if state else None, now=self.clock(),
                lookback=spec.default_lookback if lookback is None else lookback,
                start_at=start_at,
            )
            run = self._start(source, stream, window)
            try:
                with gc_paused():  # batches are acyclic; full collections only cost time
                    counts = self._execute(source, spec, window, run, batch_size)
            except BaseException as exc:
                self._finish(run, _Counts(), status="failed", error=_describe(exc))
                raise
            return self._finish(run, counts, status="succeeded")

    def _execute(
        self, source: Source, spec: StreamSpec, window: Window, run: SyncRun, batch_size: int
    ) -> _Counts:
        if window.is_empty:
            return _Counts()
        batches = source.read(spec.name, window, batch_size=batch_size)
        if self.read_ahead:
            batches = read_ahead(batches, self.read_ahead, name=f"{source.name}-batches")
        try:
            return self._load(source, spec, window, run, batches)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # stop the source's threads now, not when collected
                close()

    def _load(self, source: Source, spec: StreamSpec, window: Window, run: SyncRun,
              batches: Iterator[Batch]) -> _Counts:
        counts = _Counts()
        if spec.kind == "report":
            with self.warehouse.transaction():
                self._load_report(source, spec, batches, run, counts)
                self._save_cursor(source, spec, run, window.end)
                self.warehouse.save_run(_progress(run, counts))
            return counts
        for batch in batches:
            with self.warehouse.transaction():
                self._load_entities(source, spec, batch, run, counts)
                if spec.sorted_by_cursor and counts.cursor is not None:
                    self._save_cursor(source, spec, run, min(counts.cursor, window.end))
                self.warehouse.save_run(_progress(run, counts))
            self._report(run, counts)
        if not spec.sorted_by_cursor and counts.cursor is not None:
            with self.warehouse.transaction():
                self._save_cursor(source, spec, run, min(counts.cursor, window.end))
        return counts

    def _load_entities(
        self, source: Source, spec: StreamSpec, batch: Batch, run: SyncRun, counts: _Counts
    ) -> None:
        root = get_table(spec.tables[0])
        stats = self.warehouse.merge_entities(root, batch.rows, run_id=run.run_id)
        counts.loaded += stats.offered - stats.repeated_in_run
        counts.duplicates += stats.repeated_in_run
        counts.stale += stats.stale
        self._record_extras(source, spec, batch, run, counts)

    def _load_report(
        self, source: Source, spec: StreamSpec, batches: Iterable[Batch], run: SyncRun,
        counts: _Counts,
    ) -> None:
        replaced: set[tuple[dt.date, dt.date]] = set()
        for batch in batches:
            for table in spec.tables:
                rows = batch.rows.get(table, [])
                dates = batch.report_dates if batch.report_dates not in replaced else None
                self.warehouse.replace_report(
                    get_table(table), rows, source=source.name, account_id=source.account_id,
                    dates=dates,
                )
            if batch.report_dates is not None:
                replaced.add(batch.report_dates)
            counts.loaded += len(batch.rows.get(spec.tables[0], []))
            self._record_extras(source, spec, batch, run, counts)
            self._report(run, counts)

    def _record_extras(
        self, source: Source, spec: StreamSpec, batch: Batch, run: SyncRun, counts: _Counts
    ) -> None:
        counts.received += batch.received
        if batch.cursor is not None and (counts.cursor is None or batch.cursor > counts.cursor):
            counts.cursor = batch.cursor
        now = self.clock()
        rejects = []
        for reject in batch.rejects:
            rejects.append(RejectedRecord(
                run_id=run.run_id, seq=counts.reject_seq, source=source.name,
                account_id=source.account_id, stream=spec.name, record_key=reject.key,
                reason=reject.reason, raw_json=_json(reject.raw), rejected_at=now,
            ))
            counts.reject_seq += 1
        counts.rejected += len(rejects)
        self.warehouse.add_rejects(rejects)
        self.warehouse.add_drift([
            SchemaDrift(source=source.name, account_id=source.account_id, stream=spec.name,
                        field_path=d.field_path, first_seen_at=now, run_id=run.run_id,
                        example=_json(d.example)[:200])
            for d in batch.drift
        ])

    def _save_cursor(
        self, source: Source, spec: StreamSpec, run: SyncRun, cursor: dt.datetime
    ) -> None:
        old = self.warehouse.get_state(source.name, source.account_id, spec.name)
        if old is not None and old.cursor is not None and old.cursor >= cursor:
            return
        self.warehouse.put_state(SyncState(
            source=source.name, account_id=source.account_id, stream=spec.name, cursor=cursor,
            run_id=run.run_id, updated_at=self.clock(),
        ))

    def _start(self, source: Source, stream: str, window: Window) -> SyncRun:
        run = SyncRun(
            run_id=uuid.uuid4().hex, tenant=self.tenant, source=source.name,
            account_id=source.account_id, stream=stream, status="running",
            started_at=self.clock(), window_start=window.start, window_end=window.end,
        )
        with self.warehouse.transaction():
            self.warehouse.save_run(run)
        return run

    def _finish(
        self, run: SyncRun, counts: _Counts, *, status: str, error: str | None = None
    ) -> SyncRun:
        # A failed run keeps the counts of the batches it did commit (they stay loaded).
        base = _progress(run, counts) if status == "succeeded" else self._last_committed(run)
        done = base.model_copy(update={
            "status": status, "finished_at": self.clock(), "error": error,
        })
        with self.warehouse.transaction():
            self.warehouse.save_run(done)
        self._report(done, counts)
        return done

    def _last_committed(self, run: SyncRun) -> SyncRun:
        rows = self.warehouse.fetch("SELECT * FROM _sync_runs WHERE run_id = ?", [run.run_id])
        if not rows:
            return run
        names = [c.name for c in get_table("_sync_runs").columns]
        return SyncRun.model_validate(dict(zip(names, rows[0], strict=True)))

    def _report(self, run: SyncRun, counts: _Counts) -> None:
        if self.progress is not None:
            self.progress(_progress(run, counts))


def _progress(run: SyncRun, counts: _Counts) -> SyncRun:
    return run.model_copy(update={
        "received": counts.received, "fetched": counts.loaded + counts.rejected,
        "loaded": counts.loaded, "rejected": counts.rejected,
        "duplicates": counts.duplicates, "stale": counts.stale,
    })


def _stream_spec(source: Source, stream: str) -> StreamSpec:
    try:
        return source.streams[stream]
    except KeyError:
        known = ", ".join(sorted(source.streams))
        raise ConfigError(f"{source.name} has no stream {stream!r}; streams: {known}") from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OnDigitalError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _json(value: object) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()
