"""Keyset-sorted numpy views over the simulated business, Shopify search filters and cursors."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from ondigital_connect.sandbox.shopify_orders import SERVED_CACHE, OrderCache, RowFinder

_US = 1_000_000
_TERM = re.compile(r"""(\w+):(>=|<=|>|<|=)?('[^']*'|"[^"]*"|\S+)""")
_TIME_FIELDS = frozenset({"updated_at", "created_at"})


class CursorError(ValueError):
    """A cursor that this sandbox did not issue."""


@dataclass(frozen=True, slots=True)
class Bound:
    """A time range filter on one field: ``lo <= value_us < hi`` (None = open)."""

    field: str
    lo: int | None
    hi: int | None


def parse_search(query: str | None) -> tuple[Bound, ...]:
    """Shopify search syntax -> time bounds (``updated_at``/``created_at``; other terms ignored).

    Values may be quoted or not; a value without offset is UTC.  Comparison is at second
    resolution like the rendered timestamps; a bare date with no operator means that whole day.
    """
    if not query:
        return ()
    bounds: dict[str, tuple[int | None, int | None]] = {}
    for name, op, raw in _TERM.findall(query):
        if name not in _TIME_FIELDS:
            continue
        parsed = _parse_time(raw.strip("'\""))
        if parsed is None:
            continue
        seconds, whole_day = parsed
        lo, hi = _bound_for(op or "=", seconds, whole_day)
        old_lo, old_hi = bounds.get(name, (None, None))
        bounds[name] = (_tighter(old_lo, lo, max), _tighter(old_hi, hi, min))
    return tuple(Bound(name, lo, hi) for name, (lo, hi) in sorted(bounds.items()))


def _parse_time(text: str) -> tuple[int, bool] | None:
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()), True
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() // 1), False


def _bound_for(op: str, seconds: int, whole_day: bool) -> tuple[int | None, int | None]:
    if op == ">=":
        return seconds * _US, None
    if op == ">":
        return (seconds + 1) * _US, None
    if op == "<=":
        return None, (seconds + 1) * _US
    if op == "<":
        return None, seconds * _US
    width = 86_400 if whole_day else 1
    return seconds * _US, (seconds + width) * _US


def _tighter(old: int | None, new: int | None, pick: Callable[[int, int], int]) -> int | None:
    if old is None:
        return new
    return old if new is None else pick(old, new)


def encode_cursor(last_value: int, last_id: int) -> str:
    """An opaque keyset cursor (base64 JSON like Shopify's)."""
    raw = b'{"last_id":%d,"last_value":%d}' % (last_id, last_value)  # as orjson writes it
    return binascii.b2a_base64(raw, newline=False).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(last_value, last_id) of a cursor from :func:`encode_cursor`."""
    try:
        data = orjson.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(data["last_value"]), int(data["last_id"])
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CursorError(cursor) from exc


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a sorted view: row numbers and their (k1, k2) keys, in answer order."""

    rows: np.ndarray
    k1: np.ndarray
    k2: np.ndarray
    has_next: bool
    has_previous: bool

    def cursor(self, i: int) -> str:
        return encode_cursor(self.k1[i], self.k2[i])


@dataclass(frozen=True, slots=True)
class View:
    """Rows sorted ascending by (k1, k2) after filtering."""

    rows: np.ndarray
    k1: np.ndarray
    k2: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def count_before(self, key: tuple[int, int], *, inclusive: bool) -> int:
        """How many rows sort before ``key`` (also the row equal to it when inclusive)."""
        v1, v2 = key
        lo = int(np.searchsorted(self.k1, v1, "left"))
        hi = int(np.searchsorted(self.k1, v1, "right"))
        side = "right" if inclusive else "left"
        return lo + int(np.searchsorted(self.k2[lo:hi], v2, side))

    def page(
        self, first: int, after: tuple[int, int] | None, *, reverse: bool = False,
        repeat_cursor_row: bool = False,
    ) -> Page:
        """``first`` rows after the ``after`` key, ascending (or descending when reverse)."""
        n = len(self.rows)
        if not reverse:
            start = 0 if after is None else self.count_before(after, inclusive=True)
            if after is not None and repeat_cursor_row:
                start = max(0, start - 1)
            end = min(n, start + first)
            sl = slice(start, end)
            return Page(self.rows[sl], self.k1[sl], self.k2[sl], end < n, start > 0)
        hi = n if after is None else self.count_before(after, inclusive=False)
        if after is not None and repeat_cursor_row:
            hi = min(n, hi + 1)
        lo = max(0, hi - first)
        taken = np.arange(lo, hi)[::-1]
        return Page(self.rows[taken], self.k1[taken], self.k2[taken], lo > 0, hi < n)


