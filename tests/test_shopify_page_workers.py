"""Order pages mapped in worker processes (``page_workers``) load exactly what one process does.

The same shop (with cut-off nested connections, a drifted field and a malformed order) is
synced twice: in one process, and with two spawned workers. Every row of every order table,
the rejects, the drift, the run counts and the state must be equal. A twin drops one worker
page and the comparison must fail. Pages alternate between workers and this process in one
test, so page order and ``_parent_seq`` offsets across both paths are checked too.
"""

from __future__ import annotations

import datetime as dt
import itertools
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ondigital_connect.errors import (
    MalformedResponse,
    RateLimited,
    RecordValidationError,
    RequestsExhausted,
    SourceAuthError,
    SourceUnavailable,
    SyncAlreadyRunning,
)
from ondigital_connect.models.columns import Columns
from ondigital_connect.models.tables import get_table
from ondigital_connect.sandbox import ShopifySandbox
from ondigital_connect.simulate import SimulatedBusiness
from ondigital_connect.sources.base import Window
from ondigital_connect.sources.shopify import ShopifySettings, ShopifySource
from ondigital_connect.sources.shopify import workers as workers_module
from ondigital_connect.sources.shopify.graphql import CostExceeded
from ondigital_connect.sources.shopify.workers import PageWorkers
from ondigital_connect.sync import SyncEngine
from ondigital_connect.warehouse import DuckDBWarehouse
from ondigital_connect.warehouse.merge import PARENT_SEQ, dedupe_batch

TOKEN = "shpat_workers_secret"  # noqa: S105 - the sandbox's token
KEY = b"workers-key"
TABLES = (("orders", "order_key"), ("order_lines", "line_key"), ("refunds", "refund_key"),
          ("refund_lines", "refund_line_key"))
STAMPS = ("_synced_at", "_run_id")


@pytest.fixture(scope="module")
def business() -> SimulatedBusiness:
    return SimulatedBusiness(seed=5, orders=160, lines_per_order=3, start=dt.date(2026, 9, 1))


@pytest.fixture
def shop(business: SimulatedBusiness) -> Iterator[ShopifySandbox]:
    orders = list(business.orders(as_of=business.now))
    with ShopifySandbox(business, token=TOKEN, plan="unlimited", max_query_cost=None) as s:
        s.as_of = business.now
        s.overrides.patch(orders[10].order_id, {"giftMessage": "hi"})  # drift
        s.overrides.patch(orders[40].order_id, {  # a malformed order: rejected
            "totalPriceSet": {"shopMoney": {"amount": "abc", "currencyCode": "SEK"}}})
        yield s


def sync(shop: ShopifySandbox, business: SimulatedBusiness, folder: Path,
         workers: int) -> tuple[dict[str, Any], ShopifySource]:
    """One first sync into a fresh file; every row (without load stamps) and the run.

    Two pages start with the previous page's last order, once inside a batch and once at a
    batch's edge: the repeat is dropped by ``_parent_seq``, with its children.
    """
    shop.faults.add("duplicate_across_pages", after=3, times=2, match="orders")
    source = ShopifySource(ShopifySettings(
        shop=business.shop_domain, token=TOKEN, base_url=shop.url, orders_page_size=15,
        line_items_page_size=2, refunds_page_size=1, page_workers=workers,
        page_workers_after=0), pseudonym_key=KEY)
    warehouse = DuckDBWarehouse(folder / f"w{workers}.duckdb")
    try:
        engine = SyncEngine(warehouse, tenant="t", lock_dir=folder / "locks",
                            clock=lambda: business.now)
        run = engine.run(source, "orders", batch_size=40)
        out: dict[str, Any] = {"run": (run.status, run.received, run.fetched, run.loaded,
                                       run.rejected, run.duplicates)}
        for table, key in TABLES:
            names = [c.name for c in get_table(table).columns if c.name not in STAMPS]
            out[table] = warehouse.fetch(f"SELECT {', '.join(names)} FROM {table} ORDER BY {key}")
        out["rejects"] = warehouse.fetch("SELECT record_key, reason, raw_json FROM _rejects "
                                         "ORDER BY record_key")
        out["drift"] = warehouse.fetch("SELECT field_path, example FROM _schema_drift")
        out["state"] = warehouse.fetch("SELECT cursor FROM _sync_state")
    finally:
        warehouse.close()
        source.close()
    return out, source


def _wait_for_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page from the second on goes to a worker: ``ready`` waits for them to start."""
    monkeypatch.setattr(PageWorkers, "ready", property(
        lambda self: bool(self._warm) and self._warm[0].result() is None))


def test_workers_load_exactly_what_one_process_loads(
    shop: ShopifySandbox, business: SimulatedBusiness, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone, _ = sync(shop, business, tmp_path, workers=0)
    _wait_for_workers(monkeypatch)
    together, source = sync(shop, business, tmp_path, workers=2)
    pages = -(-alone["run"][1] // 15)
    assert source.pages_in_workers == pages - 1  # every page but the first (see start)
    assert alone["run"][4:] == (1, 2) and len(alone["rejects"]) == 1
    assert alone["drift"] == [("giftMessage", "hi")]
    assert len(alone["order_lines"]) > 2 * len(alone["orders"])  # lines followed up
    assert alone["refunds"], "refunds re-read"
    assert together == alone


def test_pages_alternating_between_workers_and_here_keep_order_and_children(
    shop: ShopifySandbox, business: SimulatedBusiness, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone, _ = sync(shop, business, tmp_path, workers=0)
    turns = itertools.cycle([True, False])
    monkeypatch.setattr(PageWorkers, "ready", property(
        lambda self: bool(self._warm) and self._warm[0].result() is None and next(turns)))
    together, source = sync(shop, business, tmp_path, workers=1)
    assert 0 < source.pages_in_workers < -(-alone["run"][1] // 15)
    assert together == alone


def test_a_lost_worker_page_is_caught(
    shop: ShopifySandbox, business: SimulatedBusiness, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twin: one page's rows dropped on the way back; the comparison above must fail."""
    alone, _ = sync(shop, business, tmp_path, workers=0)
    _wait_for_workers(monkeypatch)
    real = workers_module.ArrowBatch.add
    calls = itertools.count()

    def lossy(self: workers_module.ArrowBatch, page: Any, rejects: Any) -> None:
        if next(calls) == 3:
            page = workers_module.DecodedPage(
                {name: table.slice(0, 0) for name, table in page.tables.items()},
                page.received, page.cursor, page.drift)
        real(self, page, rejects)

    monkeypatch.setattr(workers_module.ArrowBatch, "add", lossy)
    together, _ = sync(shop, business, tmp_path, workers=2)
    assert together["orders"] != alone["orders"]


