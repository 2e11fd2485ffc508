"""Customers of the simulated shop, derived from the orders' customer ids at any point in time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np

from ondigital_connect.simulate.model import Market, SimCustomer
from ondigital_connect.simulate.rng import draw, stream_key
from ondigital_connect.simulate.timeline import Timeline

US = 1_000_000
FIRST_NAMES = ("Anna", "Erik", "Maja", "Lars", "Sofia", "Johan", "Emma", "Mikko", "Ingrid",
               "Oskar", "Freja", "Nils", "Aino", "Magnus", "Elsa", "Henrik", "Sanna", "Jonas")
P_MARKETING = 0.55
_CHUNK = 4_096


class CustomerIndex:
    """Orders grouped by customer, to count a customer's orders up to any moment."""

    def __init__(self, seed: int, tl: Timeline, markets: tuple[Market, ...]) -> None:
        self._key = stream_key(seed, 601)
        self._tl = tl
        self._codes = [m.code for m in markets]
        customer = tl.customer
        by_customer = np.argsort(customer, kind="stable")
        first = int(np.searchsorted(customer[by_customer], 1))
        self._orders = by_customer[first:]  # order indices grouped by customer, ascending
        self._ids = customer[self._orders]

    def _last_index(self, as_us: int) -> int:
        """Index of the last order created at or before ``as_us`` (-1: none)."""
        return int(np.searchsorted(self._tl.created_us, as_us, side="right")) - 1

    def customer(self, customer_id: int, as_us: int) -> SimCustomer | None:
        """One customer as of ``as_us``; None for an unknown id or one created later."""
        n = len(self._tl.customer)
        if not 1 <= customer_id <= n or int(self._tl.customer[customer_id - 1]) != customer_id:
            return None
        last = self._last_index(as_us)
        if customer_id - 1 > last:
            return None
        lo = int(np.searchsorted(self._ids, customer_id, side="left"))
        hi = int(np.searchsorted(self._ids, customer_id, side="right"))
        count = int(np.searchsorted(self._orders[lo:hi], last, side="right"))
        latest = int(self._orders[lo + count - 1])
        return self._make(customer_id, count, latest)

    def customers(self, as_us: int) -> Iterator[SimCustomer]:
        """Every customer created at or before ``as_us``, ascending customer_id."""
        last = self._last_index(as_us)
        if last < 0:
            return
        seen = self._tl.customer[: last + 1]
        counts = np.bincount(seen, minlength=last + 2)
        reversed_ids, first_pos = np.unique(seen[::-1], return_index=True)
        latest = np.zeros(last + 2, dtype=np.int64)
        latest[reversed_ids] = last - first_pos
        ids = np.flatnonzero(seen == np.arange(1, last + 2)) + 1
        for lo in range(0, len(ids), _CHUNK):
            chunk = ids[lo: lo + _CHUNK]
            for cid, count, newest in zip(chunk.tolist(), counts[chunk].tolist(),
                                          latest[chunk].tolist(), strict=True):
                yield self._make(cid, count, newest)

    def _make(self, customer_id: int, count: int, latest: int) -> SimCustomer:
        """Build the customer value from its first and latest order."""
        tl = self._tl
        h = draw(self._key, customer_id)
        created = dt.datetime.fromtimestamp(int(tl.created_us[customer_id - 1]) // US, dt.UTC)
        updated = dt.datetime.fromtimestamp(int(tl.created_us[latest]) // US, dt.UTC)
        return SimCustomer(
            customer_id=customer_id, email=f"c{customer_id}@example.test",
            first_name=FIRST_NAMES[h % len(FIRST_NAMES)], created_at=created, updated_at=updated,
            country_code=self._codes[int(tl.market[customer_id - 1])],
            accepts_marketing=(h >> 32) % 1000 < P_MARKETING * 1000, number_of_orders=count,
        )
