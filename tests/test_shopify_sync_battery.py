"""The sync failure battery through the real stack: simulator -> loopback Shopify sandbox ->
ShopifySource over HTTP -> SyncEngine -> DuckDB in tmp_path.

Like ``test_sync_battery.py``, most cases run twice: ``sound`` must satisfy the invariant and
``defect`` monkeypatches the protecting mechanism away, so the same check must fail. A
converged run means: ``orders`` equals the business at the sandbox's ``as_of`` (same keys, no
key twice, updated_at/total/total_refunded as simulated), ``order_lines``/``refunds`` keys
unique and matching, ``_sync_runs`` has ``fetched == loaded + rejected`` and the cursor is not
past the window end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ondigital_connect import http as http_module
from ondigital_connect.errors import (
    MalformedResponse,
    Retryable,
    SourceAuthError,
    SourceError,
    SourceUnavailable,
    SyncAlreadyRunning,
)
from ondigital_connect.http import RetryPolicy
from ondigital_connect.models.canonical import SyncRun, SyncState, make_key
from ondigital_connect.sandbox import ShopifySandbox
from ondigital_connect.simulate import SimOrder, SimRefund, SimulatedBusiness
from ondigital_connect.sources.shopify import ShopifySettings, ShopifySource
from ondigital_connect.sources.shopify import graphql as graphql_module
from ondigital_connect.sources.shopify import mapping as mapping_module
from ondigital_connect.sources.shopify import payloads as payloads_module
from ondigital_connect.sync import SyncEngine
from ondigital_connect.sync import engine as engine_module
from ondigital_connect.warehouse import DuckDBWarehouse
from ondigital_connect.warehouse.merge import PARENT_SEQ
from tests.defects import SOUND_OR_DEFECT, expect, keep_all_versions, no_version_guard

KEY = b"battery-key"
TOKEN = "shpat_battery_secret_7f3a9c"  # noqa: S105 - the sandbox's token, checked for leaks
TENANT = "t1"
STREAM = "orders"
ZONE = ZoneInfo("Europe/Stockholm")
ENTITY_TABLES = (("orders", "order_key"), ("order_lines", "line_key"),
                 ("refunds", "refund_key"), ("refund_lines", "refund_line_key"))




def attempt(call: Callable[[], Any]) -> BaseException | None:
    """The exception ``call`` raised, or None."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the caller asserts on it
        return exc
    return None


# -- the rig ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def business() -> SimulatedBusiness:
    """200 orders over 7 weeks: all four currencies, late refunds, orders near midnight."""
    return SimulatedBusiness(seed=11, orders=200, lines_per_order=2, start=dt.date(2026, 10, 1))


@dataclass
class Rig:
    """One sandbox, one warehouse file and a settable clock shared by sandbox and engine."""

    business: SimulatedBusiness
    sandbox: ShopifySandbox
    warehouse: DuckDBWarehouse
    folder: Path
    now: dt.datetime
    sleeps: list[float] = field(default_factory=list)
    sources: list[ShopifySource] = field(default_factory=list)

    @property
    def shop(self) -> str:
        return self.business.shop_domain

    def at(self, when: dt.datetime) -> None:
        """Move the shop (``as_of``) and the engine's clock to ``when``."""
        self.sandbox.as_of = when
        self.now = when

    def engine(self, warehouse: DuckDBWarehouse | None = None,
               progress: Callable[[SyncRun], None] | None = None) -> SyncEngine:
        return SyncEngine(warehouse or self.warehouse, tenant=TENANT,
                          lock_dir=self.folder / "locks", clock=lambda: self.now,
                          progress=progress)

    def source(self, *, retry: RetryPolicy | None = None, **settings: Any) -> ShopifySource:
        settings = {"orders_page_size": 20, **settings}
        source = ShopifySource(
            ShopifySettings(shop=self.shop, token=self.sandbox.token, base_url=self.sandbox.url,
                            **settings),
            pseudonym_key=KEY,
            retry=retry or RetryPolicy(jitter=0.0, sleeper=self.sleeps.append))
        self.sources.append(source)
        return source

    def sync(self, source: ShopifySource | None = None, *, engine: SyncEngine | None = None,
             batch_size: int = 100) -> SyncRun:
        """One run; pages of 20 orders, engine batches of about 100 (five pages)."""
        return (engine or self.engine()).run(source or self.source(), STREAM,
                                             batch_size=batch_size)

    def key(self, vendor_id: int) -> str:
        return make_key("shopify", self.shop, vendor_id)

    def state(self) -> SyncState | None:
        return self.warehouse.get_state("shopify", self.shop, STREAM)

    def orders_at_as_of(self) -> list[SimOrder]:
        return list(self.business.orders(as_of=self.now))


