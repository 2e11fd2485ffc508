"""Built orders for the sandbox: index-range batches kept until served, and id -> row lookups.

A page sorted by ``updated_at`` needs the orders near the creation frontier plus a few older
ones whose refund or fulfilment came late.  Building each uncached run of rows with
``business.orders(lo, hi)`` is several times cheaper than one ``order()`` each, and keeping the
rows built ahead of need (until a page serves them) means every order is built once per sync.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

from ondigital_connect.simulate import ORDER_ID_BASE, REFUND_ID_BASE

PENDING_CACHE = 32_768  # orders built ahead of need, kept until a page serves them
SERVED_CACHE = 2_048  # orders served lately (follow-up queries, retried pages)
BATCH_DENSITY = 16  # build a cluster as index ranges when at most this many rows per needed one
MERGE_GAP = 4  # rebuild up to this many cached rows rather than start another range
_GAP = 2_048  # needed rows further apart than this start a new cluster
_SCHEME_PROBE = 256  # orders looked at to confirm the simulator's refund id scheme ...
_SCHEME_REFUNDS = 4  # ... until this many refunds were seen
AS_OF_KEPT = 8  # instants whose built orders are kept


class _Built:
    """The orders built for one ``as_of``: by row, in build order (plain dicts: insertion
    order is the age; trimming keeps the newest half)."""

    __slots__ = ("pending", "served")

    def __init__(self) -> None:
        self.pending: dict[int, Any] = {}
        self.served: dict[int, Any] = {}

    def has(self, row: int) -> bool:
        return row in self.pending or row in self.served


def _newest(items: dict[int, Any], keep: int) -> dict[int, Any]:
    return dict(list(items.items())[-keep:])


class OrderCache:
    """Orders by (as_of, row): built ahead and not yet served, then a small cache once served."""

    def __init__(self, business: Any, *, served_kept: int = SERVED_CACHE) -> None:
        self.business = business
        self.served_kept = served_kept  # a warm sandbox keeps every order it served
        batch = getattr(business, "orders", None)
        self._batch = batch if callable(batch) else None
        self._by_as_of: dict[dt.datetime | None, _Built] = {}
        self._lock = threading.Lock()
        self.id_offset: int | None = None  # order_id - row, as seen on the first build

    def _built(self, as_of: dt.datetime | None) -> _Built:
        built = self._by_as_of.get(as_of)
        if built is None:
            if len(self._by_as_of) >= AS_OF_KEPT:
                self._by_as_of.pop(next(iter(self._by_as_of)))
            built = self._by_as_of[as_of] = _Built()
        return built

    def orders_at(self, rows: list[int], as_of: dt.datetime | None) -> list[Any]:
        """The orders at these rows as of ``as_of`` (None where not created by then)."""
        with self._lock:
            built = self._built(as_of)
            pending, served = built.pending, built.served
            missing = sorted({r for r in rows if r not in pending and r not in served})
        if missing:
            self._build(missing, as_of)
        return self._take(rows, as_of)

    def peek(self, row: int, as_of: dt.datetime | None) -> Any:
        """A cached order without marking it served (None when not cached)."""
        with self._lock:
            built = self._built(as_of)
            order = built.pending.get(row)
            return built.served.get(row) if order is None else order

    def _build(self, missing: list[int], as_of: dt.datetime | None) -> None:
        for lo, hi in self._ranges(missing, as_of):
            if self._batch is not None and hi - lo > 1:
                made = list(self._batch(lo, hi, as_of=as_of))
            else:
                made = [self.business.order(lo, as_of=as_of)]
            self.keep(made, as_of)

    def _ranges(self, missing: list[int], as_of: dt.datetime | None) -> Iterator[tuple[int, int]]:
        """Index ranges to build: the uncached runs of each dense cluster, else single rows."""
        for lo, hi, count in _clusters(missing):
            runs = self._uncached_runs(lo, hi, as_of) if self._batch is not None else []
            if runs and sum(b - a for a, b in runs) <= BATCH_DENSITY * count:
                yield from runs
            else:
                yield from ((r, r + 1) for r in missing if lo <= r < hi)

    def _uncached_runs(self, lo: int, hi: int, as_of: dt.datetime | None) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        with self._lock:
            has = self._built(as_of).has
            for r in range(lo, hi):
                if has(r):
                    continue
                if runs and r - runs[-1][1] <= MERGE_GAP:
                    runs[-1] = (runs[-1][0], r + 1)
                else:
                    runs.append((r, r + 1))
        return runs

    def keep(self, made: list[Any], as_of: dt.datetime | None) -> None:
        """Cache orders built elsewhere (None entries are skipped)."""
        with self._lock:
            built = self._built(as_of)
            pending, has = built.pending, built.has
            for order in made:
                if order is not None and not has(order.index):
                    pending[order.index] = order
            if len(pending) > PENDING_CACHE:
                built.pending = _newest(pending, PENDING_CACHE // 2)
            first = next((o for o in made if o is not None), None)
            if first is not None and self.id_offset is None:
                self.id_offset = first.order_id - first.index

    def _take(self, rows: list[int], as_of: dt.datetime | None) -> list[Any]:
        """The orders of ``rows``, moved to the served cache (built one by one if evicted)."""
        out = []
        with self._lock:
            built = self._built(as_of)
            pending, served = built.pending, built.served
            for r in rows:
                order = pending.pop(r, None)
                if order is None:
                    order = served.pop(r, None)
                if order is None:
                    order = self.business.order(r, as_of=as_of)
                    if order is None:
                        out.append(None)
                        continue
                served[r] = order  # newest last
                out.append(order)
            if len(served) > self.served_kept:
                built.served = _newest(served, self.served_kept // 2)
        return out


class RowFinder:
    """Row (creation index) of an order id or refund id, by the simulator's id arithmetic.

    ``order_id = ORDER_ID_BASE + row`` and ``refund_id = REFUND_ID_BASE + 2 * row + k``; a guess
    is checked against the business, and only a business that does not follow the scheme is
    searched (binary search over monotonic ids, else a scan).
    """

    def __init__(self, business: Any, cache: OrderCache) -> None:
        self.business = business
        self.cache = cache
        self.order_rows: dict[int, int] = {}
        self.refund_rows: dict[int, int] = {}  # refund id -> order row, filled while rendering
        self._order_scheme: bool | None = None
        self._refund_scheme: bool | None = None

    def _n(self) -> int:
        return int(self.business.n_orders)

    def _now(self, row: int) -> Any:
        """The order at ``row`` as of now (built once: the answer will serve it next)."""
        order = self.cache.peek(row, None)
        if order is None:
            order = self.business.order(row)
            self.cache.keep([order], None)
        return order

    def _id_at(self, row: int) -> int | None:
        order = self._now(row)
        return None if order is None else order.order_id

    def order_row(self, order_id: int) -> int | None:
        """Row of an order id (None when the business has no such order)."""
        if order_id in self.order_rows:
            return self.order_rows[order_id]
        n = self._n()
        offset = self.cache.id_offset
        for guess in (order_id - ORDER_ID_BASE, None if offset is None else order_id - offset):
            if guess is not None and 0 <= guess < n and self._id_at(guess) == order_id:
                self.order_rows[order_id] = guess
                return guess
        if self._follows_order_scheme(n):
            return None
        return self._search_order(order_id, n)

    def _follows_order_scheme(self, n: int) -> bool:
        """Do the first and the last order carry ``ORDER_ID_BASE + row`` ids?"""
        if self._order_scheme is None:
            self._order_scheme = n > 0 and self._id_at(0) == ORDER_ID_BASE and (
                self._id_at(n - 1) == ORDER_ID_BASE + n - 1)
        return self._order_scheme

    def _search_order(self, order_id: int, n: int) -> int | None:
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            found = self._id_at(mid)
            if found is not None and found < order_id:
                lo = mid + 1
            else:
                hi = mid
        if lo < n and self._id_at(lo) == order_id:
            self.order_rows[order_id] = lo
            return lo
        for row in range(n):
            if self._id_at(row) == order_id:
                self.order_rows[order_id] = row
                return row
        return None

    def refund_row(self, refund_id: int) -> int | None:
        """Row of the order holding a refund (None when no order has it)."""
        row = self.refund_rows.get(refund_id)
        if row is not None:
            return row
        n = self._n()
        guess = (refund_id - REFUND_ID_BASE) // 2
        if 0 <= guess < n and _holds(self._now(guess), refund_id):
            return guess
        if self._follows_refund_scheme(n):
            return None
        for row in range(n):
            order = self.business.order(row)
            for refund in order.refunds if order is not None else ():
                self.refund_rows[refund.refund_id] = row
        return self.refund_rows.get(refund_id)

    def _follows_refund_scheme(self, n: int) -> bool:
        """Do the first refunds found carry ``REFUND_ID_BASE + 2 * row + k`` ids?"""
        if self._refund_scheme is None:
            seen: list[tuple[int, int]] = []
            for row in range(min(n, _SCHEME_PROBE)):
                seen += [(row, r.refund_id) for r in getattr(self._now(row), "refunds", ())]
                if len(seen) >= _SCHEME_REFUNDS:
                    break
            self._refund_scheme = bool(seen) and all(
                (rid - REFUND_ID_BASE) // 2 == row for row, rid in seen)
        return self._refund_scheme


def _holds(order: Any, refund_id: int) -> bool:
    return order is not None and any(r.refund_id == refund_id for r in order.refunds)


def _clusters(rows: list[int]) -> Iterator[tuple[int, int, int]]:
    """(lo, hi, count) of runs of sorted rows whose gaps are at most ``_GAP``."""
    if not rows:
        return
    lo = prev = rows[0]
    count = 1
    for r in rows[1:]:
        if r - prev > _GAP:
            yield lo, prev + 1, count
            lo, count = r, 0
        prev = r
        count += 1
    yield lo, prev + 1, count