def test_arrow_rows_dedupe_like_columns() -> None:
    """A key twice in an Arrow batch keeps the newer version and only its children."""
    root = get_table("orders")
    old, new = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    orders = Columns({"order_key": ["a", "b", "a"], "updated_at": [new, old, old]})
    lines = Columns({"line_key": ["a1", "b1", "a1-old"], "order_key": ["a", "b", "a"],
                     PARENT_SEQ: [0, 1, 2]})
    as_columns, dropped = dedupe_batch(root, {"orders": orders, "order_lines": lines})
    arrow = {
        "orders": pa.table({"order_key": orders.column("order_key"),
                            "updated_at": orders.column("updated_at")}),
        "order_lines": pa.table({"line_key": lines.column("line_key"),
                                 "order_key": lines.column("order_key"),
                                 PARENT_SEQ: pa.array([0, 1, 2], pa.int64())}),
    }
    as_arrow, dropped_arrow = dedupe_batch(root, arrow)
    assert dropped == dropped_arrow == 1
    assert as_arrow["orders"].column("order_key").to_pylist() == ["a", "b"]
    assert as_arrow["order_lines"].column("line_key").to_pylist() == ["a1", "b1"]
    assert [r["line_key"] for r in as_columns["order_lines"]] == ["a1", "b1"]


def test_errors_travel_back_from_a_worker_as_themselves(
    shop: ShopifySandbox, business: SimulatedBusiness, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker's follow-up query gets 401: the sync fails with SourceAuthError, at once."""
    _wait_for_workers(monkeypatch)
    shop.faults.add("auth_401", match="order")  # the first line-item follow-up
    with pytest.raises(SourceAuthError, match="^shopify: .*token"):
        sync(shop, business, tmp_path, workers=1)
    assert [r.status for r in shop.requests].count(401) == 1


@pytest.mark.parametrize("error", [
    SourceAuthError("shopify", "token expired", stream="orders"),
    RateLimited("shopify", "throttled", retry_after=2.5),
    SourceUnavailable("shopify", "503"),
    MalformedResponse("shopify", "truncated JSON"),
    RecordValidationError("quantity is not an integer", key="shopify|s|1"),
    RequestsExhausted("plan allows 60 a minute", retry_after=12.0),
    CostExceeded("too costly", cost=1200.0, max_cost=1000.0),
    SyncAlreadyRunning("t/shopify/s/orders is already being synced"),
])
def test_every_error_pickles_with_its_message_and_attributes(error: Exception) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error) and back.args == error.args
    assert vars(back) == vars(error)


def test_workers_that_cannot_start_leave_the_sync_to_this_process(
    shop: ShopifySandbox, business: SimulatedBusiness, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    alone, _ = sync(shop, business, tmp_path, workers=0)
    monkeypatch.setattr(workers_module, "_noop", _cannot_start)
    real_ready = PageWorkers.ready.fget
    assert real_ready is not None

    def settled(self: PageWorkers) -> bool:  # wait for the failed start, then ask as usual
        for w in self._warm:
            w.exception()
        return real_ready(self)

    monkeypatch.setattr(PageWorkers, "ready", property(settled))
    together, source = sync(shop, business, tmp_path, workers=2)
    assert source.pages_in_workers == 0
    assert together == alone
    assert "page workers could not start" in caplog.text


def _cannot_start() -> None:
    raise RuntimeError("no worker today")


def test_workers_start_only_once_a_read_passes_page_workers_after(
    shop: ShopifySandbox, business: SimulatedBusiness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[int] = []
    monkeypatch.setattr(PageWorkers, "start", lambda self: started.append(self.count))
    window = Window(None, business.now)
    total = len(list(business.orders(as_of=business.now)))
    pages = -(-total // 50)
    assert pages >= 3

    def read(page_size: int, **settings: Any) -> list[int]:
        started.clear()
        source = ShopifySource(ShopifySettings(
            shop=business.shop_domain, token=TOKEN, base_url=shop.url,
            orders_page_size=page_size, page_workers=2, **settings), pseudonym_key=KEY)
        got = sum(b.received for b in source.read("orders", window, batch_size=1000))
        source.close()
        assert got == total
        return list(started)

    assert read(250, page_workers_after=0) == []  # one page: never worth it
    assert read(100, page_workers_after=0) == [2]  # started at the second page
    assert read(50) == []  # the default (10,000 orders) is not reached
    # after (pages - 1) full pages the last page goes to the workers; one order more and none
    assert read(50, page_workers_after=(pages - 1) * 50) == [2]
    assert read(50, page_workers_after=(pages - 1) * 50 + 1) == []