@contextlib.contextmanager
def open_rig(business: SimulatedBusiness, folder: Path, **sandbox: Any) -> Iterator[Rig]:
    options = {"plan": "unlimited", "max_query_cost": None, **sandbox}
    with ShopifySandbox(business, token=TOKEN, **options) as shop:
        warehouse = DuckDBWarehouse(folder / "tenant.duckdb")
        rig = Rig(business, shop, warehouse, folder, business.now)
        rig.at(business.now)
        try:
            yield rig
        finally:
            for source in rig.sources:
                source.close()
            warehouse.close()
    assert shop.server_errors == []


@pytest.fixture
def rig(business: SimulatedBusiness, tmp_path: Path) -> Iterator[Rig]:
    with open_rig(business, tmp_path) as r:
        yield r


# -- checks ----------------------------------------------------------------------------------


def assert_converged(rig: Rig, *, exclude: frozenset[int] = frozenset()) -> None:
    """The warehouse holds exactly the business at ``rig.now`` (minus ``exclude`` order ids)."""
    wh = rig.warehouse
    expected = {rig.key(o.order_id): o for o in rig.orders_at_as_of()
                if o.order_id not in exclude}
    rows = wh.fetch("SELECT order_key, updated_at, total, total_refunded FROM orders")
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys)), "orders: a key was loaded twice"
    assert set(keys) == set(expected), "orders: key set differs from the business"
    for key, updated_at, total, refunded in rows:
        o = expected[key]
        assert (updated_at, total, refunded) == (o.updated_at, o.total_shop, o.refunded_shop), key
    children = {
        "order_lines": ("line_key", {rig.key(ln.line_id) for o in expected.values()
                                     for ln in o.lines}),
        "refunds": ("refund_key", {rig.key(r.refund_id) for o in expected.values()
                                   for r in o.refunds}),
    }
    for table, (column, want) in children.items():
        got = [r[0] for r in wh.fetch(f"SELECT {column} FROM {table}")]
        assert len(got) == len(set(got)), f"{table}: a key was loaded twice"
        assert set(got) == want, f"{table}: key set differs from the business"
    runs = wh.fetch("SELECT fetched, loaded, rejected, window_end FROM _sync_runs "
                    "ORDER BY started_at, window_end")
    assert runs and all(f == loaded + rej for f, loaded, rej, _ in runs)
    state = rig.state()
    assert state is not None and state.cursor is not None
    assert state.cursor <= runs[-1][3] <= rig.now


def snapshot(wh: DuckDBWarehouse) -> dict[str, list[tuple]]:
    """Every row of the order tables (with load stamps) and of ``_sync_state``."""
    out = {table: wh.fetch(f"SELECT * FROM {table} ORDER BY {key}")
           for table, key in ENTITY_TABLES}
    out["_sync_state"] = wh.fetch("SELECT * FROM _sync_state ORDER BY stream")
    return out


def orders_requests(rig: Rig) -> list[tuple[int, str | None]]:
    """(status, fault) of every top-level ``Orders`` page request served."""
    return [(r.status, r.fault) for r in rig.sandbox.requests if r.operation == "Orders"]


