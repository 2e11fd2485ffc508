"""Order pages decoded and mapped in worker processes, for syncs that outgrow one core.

Validating and mapping an order page is pure CPU work in Python, so in one process it is
bound by one core (the GIL) whatever the threads. With ``page_workers`` set, the reading
process only fetches pages and skims their cursor (``skim``); each worker process, a
``ShopifySource`` of its own, validates a body, completes it with follow-up queries, maps it
and sends the rows back as Arrow tables with the page's rejects and drift. Results are taken
in page order, so batches, cursors and state are exactly those of a sync in one process.
Until the workers have started (the first sync of a process starts a fork server, about half
a second), pages are handled here.

Workers import the main module, as all ``multiprocessing`` code does: a script that sets
``page_workers`` needs the ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from ondigital_connect.models.columns import Columns
from ondigital_connect.models.tables import get_table
from ondigital_connect.sources.base import Batch, Drift, Reject
from ondigital_connect.sources.shopify import mapping as m
from ondigital_connect.warehouse.arrow import to_arrow
from ondigital_connect.warehouse.merge import PARENT_SEQ

if TYPE_CHECKING:
    from ondigital_connect.sources.shopify.settings import ShopifySettings

log = logging.getLogger(__name__)
P = TypeVar("P")
ORDER_TABLES = ("orders", "order_lines", "refunds", "refund_lines")
#: stamp values the loader replaces (``_synced_at`` and ``_run_id`` are set at load time)
_UNSTAMPED = {"_synced_at": dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "_run_id": ""}
#: one page's rows and what else the page gave (rejects); what workers send back
Decoded = tuple["DecodedPage", list[Reject]]


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """What a worker needs to read a shop's pages (sent once, when it starts)."""

    settings: ShopifySettings
    pseudonym_key: bytes
    timezone: str
    currency: str


@dataclass(frozen=True, slots=True)
class DecodedPage:
    """One page's rows as Arrow tables (children keep ``_parent_seq``, page-local)."""

    tables: dict[str, pa.Table]
    received: int
    cursor: dt.datetime | None
    drift: tuple[Drift, ...]


_WORKER: dict[str, Any] = {}


def _start(setup: WorkerSetup) -> None:
    from ondigital_connect.sources.shopify.source import ShopifySource

    source = ShopifySource(setup.settings.model_copy(update={"page_workers": 0}),
                           pseudonym_key=setup.pseudonym_key)
    source.use_context(m.ShopContext(setup.settings.shop, setup.timezone, setup.currency,
                                     setup.pseudonym_key))
    _WORKER["source"] = source


def decode_page(content: bytes) -> Decoded:
    """A page body validated, completed, mapped and turned into Arrow, in a worker."""
    return _WORKER["source"].order_page(content)


def page_tables(mapped: m.OrderColumns, received: int,
                drift: tuple[Drift, ...]) -> DecodedPage:
    """Mapped order columns as Arrow tables (also used for pages mapped in this process)."""
    updated = mapped.orders.data.get("updated_at")
    tables = {}
    for name, columns in zip(ORDER_TABLES, (mapped.orders, mapped.lines, mapped.refunds,
                                            mapped.refund_lines), strict=True):
        tables[name] = arrow_rows(name, columns)
    return DecodedPage(tables, received, max(updated) if updated else None, drift)


def arrow_rows(name: str, columns: Columns) -> pa.Table:
    """``columns`` of table ``name`` as Arrow, keeping ``_parent_seq`` for child tables."""
    table = to_arrow(get_table(name), columns, **_UNSTAMPED)
    if name == "orders":
        return table
    return table.append_column(PARENT_SEQ, pa.array(columns.column(PARENT_SEQ), pa.int64()))