class Table:
    """One resource's rows with int64 sort keys; sorted views are cached per filter."""

    def __init__(
        self, ids: np.ndarray, created: np.ndarray, updated: np.ndarray,
        exists: np.ndarray | None = None,
    ) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self.created = np.asarray(created, dtype=np.int64)
        self.updated = np.asarray(updated, dtype=np.int64)
        self.exists = exists
        self._views: LRU = LRU(16)

    def view(self, sort_key: str, bounds: tuple[Bound, ...]) -> View:
        """Rows matching ``bounds`` sorted by ``sort_key`` (UPDATED_AT, CREATED_AT or ID)."""
        return self._views.get_or_make((sort_key, bounds), lambda: self._build(sort_key, bounds))

    def _build(self, sort_key: str, bounds: tuple[Bound, ...]) -> View:
        mask = np.ones(len(self.ids), dtype=bool) if self.exists is None else self.exists.copy()
        for bound in bounds:
            column = self.updated if bound.field == "updated_at" else self.created
            if bound.lo is not None:
                mask &= column >= bound.lo
            if bound.hi is not None:
                mask &= column < bound.hi
        rows = np.nonzero(mask)[0]
        primary = {"UPDATED_AT": self.updated, "CREATED_AT": self.created}.get(sort_key, self.ids)
        k1, k2 = primary[rows], self.ids[rows]
        order = np.lexsort((k2, k1))
        return View(rows[order], k1[order], k2[order])


class LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def us_of(when: dt.datetime) -> int:
    """Epoch microseconds of an aware datetime."""
    return (when - _EPOCH) // _ONE_US


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)


def table_of(items: Iterable[Any], key: Callable[[Any], tuple[int, dt.datetime, dt.datetime]]):
    """A :class:`Table` over small in-memory items (variants, customers) plus the item tuple."""
    values = tuple(items)
    keys = [key(item) for item in values]
    ids = np.array([k[0] for k in keys], dtype=np.int64)
    created = np.array([us_of(k[1]) for k in keys], dtype=np.int64)
    updated = np.array([us_of(k[2]) for k in keys], dtype=np.int64)
    return Table(ids, created, updated), values


class Store:
    """The business as the sandbox serves it: cached tables and id lookups per ``as_of``."""

    def __init__(self, business: Any, *, keep_orders: bool = False) -> None:
        """``keep_orders``: keep every order once built (a warm sandbox serves them again)."""
        self.business = business
        markets = business.markets
        markets = markets.values() if isinstance(markets, dict) else markets
        self.markets = {m.code: m for m in markets}
        self.vat = {m.code: float(m.vat_rate) for m in self.markets.values()}
        self.products = tuple(business.products)
        self.variant_by_id = {p.variant_id: p for p in self.products}
        self.item_by_id = {p.inventory_item_id: p for p in self.products}
        self.product_by_id: dict[int, Any] = {}
        for p in self.products:
            self.product_by_id.setdefault(p.product_id, p)
        self.locations = tuple(business.locations)
        self.location_by_id = {loc[0]: loc for loc in self.locations}
        self.variants, _ = table_of(self.products, lambda p: (p.variant_id, p.created_at,
                                                               p.updated_at))
        self.items, _ = table_of(self.products, lambda p: (p.inventory_item_id, p.created_at,
                                                            p.updated_at))
        zeros = np.zeros(len(self.locations), dtype=np.int64)
        self.location_table = Table(np.array([loc[0] for loc in self.locations]), zeros, zeros)
        self._levels: dict[int, tuple[Any, ...]] | None = None
        self._tables = LRU(8)
        self.built = OrderCache(business, served_kept=2**62 if keep_orders else SERVED_CACHE)
        self.finder = RowFinder(business, self.built)
        self.refund_rows = self.finder.refund_rows  # refund id -> order row, filled while rendering

    def orders(self, as_of: dt.datetime | None) -> Table:
        """All orders existing at ``as_of`` (keys: updated/created µs, id or row as tiebreak)."""
        return self._tables.get_or_make(("orders", as_of), lambda: self._orders(as_of))

    def _orders(self, as_of: dt.datetime | None) -> Table:
        updated = np.asarray(self.business.updated_at_us(as_of), dtype=np.int64)
        ids_of = getattr(self.business, "order_ids", None)
        ids = np.asarray(ids_of()) if callable(ids_of) else np.arange(len(updated))
        return Table(ids, self.business.created_at_us(), updated, exists=updated >= 0)

    def customers(self, as_of: dt.datetime | None) -> Table:
        """All customers existing at ``as_of``."""
        return self._tables.get_or_make(("customers", as_of), lambda: self._customers(as_of))

    def _customers(self, as_of: dt.datetime | None) -> Table:
        keys = [(c.customer_id, us_of(c.created_at), us_of(c.updated_at))
                for c in self.business.customers(as_of=as_of)]
        columns = np.array(keys, dtype=np.int64).reshape(-1, 3)
        return Table(columns[:, 0], columns[:, 1], columns[:, 2])

    def levels(self, inventory_item_id: int) -> tuple[Any, ...]:
        """Inventory levels of one item (all locations)."""
        if self._levels is None:
            grouped: dict[int, list[Any]] = {}
            for level in self.business.inventory_levels():
                grouped.setdefault(level.inventory_item_id, []).append(level)
            self._levels = {k: tuple(v) for k, v in grouped.items()}
        return self._levels.get(inventory_item_id, ())

    def orders_at(self, rows: list[int], as_of: dt.datetime | None) -> list[Any]:
        """The orders at these rows as of ``as_of`` (built in index-range batches, cached)."""
        return self.built.orders_at(rows, as_of)

    def order_row(self, order_id: int) -> int | None:
        """Row (creation index) of an order id, None when there is no such order."""
        return self.finder.order_row(order_id)

    def refund_row(self, refund_id: int) -> int | None:
        """Row of the order holding a refund, None when there is no such refund."""
        return self.finder.refund_row(refund_id)