def middle_order(rig: Rig) -> SimOrder:
    orders = rig.orders_at_as_of()
    return orders[len(orders) // 2]


def newest_order(rig: Rig) -> SimOrder:
    """The order changed last: the next run re-reads it inside its lookback."""
    return max(rig.orders_at_as_of(), key=lambda o: o.updated_at)


def first_sync_then_move_on(rig: Rig, days: int = 10) -> None:
    """Sync the shop as it was ``days`` ago, then move time to the business's now."""
    rig.at(rig.business.now - dt.timedelta(days=days))
    rig.sync()
    rig.at(rig.business.now)
    rig.sandbox.requests.clear()
    rig.sleeps.clear()


# -- 1. HTTP 429 with Retry-After ------------------------------------------------------------


@SOUND_OR_DEFECT
def test_429_retry_after_mid_pagination(defect: bool, rig: Rig,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # a policy that never reads Retry-After: plain exponential backoff
        monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, error: min(
            self.base_delay * 2 ** (attempt - 1), self.max_delay))
    rig.sandbox.faults.add("http_429", after=2, match="orders", retry_after=7.25)
    rig.sync()
    assert [f.kind for f in rig.sandbox.faults.fired] == ["http_429"]

    def check() -> None:
        assert_converged(rig)
        assert rig.sleeps == [7.25]
    expect(defect, check)


# -- 2. 5xx twice, then success ----------------------------------------------------------------


@SOUND_OR_DEFECT
@pytest.mark.parametrize("kind", ["http_500", "http_502", "http_503"])
def test_server_errors_twice_then_success(defect: bool, kind: str, rig: Rig) -> None:
    # defect: no retry at all (max_attempts=1)
    retry = RetryPolicy(max_attempts=1 if defect else 6, jitter=0.0, sleeper=rig.sleeps.append)
    rig.sandbox.faults.add(kind, after=3, times=2, match="orders")
    error = attempt(lambda: rig.sync(rig.source(retry=retry)))

    def check() -> None:
        assert error is None, error
        assert_converged(rig)
        assert rig.sleeps == [0.5, 1.0]
        assert [s for s, f in orders_requests(rig) if f] == [int(kind[-3:])] * 2
    expect(defect, check)
    if defect:
        assert isinstance(error, SourceUnavailable)


# -- 3. THROTTLED in a 200 body ------------------------------------------------------------------


@SOUND_OR_DEFECT
def test_throttled_body_waits_for_the_bucket_and_is_never_an_empty_page(
    defect: bool, business: SimulatedBusiness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if defect:  # a THROTTLED body read as "no data": an empty last page
        real = graphql_module.GraphQLClient._inspect

        def lenient(self: graphql_module.GraphQLClient, status: int, reply: Any) -> None:
            if "THROTTLED" in json.dumps(reply.payload.get("errors") or []):
                reply.payload.clear()
                reply.payload["data"] = {"orders": {
                    "nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
                return
            real(self, status, reply)
        monkeypatch.setattr(graphql_module.GraphQLClient, "_inspect", lenient)
    # A real bucket (plus: 20000 points, 1000/s) on a clock that races ahead, so only the
    # scripted fault throttles; its body reports 0 points available.
    clock = itertools.count(0.0, 1000.0).__next__
    with open_rig(business, tmp_path, plan="plus", clock=clock) as rig:
        bodies: list[dict] = []
        real_body = rig.sandbox._throttled_body

        def spy(*args: Any) -> dict:
            body = real_body(*args)
            bodies.append(body)
            return body
        rig.sandbox._throttled_body = spy  # type: ignore[method-assign]
        rig.sandbox.faults.add("throttled", after=2, match="orders", available=0)
        rig.sync()
        assert len(bodies) == 1
        cost = bodies[0]["extensions"]["cost"]
        status = cost["throttleStatus"]
        wait = (min(cost["requestedQueryCost"], status["maximumAvailable"])
                - status["currentlyAvailable"]) / status["restoreRate"]
        assert wait > 1.0  # not to be mistaken for the 0.5 s backoff

        def check() -> None:
            assert_converged(rig)
            assert rig.sleeps == [pytest.approx(wait)]
            assert orders_requests(rig).count((200, "throttled")) == 1
        expect(defect, check)


# -- 4. Malformed bodies -----------------------------------------------------------------------


class _FatalMalformed(SourceError):
    """Defect: a malformed body classified as permanent (not Retryable)."""


@SOUND_OR_DEFECT
@pytest.mark.parametrize("kind", ["truncated_json", "html_200"])
def test_transient_malformed_body_is_retried(defect: bool, kind: str, rig: Rig,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:
        monkeypatch.setattr(http_module, "MalformedResponse", _FatalMalformed)
    rig.sandbox.faults.add(kind, after=2, match="orders")
    error = attempt(rig.sync)

    def check() -> None:
        assert error is None, error
        assert_converged(rig)
        assert rig.sleeps == [0.5]
    expect(defect, check)


@pytest.mark.parametrize("kind", ["truncated_json", "html_200"])
def test_persistent_malformed_body_fails_without_touching_data_or_state(
    kind: str, rig: Rig,
) -> None:
    # No twin: the fault hits the run's first page, so no batch exists whose commit a defect
    # could leak; the retry classification itself has its twin above.
    first_sync_then_move_on(rig)
    before = snapshot(rig.warehouse)
    rig.sandbox.faults.add(kind, match="orders", times=100)
    with pytest.raises(MalformedResponse, match="shopify"):
        rig.sync()
    assert snapshot(rig.warehouse) == before
    assert orders_requests(rig) == [(200, kind)] * 6  # max_attempts, then give up
    assert rig.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    status, error = rig.warehouse.fetch(
        "SELECT status, error FROM _sync_runs ORDER BY started_at DESC, status LIMIT 1")[0]
    assert status == "failed" and "shopify" in error


# -- 5. Expired token --------------------------------------------------------------------------


class _RetriedAuth(SourceAuthError, Retryable):
    """Defect: an auth failure treated as transient."""


@SOUND_OR_DEFECT
@pytest.mark.parametrize("root", ["shop", "orders"])
def test_expired_token_stops_at_once_and_never_leaks(defect: bool, root: str, rig: Rig,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:
        monkeypatch.setattr(http_module, "SourceAuthError", _RetriedAuth)
    first_sync_then_move_on(rig)
    before = snapshot(rig.warehouse)
    rig.sandbox.faults.add("auth_401", match=root)  # the shop query or the first page
    error = attempt(rig.sync)
    served = [(r.root_fields, r.status) for r in rig.sandbox.requests]
    runs = rig.warehouse.fetch("SELECT status, error FROM _sync_runs ORDER BY started_at")
    everything = repr(rig.warehouse.fetch("SELECT * FROM _sync_runs"))

    def check() -> None:
        assert isinstance(error, SourceAuthError), error
        message = str(error)
        assert message.startswith("shopify:")
        assert "token" in message and "renew" in message and "scopes" in message
        assert served[-1] == ((root,), 401)  # the last request: no retry
        assert [status for _, status in served].count(401) == 1
        assert rig.sleeps == []
        assert snapshot(rig.warehouse) == before
        assert runs == [("succeeded", None), ("failed", message)]
        assert TOKEN not in message and TOKEN not in repr(error)
        assert TOKEN not in everything
    expect(defect, check)


# -- 6. The same order on two pages ---------------------------------------------------------




@SOUND_OR_DEFECT
def test_duplicates_across_pages(defect: bool, rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:
        keep_all_versions(monkeypatch)
    # Pages 5 and 6 each start with the previous page's last order. With five 20-order pages
    # per batch, page 5's repeat falls inside batch 1 and page 6's across batches 1 and 2.
    rig.sandbox.faults.add("duplicate_across_pages", after=4, times=2, match="orders")
    run = rig.sync(batch_size=100)
    assert len(rig.sandbox.faults.fired) == 2
    n = len(rig.orders_at_as_of())

    def check() -> None:
        assert_converged(rig)
        assert (run.received, run.fetched, run.loaded, run.duplicates) == (n + 2, n, n, 2)
    expect(defect, check)


# -- 7. An older version served after a newer one ------------------------------------------


@SOUND_OR_DEFECT
def test_out_of_order_version_never_wins(defect: bool, rig: Rig,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # no version guard: whatever arrives last wins
        no_version_guard(monkeypatch)
    rig.sync()
    newest = newest_order(rig)
    rig.sandbox.overrides.stale_version(newest.order_id, factor=Decimal("0.5"),
                                        updated_at=newest.updated_at - dt.timedelta(hours=1))
    run = rig.sync()
    assert run.received >= 1 and run.window_start is not None

    def check() -> None:
        assert_converged(rig)
        assert run.stale == 1
    expect(defect, check)


# -- 8. A late refund inside the lookback -------------------------------------------------------


def late_refund(business: SimulatedBusiness) -> tuple[SimOrder, SimRefund]:
    """An order and a refund made at least a day after it (and before the business's now)."""
    for o in business.orders():
        for r in o.refunds:
            if (r.created_at - o.created_at > dt.timedelta(days=1)
                    and r.created_at + dt.timedelta(hours=1) <= business.now):
                return o, r
    raise AssertionError("the business has no late refund")


REAL_LOAD_CHILDREN = DuckDBWarehouse._load_children


def append_children(self: DuckDBWarehouse, root: Any, child: Any, rows: list,
                    stamp: dict[str, Any], replaced: int) -> None:
    """Defect: children of a re-loaded order are appended, the old ones are never deleted."""
    REAL_LOAD_CHILDREN(self, root, child, rows, stamp, 0)


@SOUND_OR_DEFECT
def test_late_refund_is_picked_up_on_its_own_date(defect: bool, rig: Rig,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The suggested twin (lookback 0) has no teeth here: the sandbox stamps the refund's change
    # at the refund's time, which is after T1 and so after any cursor a T1 run can store, so
    # even a zero lookback reads it. The twin breaks "nothing duplicated" instead: children of
    # a re-read order appended rather than replaced.
    if defect:
        monkeypatch.setattr(DuckDBWarehouse, "_load_children", append_children)
    order, refund = late_refund(rig.business)
    rig.at(refund.created_at - dt.timedelta(hours=1))
    rig.sync()
    key = rig.key(order.order_id)
    assert rig.warehouse.fetch("SELECT count(*) FROM refunds WHERE refund_key = ?",
                               [rig.key(refund.refund_id)]) == [(0,)]
    rig.at(refund.created_at + dt.timedelta(hours=1))
    rig.sync()
    now = rig.business.order(order.index, as_of=rig.now)

    def check() -> None:
        assert_converged(rig)
        got = rig.warehouse.fetch(
            "SELECT r.refund_date, r.amount, o.updated_at, o.total_refunded, o.order_date "
            "FROM refunds r JOIN orders o USING (order_key) WHERE r.refund_key = ?",
            [rig.key(refund.refund_id)])
        local = refund.created_at.astimezone(ZONE).date()
        assert got == [(local, refund.total_shop, now.updated_at, now.refunded_shop,
                        order.created_at.astimezone(ZONE).date())]
        assert local != got[0][4]
        assert rig.warehouse.fetch("SELECT count(*) FROM order_lines WHERE order_key = ?",
                                   [key]) == [(len(order.lines),)]
    expect(defect, check)


# -- 9. Schema drift and wrong types ---------------------------------------------------------


@SOUND_OR_DEFECT
def test_unknown_field_is_kept_and_recorded_once(defect: bool, rig: Rig,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # drift silently dropped
        monkeypatch.setattr(DuckDBWarehouse, "add_drift", lambda self, events: None)
    target = newest_order(rig)
    rig.sandbox.overrides.patch(target.order_id, {"giftMessage": "hi"})
    run = rig.sync()
    rig.sync()  # seen again inside the lookback: still one drift row
    extra = rig.warehouse.fetch("SELECT extra FROM orders WHERE order_key = ?",
                                [rig.key(target.order_id)])
    drift = rig.warehouse.fetch("SELECT field_path, run_id, example FROM _schema_drift")

    def check() -> None:
        assert_converged(rig)
        assert run.rejected == 0
        assert len(extra) == 1 and json.loads(extra[0][0]) == {"giftMessage": "hi"}
        assert drift == [("giftMessage", run.run_id, "hi")]
    expect(defect, check)


def _zero_bad_amounts(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "amount" and isinstance(v, str):
                try:
                    Decimal(v)
                except InvalidOperation:
                    v = "0"
            out[k] = _zero_bad_amounts(v)
        return out
    if isinstance(value, list):
        return [_zero_bad_amounts(v) for v in value]
    return value


@SOUND_OR_DEFECT
def test_wrong_type_is_rejected_whole(defect: bool, rig: Rig,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # a lenient mapping: amounts that do not parse become 0
        real = payloads_module.Shape.validate_one
        monkeypatch.setattr(payloads_module.Shape, "validate_one", lambda self, node: (
            real(self, node) if not isinstance(real(self, node), str)
            else real(self, _zero_bad_amounts(node))))
    target = middle_order(rig)
    key = rig.key(target.order_id)
    rig.sandbox.overrides.patch(target.order_id, {
        "totalPriceSet": {"shopMoney": {"amount": "abc", "currencyCode": "SEK"}}})
    run = rig.sync()
    n = len(rig.orders_at_as_of())
    wh = rig.warehouse

    def check() -> None:
        assert_converged(rig, exclude=frozenset({target.order_id}))
        assert wh.fetch("SELECT count(*) FROM order_lines WHERE order_key = ?", [key]) == [(0,)]
        assert wh.fetch("SELECT count(*) FROM refunds WHERE order_key = ?", [key]) == [(0,)]
        rejects = wh.fetch("SELECT record_key, reason, raw_json, run_id FROM _rejects")
        assert len(rejects) == 1
        record_key, reason, raw, run_id = rejects[0]
        assert (record_key, run_id) == (key, run.run_id)
        assert "totalPriceSet.shopMoney.amount" in reason
        assert json.loads(raw)["totalPriceSet"]["shopMoney"]["amount"] == "abc"
        assert json.loads(raw)["id"] == f"gid://shopify/Order/{target.order_id}"
        assert (run.received, run.fetched, run.loaded, run.rejected) == (n, n, n - 1, 1)
    expect(defect, check)


# -- 10. A concurrent run of the same stream --------------------------------------------------


@SOUND_OR_DEFECT
def test_concurrent_run_is_refused_while_the_first_is_paused(
    defect: bool, rig: Rig, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if defect:
        monkeypatch.setattr(engine_module, "stream_lock",
                            lambda *a, **k: contextlib.nullcontext())
    # The first run is held inside the sandbox while it renders the first page (no
    # transaction open yet): an override that waits for the test instead of a timed ``slow``
    # fault, so the pause cannot end before the intruder has tried.
    paused, release = threading.Event(), threading.Event()

    def hold(node: dict) -> None:
        paused.set()
        release.wait(10)
    oldest = min(rig.orders_at_as_of(), key=lambda o: o.updated_at)  # on the first page
    rig.sandbox.overrides.patch(oldest.order_id, hold, times=1)
    # The intruder is another writer of the same tenant/stream with its own connection (a
    # second process would be); one DuckDB connection is not shared between threads.
    intruder_wh = DuckDBWarehouse(rig.folder / "intruder.duckdb")
    intruder, engine, first_source = rig.engine(intruder_wh), rig.engine(), rig.source()
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            outcome["run"] = rig.sync(first_source, engine=engine)
        except Exception as exc:  # noqa: BLE001 - reported through the check
            outcome["error"] = exc
    worker = threading.Thread(target=first, name="first-run")
    worker.start()
    refused: list[Exception] = []
    try:
        assert paused.wait(10), "the first run never reached the sandbox"
        rig.sync(rig.source(), engine=intruder)
    except SyncAlreadyRunning as exc:
        refused.append(exc)
    finally:
        release.set()
        worker.join(30)
        intruder_wh.close()
    assert not worker.is_alive()

    def check() -> None:
        assert len(refused) == 1
        assert "already being synced" in str(refused[0])
        assert "error" not in outcome, outcome.get("error")
        assert outcome["run"].status == "succeeded"
        assert_converged(rig)
    expect(defect, check)


# -- 11. A crash between load and state commit ------------------------------------------------


class Crash(RuntimeError):
    """Injected failure."""


@SOUND_OR_DEFECT
def test_crash_between_load_and_state_commit(defect: bool, rig: Rig,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    first_sync_then_move_on(rig, days=20)
    wh = rig.warehouse
    committed = [snapshot(wh)]  # what the warehouse held after each committed batch

    def progress(run: SyncRun) -> None:
        if run.status == "running":
            committed.append(snapshot(wh))

    def crash(self: DuckDBWarehouse, state: SyncState) -> None:
        raise Crash("killed between load and state commit")
    with monkeypatch.context() as m:
        if defect:  # no transaction: the merge is committed even though the state write fails
            m.setattr(DuckDBWarehouse, "transaction", lambda self: contextlib.nullcontext())
        m.setattr(DuckDBWarehouse, "put_state", crash)
        with pytest.raises(Crash):
            rig.sync(engine=rig.engine(progress=progress))
        after = snapshot(wh)
    expect(defect, lambda: _same(after, committed[-1]))
    rig.sync()
    assert_converged(rig)


def _same(after: dict[str, list[tuple]], before: dict[str, list[tuple]]) -> None:
    for table in before:
        assert after[table] == before[table], table


# -- 12. Money and time on sandbox data -----------------------------------------------------


@SOUND_OR_DEFECT
def test_presentment_and_shop_money_are_both_kept(defect: bool, rig: Rig,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # a single-currency mapper: presentment money overwritten with shop money
        real = mapping_module.map_orders

        def shop_only(ctx: Any, nodes: Any) -> Any:
            mapped = real(ctx, nodes)
            orders = mapped.orders.data
            orders["presentment_currency"] = list(orders["currency"])
            for name in ("gross_sales", "discounts", "shipping", "tax", "total"):
                orders[f"presentment_{name}"] = list(orders[name])
            return mapped
        monkeypatch.setattr(mapping_module, "map_orders", shop_only)
    rig.sync()
    picked: dict[str, SimOrder] = {}
    for o in rig.orders_at_as_of():
        picked.setdefault(o.presentment_currency, o)
    assert {"EUR", "NOK", "DKK"} <= picked.keys()

    def check() -> None:
        assert_converged(rig)
        for currency in ("EUR", "NOK", "DKK"):
            o = picked[currency]
            fx = o.fx_rate  # shop currency per presentment unit on the order's day
            row = rig.warehouse.fetch(
                "SELECT currency, total, presentment_currency, presentment_total FROM orders "
                "WHERE order_key = ?", [rig.key(o.order_id)])
            assert row == [("SEK", o.total_shop, currency, o.total_presentment)]
            assert abs(row[0][3] * fx - row[0][1]) <= Decimal("0.05")
    expect(defect, check)


def test_the_tax_basis_of_prices_is_recorded(rig: Rig) -> None:
    run = rig.sync()
    assert run.loaded == len(rig.orders_at_as_of())
    assert rig.warehouse.fetch(
        "SELECT taxes_included, count(*) FROM orders GROUP BY ALL") == [(True, run.loaded)]


@SOUND_OR_DEFECT
def test_order_near_midnight_gets_the_stockholm_date(defect: bool, rig: Rig,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # the shop's time zone ignored: dates in UTC
        real = ShopifySource.context
        monkeypatch.setattr(ShopifySource, "context", lambda self: mapping_module.ShopContext(
            real(self).shop, "UTC", real(self).currency, real(self).pseudonym_key))
    rig.sync()
    near = [o for o in rig.orders_at_as_of()
            if o.created_at.astimezone(ZONE).hour < 2]  # 00:00-01:59 local: still "yesterday" UTC
    assert near, "no order within 2 hours after midnight Stockholm time"
    o = near[0]
    local, utc = o.created_at.astimezone(ZONE).date(), o.created_at.astimezone(dt.UTC).date()
    assert local != utc

    def check() -> None:
        got = rig.warehouse.fetch("SELECT order_date, created_at FROM orders WHERE order_key = ?",
                                  [rig.key(o.order_id)])
        assert got == [(local, o.created_at)]
    expect(defect, check)


@SOUND_OR_DEFECT
def test_refund_weeks_later_is_booked_on_its_own_date(defect: bool, rig: Rig,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # refunds booked on their order's date
        real = mapping_module.map_orders

        def on_order_date(ctx: Any, nodes: Any) -> Any:
            mapped = real(ctx, nodes)
            dates = mapped.orders.data["order_date"]
            mapped.refunds.data["refund_date"] = [
                dates[seq] for seq in mapped.refunds.column(PARENT_SEQ)]
            return mapped
        monkeypatch.setattr(mapping_module, "map_orders", on_order_date)
    rig.sync()
    late = [(o, r) for o in rig.orders_at_as_of() for r in o.refunds
            if r.created_at - o.created_at >= dt.timedelta(days=21)]
    assert late, "no refund 21 days or more after its order"
    o, r = late[0]

    def check() -> None:
        got = rig.warehouse.fetch(
            "SELECT r.refund_date, r.amount, r.refunded_at, o.order_date FROM refunds r "
            "JOIN orders o USING (order_key) WHERE r.refund_key = ?", [rig.key(r.refund_id)])
        assert got == [(r.created_at.astimezone(ZONE).date(), r.total_shop, r.created_at,
                        o.created_at.astimezone(ZONE).date())]
        assert got[0][0] - got[0][3] >= dt.timedelta(days=20)
    expect(defect, check)