class PageWorkers:
    """A pool of worker processes, forked from a fork server (see ``_context``).

    Nothing starts until ``start`` (a read starts them once it has passed
    ``page_workers_after`` orders, so a short sync never does). Workers then start in the
    background; until the first one answers, ``ready`` is False and the caller decodes pages
    itself, so no page waits for them.
    """

    def __init__(self, count: int, setup: WorkerSetup) -> None:
        self.count = count
        self._setup = setup
        self._pool: ProcessPoolExecutor | None = None
        self._warm: list[Future[None]] = []
        self.decoded = 0  # pages the workers mapped (the others were mapped here)
        self._warned = False

    def start(self) -> None:
        """Start the workers (once)."""
        if self._pool is not None:
            return
        self._pool = ProcessPoolExecutor(self.count, mp_context=_context(),
                                         initializer=_start, initargs=(self._setup,))
        # one task each, so that every worker is started now (the pool starts them on demand)
        self._warm = [self._pool.submit(_noop) for _ in range(self.count)]

    @property
    def ready(self) -> bool:
        """True once a worker has started (and did not fail to).

        If none could start, this process reads on alone and says why, once.
        """
        if not self._warm:
            return False
        if any(w.done() and w.exception() is None for w in self._warm):
            return True
        if not self._warned and all(w.done() for w in self._warm):
            self._warned = True
            log.warning("shopify: page workers could not start (%s); reading in this "
                        "process", self._warm[0].exception())
        return False

    def submit(self, content: bytes) -> Future[Decoded]:
        """Decode and map one page body in a worker (only once ``ready``)."""
        assert self._pool is not None
        return self._pool.submit(decode_page, content)

    def close(self) -> None:
        """Stop the workers; pages still queued are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _noop() -> None:
    return None


#: imported once by the fork server, so each worker forked from it starts with them
#: (pandas because pyarrow imports it on its first conversion)
PRELOAD = ("ondigital_connect.sources.shopify.source", "pandas")


def _context() -> multiprocessing.context.BaseContext:
    """Workers fork from a fork server (a fresh process, started once, that has imported
    PRELOAD): never from this process, whose DuckDB threads make forking unsafe. Where there
    is no fork server (not POSIX), they are spawned."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


class ArrowBatch:
    """Decoded pages gathered into one ``Batch`` of Arrow tables, in page order."""

    def __init__(self) -> None:
        self.parts: dict[str, list[pa.Table]] = {name: [] for name in ORDER_TABLES}
        self.batch = Batch()
        self._roots = 0
        self._seen: set[str] = set()

    def add(self, page: DecodedPage, rejects: list[Reject]) -> None:
        """Append a page: its children's ``_parent_seq`` shift past the roots held so far."""
        for name, table in page.tables.items():
            if name != "orders" and self._roots and table.num_rows:
                at = table.schema.get_field_index(PARENT_SEQ)
                table = table.set_column(at, PARENT_SEQ,
                                         pc.add(table.column(at), pa.scalar(self._roots)))
            self.parts[name].append(table)
        self._roots += page.tables["orders"].num_rows
        batch = self.batch
        batch.received += page.received
        batch.rejects += rejects
        if page.cursor is not None and (batch.cursor is None or page.cursor > batch.cursor):
            batch.cursor = page.cursor
        for d in page.drift:
            if d.field_path not in self._seen:
                self._seen.add(d.field_path)
                batch.drift.append(d)

    def done(self) -> Batch:
        """The batch, each table's pages concatenated."""
        self.batch.rows = {name: pa.concat_tables(parts) for name, parts in self.parts.items()
                           if parts}
        return self.batch


def batches_in_workers(
    pages: Iterator[P], workers: PageWorkers, batch_size: int, *,
    body: Callable[[P], bytes | None],
    here: Callable[[P], Decoded],
    start_at: int = 1,
) -> Iterator[Batch]:
    """Batches of ``pages``, each decoded by a worker when ``body`` gives one and a worker
    is up, else by ``here`` (in this process); always in page order.

    The workers start at page index ``start_at`` (at least 1: a one-page read never starts
    them), so a read shorter than that is done here alone."""
    queue: deque[tuple[P, Future[Decoded] | None]] = deque()
    depth = 2 * workers.count
    batch = ArrowBatch()
    for index, page in enumerate(pages):
        if index == max(start_at, 1):  # a read this long is worth the workers' start
            workers.start()
        content = body(page)
        queue.append((page, workers.submit(content)
                      if content is not None and workers.ready else None))
        while queue and (len(queue) > depth or _settled(queue[0][1])):
            batch.add(*_take(queue.popleft(), workers, here))
            if batch.batch.received >= batch_size:
                yield batch.done()
                batch = ArrowBatch()
    while queue:
        batch.add(*_take(queue.popleft(), workers, here))
        if batch.batch.received >= batch_size:
            yield batch.done()
            batch = ArrowBatch()
    if batch.batch.received:
        yield batch.done()


def _settled(future: Future[Any] | None) -> bool:
    return future is None or future.done()


def _take(item: tuple[P, Future[Decoded] | None], workers: PageWorkers,
          here: Callable[[P], Decoded]) -> Decoded:
    page, future = item
    if future is None:
        return here(page)
    workers.decoded += 1
    return future.result()
