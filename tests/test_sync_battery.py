"""The sync failure battery on the engine, each case with a twin that injects the defect.

Every test runs twice: ``sound`` must satisfy the invariant, ``defect`` breaks the mechanism
that protects it and must make the same check fail, so the check is known to have teeth.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from pathlib import Path

import pytest

from ondigital_connect.errors import SyncAlreadyRunning
from ondigital_connect.models.canonical import SyncState
from ondigital_connect.sync import SyncEngine
from ondigital_connect.sync import engine as engine_module
from ondigital_connect.warehouse import DuckDBWarehouse
from tests.conftest import NOW
from tests.defects import SOUND_OR_DEFECT, expect, keep_all_versions, no_version_guard
from tests.fakes import T0, ListSource, record


def snapshot(wh: DuckDBWarehouse) -> list[tuple]:
    return wh.fetch(
        "SELECT o.order_key, o.updated_at, o.total, count(l.line_key) FROM orders o "
        "LEFT JOIN order_lines l USING (order_key) GROUP BY ALL ORDER BY 1")


def no_duplicates(wh: DuckDBWarehouse) -> None:
    for table, key in (("orders", "order_key"), ("order_lines", "line_key")):
        total, distinct = wh.fetch(f"SELECT count(*), count(DISTINCT {key}) FROM {table}")[0]
        assert total == distinct, f"{table}: {total} rows for {distinct} keys"


def state_of(wh: DuckDBWarehouse) -> SyncState | None:
    return wh.get_state("fake", "acct", "orders")




@SOUND_OR_DEFECT
def test_idempotent_rerun(defect: bool, engine: SyncEngine, warehouse: DuckDBWarehouse,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:
        keep_all_versions(monkeypatch)
    source = ListSource([record(i, hours=i) for i in range(12)])
    engine.run(source, "orders")
    first = snapshot(warehouse)
    engine.run(source, "orders", lookback=dt.timedelta(days=30))

    def check() -> None:
        assert snapshot(warehouse) == first
        no_duplicates(warehouse)
    expect(defect, check)


@SOUND_OR_DEFECT
def test_duplicates_across_pages(defect: bool, engine: SyncEngine, warehouse: DuckDBWarehouse,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:
        keep_all_versions(monkeypatch)
    records = [record(i, hours=i) for i in range(9)]
    records.insert(3, records[2])  # page 2 repeats the last record of page 1
    records.insert(7, records[6])
    run = engine.run(ListSource(records, sort=False), "orders")

    def check() -> None:
        no_duplicates(warehouse)
        assert (run.received, run.fetched, run.loaded, run.duplicates) == (11, 9, 9, 2)
        assert run.fetched == run.loaded + run.rejected
    expect(defect, check)


@SOUND_OR_DEFECT
def test_out_of_order_versions(defect: bool, engine: SyncEngine, warehouse: DuckDBWarehouse,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # no version guard: whatever arrives last wins
        no_version_guard(monkeypatch)
    engine.run(ListSource([record(1, hours=5, amount="50.00")]), "orders")
    stale = ListSource([record(1, hours=1, amount="99.00")])
    run = engine.run(stale, "orders", lookback=dt.timedelta(days=30))

    def check() -> None:
        assert [(r[2], r[1]) for r in snapshot(warehouse)] == [
            (50, T0 + dt.timedelta(hours=5))]
        assert run.stale == 1
    expect(defect, check)


class Crash(RuntimeError):
    """Injected failure."""


@SOUND_OR_DEFECT
def test_crash_between_load_and_state_commit(
    defect: bool, engine: SyncEngine, warehouse: DuckDBWarehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = ListSource([record(i, hours=i) for i in range(3)], page=10)
    engine.run(source, "orders")
    before, state_before = snapshot(warehouse), state_of(warehouse)
    source.records.append(record(7, hours=30))
    if defect:  # no transaction: the merge is committed even though the state write fails
        monkeypatch.setattr(DuckDBWarehouse, "transaction",
                            lambda self: contextlib.nullcontext())

    def crash(self: DuckDBWarehouse, state: SyncState) -> None:
        raise Crash("killed between load and state commit")
    with monkeypatch.context() as m:
        m.setattr(DuckDBWarehouse, "put_state", crash)
        with pytest.raises(Crash):
            engine.run(source, "orders")

    def check() -> None:
        assert snapshot(warehouse) == before
        assert state_of(warehouse) == state_before
    expect(defect, check)
    monkeypatch.undo()
    engine.run(source, "orders")
    assert len(snapshot(warehouse)) == 4


@SOUND_OR_DEFECT
def test_late_data_inside_lookback(defect: bool, engine: SyncEngine,
                                   warehouse: DuckDBWarehouse) -> None:
    source = ListSource([record(i, hours=i) for i in range(5)])
    engine.run(source, "orders")
    # The vendor commits a change stamped 1 h before our cursor, after our run read past it.
    source.records.append(record(99, hours=3, amount="7.00"))
    engine.run(source, "orders", lookback=dt.timedelta(0) if defect else None)
    expect(defect, lambda: assert_has(warehouse, "fake:acct:99"))


def assert_has(wh: DuckDBWarehouse, key: str) -> None:
    assert key in [r[0] for r in snapshot(wh)]


@SOUND_OR_DEFECT
def test_far_future_state_yields_nothing(defect: bool, engine: SyncEngine,
                                         warehouse: DuckDBWarehouse,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    future = dt.datetime(2999, 12, 31, tzinfo=dt.UTC)
    with warehouse.transaction():
        warehouse.put_state(SyncState(source="fake", account_id="acct", stream="orders",
                                      cursor=future, run_id="seed", updated_at=NOW))
    if defect:  # "repair" an impossible cursor by re-reading everything
        real = engine_module.plan_window
        monkeypatch.setattr(engine_module, "plan_window", lambda cursor, **kw: real(
            None if cursor and cursor > kw["now"] else cursor, **kw))
    source = ListSource([record(i, hours=i) for i in range(4)])
    run = engine.run(source, "orders")

    def check() -> None:
        assert run.received == 0
        assert snapshot(warehouse) == []
        assert state_of(warehouse).cursor == future
    expect(defect, check)


@SOUND_OR_DEFECT
def test_restart_from_every_intermediate_state(
    defect: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash after every batch in turn; each restart converges to the full, exact table."""
    if defect:  # state runs ahead of data: the cursor jumps to the window end per batch
        real = SyncEngine._save_cursor
        monkeypatch.setattr(SyncEngine, "_save_cursor", lambda self, src, spec, run, cursor:
                            real(self, src, spec, run, NOW))
    records = [record(i, hours=i * 6) for i in range(12)]  # 6 h apart > 2 h lookback
    reference = _sync_to(tmp_path / "ref", records, crash_at=None)
    results = []
    for crash_at in range(1, 4):
        results.append(_sync_to(tmp_path / f"c{crash_at}", records, crash_at=crash_at))

    def check() -> None:
        for result in results:
            assert result == reference
    expect(defect, check)


