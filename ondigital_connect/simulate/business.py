"""A seeded, deterministic Nordic e-commerce business: orders, customers, products and stock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import numpy as np

from ondigital_connect.simulate.amounts import MAX_LINES
from ondigital_connect.simulate.calendar import (
    created_seconds,
    daily_counts,
    day_starts_utc,
    day_weights,
)
from ondigital_connect.simulate.catalog import (
    CAMPAIGNS,
    FX_LEVELS_MICRO,
    MARKETS,
    build_products,
    fx_to_sek_micro,
    locations,
    popularity,
    split_stock,
)
from ondigital_connect.simulate.customers import CustomerIndex
from ondigital_connect.simulate.model import (
    Campaign,
    Market,
    SimCustomer,
    SimInventoryLevel,
    SimOrder,
    SimProduct,
)
from ondigital_connect.simulate.orders import OrderFactory
from ondigital_connect.simulate.rng import draw, stream_key
from ondigital_connect.simulate.timeline import build_timeline, updated_us

US = 1_000_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _read_only(a: np.ndarray) -> np.ndarray:
    """A view of ``a`` that callers cannot write through."""
    view = a.view()
    view.setflags(write=False)
    return view


class SimulatedBusiness:
    """The shop's whole history in [start, end], generated on demand from ``seed``.

    Order-level scalars are drawn for all orders at once with numpy; each order's details come
    from counter-based hashing of (seed, index), so any order can be built alone in O(1).
    """

    def __init__(self, *, seed: int = 7, orders: int = 10_000, start: dt.date | None = None,
                 end: dt.date = dt.date(2026, 11, 22), timezone: str = "Europe/Stockholm",
                 shop_currency: str = "SEK", shop_domain: str = "demo-shop.myshopify.com",
                 shop_name: str = "Demo Shop", lines_per_order: int | None = None,
                 n_products: int = 240, n_locations: int = 2) -> None:
        start = end - dt.timedelta(days=729) if start is None else start
        _validate(orders, start, end, shop_currency, lines_per_order, n_products, n_locations)
        self.seed, self.shop_domain, self.shop_name = seed, shop_domain, shop_name
        self.timezone, self.shop_currency = timezone, shop_currency
        self.start, self.end = start, end
        starts = day_starts_utc(start, end, timezone)
        self.now: dt.datetime = dt.datetime.fromtimestamp(int(starts[-1]) - 1, dt.UTC)
        self.n_orders: int = orders
        self.markets: tuple[Market, ...] = MARKETS
        self.campaigns: tuple[Campaign, ...] = CAMPAIGNS
        first = dt.datetime.fromtimestamp(int(starts[0]), dt.UTC)
        self.products: tuple[SimProduct, ...]
        self.products, base_sek = build_products(seed, n_products, first, self.now, shop_currency)
        self.locations: tuple[tuple[int, str], ...] = locations(n_locations)
        weights = popularity(self.products, seed)
        n_sellable = sum(w > 0 for w in weights)
        if lines_per_order is not None and lines_per_order > n_sellable:
            raise ValueError("lines_per_order exceeds the number of sellable products")
        counts = daily_counts(day_weights(start, end, seed), orders)
        created_s, day = created_seconds(counts, starts, start, seed)
        self._tl = build_timeline(seed, created_s, day, tuple(m.weight for m in MARKETS),
                                  lines_per_order, n_sellable)
        fx_table = np.array([[self._fx_micro(m.currency, start.toordinal() + d)
                              for d in range(len(counts))] for m in MARKETS], dtype=np.int64)
        self._factory = OrderFactory(seed, shop_currency, MARKETS,
                                     (self.products, base_sek, weights), CAMPAIGNS, fx_table)
        self._now_us = self._as_us(None)
        self._updated_now: np.ndarray | None = None
        self._customers: CustomerIndex | None = None

    def __repr__(self) -> str:
        return (f"SimulatedBusiness(seed={self.seed}, orders={self.n_orders}, "
                f"start={self.start}, end={self.end})")

    # -- exchange rates -------------------------------------------------------------------
    def _fx_micro(self, currency: str, ordinal: int) -> int:
        """Shop currency per unit of ``currency`` on a day, in millionths (rounded half up)."""
        if currency == self.shop_currency:
            return US
        num = fx_to_sek_micro(currency, ordinal) * US
        den = fx_to_sek_micro(self.shop_currency, ordinal)
        return (2 * num + den) // (2 * den)

    def fx_rate(self, currency: str, day: dt.date) -> Decimal:
        """Shop currency per 1 unit of ``currency`` on ``day`` (1 for the shop currency)."""
        if currency not in FX_LEVELS_MICRO:
            raise ValueError(f"unknown currency {currency!r}")
        return Decimal(self._fx_micro(currency, day.toordinal())).scaleb(-6)

    # -- orders ---------------------------------------------------------------------------
    def _as_us(self, as_of: dt.datetime | None) -> int:
        """``as_of`` (default: now) as epoch microseconds; it must be timezone-aware."""
        if as_of is None:
            return (self.now - EPOCH) // dt.timedelta(microseconds=1)
        if as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        return (as_of - EPOCH) // dt.timedelta(microseconds=1)

    def order(self, index: int, *, as_of: dt.datetime | None = None) -> SimOrder | None:
        """Order ``index`` as the shop holds it at ``as_of``; None if not created by then."""
        if not 0 <= index < self.n_orders:
            raise IndexError(f"order index {index} outside [0, {self.n_orders})")
        return self._factory.build_one(self._tl, index, self._as_us(as_of))

    def orders(self, start: int = 0, stop: int | None = None, *,
               as_of: dt.datetime | None = None) -> Iterator[SimOrder]:
        """Orders ``start``..``stop - 1`` in creation order, stopping at the first after as_of."""
        as_us = self._as_us(as_of)
        created = int(np.searchsorted(self._tl.created_us, as_us, side="right"))
        stop = created if stop is None else min(stop, created)
        return self._factory.iter_range(self._tl, max(0, start), stop, as_us)

    def created_at_us(self) -> np.ndarray:
        """int64 epoch microseconds of each order's created_at, by index (non-decreasing)."""
        return _read_only(self._tl.created_us)

    def updated_at_us(self, as_of: dt.datetime | None = None) -> np.ndarray:
        """int64 epoch µs of each order's updated_at at ``as_of`` (-1: not yet created)."""
        as_us = self._as_us(as_of)
        if as_us != self._now_us:
            return updated_us(self._tl, as_us)
        if self._updated_now is None:
            self._updated_now = _read_only(updated_us(self._tl, as_us))
        return self._updated_now

    # -- customers ------------------------------------------------------------------------
    def customer_ids(self) -> np.ndarray:
        """The customer id of each order index (0 = guest checkout without customer)."""
        return _read_only(self._tl.customer)

    def _customer_index(self) -> CustomerIndex:
        if self._customers is None:
            self._customers = CustomerIndex(self.seed, self._tl, MARKETS)
        return self._customers

    def customer(self, customer_id: int, *, as_of: dt.datetime | None = None
                 ) -> SimCustomer | None:
        """The customer as of ``as_of``; None if unknown or not yet created."""
        return self._customer_index().customer(customer_id, self._as_us(as_of))

    def customers(self, *, as_of: dt.datetime | None = None) -> Iterator[SimCustomer]:
        """Every customer created by ``as_of``, ascending customer_id."""
        return self._customer_index().customers(self._as_us(as_of))

    # -- stock ----------------------------------------------------------------------------
    def inventory_levels(self) -> Iterator[SimInventoryLevel]:
        """Stock of every product at every location, as of now."""
        key = stream_key(self.seed, 501)
        for p in self.products:
            h = draw(key, p.variant_id)
            parts = split_stock(p.stock, len(self.locations), h)
            for k, ((location_id, name), on_hand) in enumerate(zip(self.locations, parts,
                                                                   strict=True)):
                reserved = min(on_hand, (h >> (40 + 3 * k)) % 3)
                yield SimInventoryLevel(p.inventory_item_id, p.variant_id, p.sku, location_id,
                                        name, on_hand, on_hand - reserved, p.unit_cost_shop)


def _validate(orders: int, start: dt.date, end: dt.date, currency: str,
              lines_per_order: int | None, n_products: int, n_locations: int) -> None:
    """Reject parameters the simulation cannot honour."""
    if orders < 0:
        raise ValueError("orders must be >= 0")
    if not 0 <= (end - start).days < 30_000:
        raise ValueError("start must be on or before end (and within 30000 days)")
    if currency not in FX_LEVELS_MICRO:
        raise ValueError(f"shop_currency must be one of {sorted(FX_LEVELS_MICRO)}")
    if lines_per_order is not None and not 1 <= lines_per_order <= MAX_LINES:
        raise ValueError(f"lines_per_order must be in 1..{MAX_LINES}")
    if n_products < 1 or n_locations < 1:
        raise ValueError("n_products and n_locations must be >= 1")