def _sync_to(folder: Path, records: list[dict], *, crash_at: int | None) -> list[tuple]:
    folder.mkdir()
    wh = DuckDBWarehouse(folder / "w.duckdb")
    engine = SyncEngine(wh, tenant="t", lock_dir=folder / "locks", clock=lambda: NOW)

    def hook(n: int) -> None:
        if n == crash_at:
            raise Crash(f"crash before batch {n}")
    if crash_at is not None:
        with pytest.raises(Crash):
            engine.run(ListSource(records, hook=hook), "orders")
        cursors = [state_of(wh).cursor]
        engine.run(ListSource(records), "orders")
        assert state_of(wh).cursor >= cursors[0]
    else:
        engine.run(ListSource(records), "orders")
    no_duplicates(wh)
    result = snapshot(wh)
    wh.close()
    return result


@SOUND_OR_DEFECT
def test_concurrent_run_is_refused(defect: bool, engine: SyncEngine, warehouse: DuckDBWarehouse,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:
        monkeypatch.setattr(engine_module, "stream_lock",
                            lambda *a, **k: contextlib.nullcontext())
    paused, release = threading.Event(), threading.Event()

    def hold(n: int) -> None:
        if n == 1:
            paused.set()
            release.wait(10)
    first = ListSource([record(i, hours=i) for i in range(9)], hook=hold)
    first_errors: list[Exception] = []

    def first_run() -> None:
        try:
            engine.run(first, "orders")
        except Exception as exc:  # unlocked, the second run may break the first
            first_errors.append(exc)
    worker = threading.Thread(target=first_run)
    worker.start()
    assert paused.wait(10)
    errors: list[Exception] = []
    try:
        engine.run(ListSource([]), "orders")
    except Exception as exc:  # unlocked, the runs may collide in the warehouse
        errors.append(exc)
    finally:
        release.set()
        worker.join(10)

    def check() -> None:
        assert not first_errors
        assert len(errors) == 1
        assert isinstance(errors[0], SyncAlreadyRunning)
        assert "already being synced" in str(errors[0])
        assert len(snapshot(warehouse)) == 9
    expect(defect, check)


@SOUND_OR_DEFECT
def test_rejects_keep_the_record_and_balance_the_counts(
    defect: bool, engine: SyncEngine, warehouse: DuckDBWarehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if defect:  # rejects silently dropped
        monkeypatch.setattr(DuckDBWarehouse, "add_rejects", lambda self, rejects: None)
    records = [record(i, hours=i) for i in range(6)]
    records[2]["amount"] = "twelve"
    run = engine.run(ListSource(records), "orders")
    stored = warehouse.fetch("SELECT record_key, reason, raw_json FROM _rejects")

    def check() -> None:
        assert run.fetched == run.loaded + run.rejected == 6
        assert run.rejected == 1
        assert len(stored) == 1
        assert stored[0][0] == "fake:acct:2"
        assert "twelve" in stored[0][1]
        assert '"amount":"twelve"' in stored[0][2]
    expect(defect, check)


def test_run_log_records_failures_and_counts(engine: SyncEngine,
                                             warehouse: DuckDBWarehouse) -> None:
    def boom(n: int) -> None:
        if n == 2:
            raise Crash("vendor went away")
    with pytest.raises(Crash):
        engine.run(ListSource([record(i, hours=i * 6) for i in range(9)], hook=boom), "orders")
    status, loaded, error = warehouse.fetch("SELECT status, loaded, error FROM _sync_runs")[0]
    assert (status, loaded) == ("failed", 6)
    assert "vendor went away" in error
