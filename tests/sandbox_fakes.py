"""A tiny hand-made business with SimulatedBusiness's API, for precise sandbox tests.

Twelve orders created hourly from ``T0``; each is fulfilled (updated) two hours later.  Orders
4 and 5 share their updated_at (a keyset tie), order 2 has 12 lines and a refund of all of
them, order 6 gets a *late* refund at ``LATE_REFUND`` (after ``EARLY``), order 7 is cancelled,
order 9 is a guest order whose attribution is not ready, and order 11 is in NOK.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import numpy as np

from ondigital_connect.simulate.model import (
    Market,
    SimCustomer,
    SimInventoryLevel,
    SimLine,
    SimOrder,
    SimProduct,
    SimRefund,
    SimRefundLine,
)

UTC = dt.UTC
T0 = dt.datetime(2026, 10, 1, 8, 0, 0, tzinfo=UTC)
NOW = dt.datetime(2026, 10, 20, 12, 0, 0, tzinfo=UTC)
EARLY = dt.datetime(2026, 10, 12, 0, 0, 0, tzinfo=UTC)  # before order 6's refund
LATE_REFUND = dt.datetime(2026, 10, 15, 9, 30, 0, tzinfo=UTC)
N_ORDERS = 12
ORDER_BASE = 1000
C = Decimal("0.01")
MARKETS = (Market("SE", "SEK", Decimal("0.25"), 0.7, Decimal("49.00")),
           Market("NO", "NOK", Decimal("0.25"), 0.3, Decimal("99.00")))
PRODUCTS = tuple(
    SimProduct(product_id=800 + k, variant_id=900 + k, inventory_item_id=700 + k,
               sku=f"SKU-{k}", title=f"Product {k}", variant_title="M", category="Shirts",
               brand="Acme", price_shop=Decimal("100.00"), unit_cost_shop=Decimal("40.00"),
               stock=10 + k, created_at=T0 - dt.timedelta(days=30),
               updated_at=T0 - dt.timedelta(days=k), status="ACTIVE")
    for k in range(3))
LOCATIONS = ((501, "Main Warehouse"), (502, "City Store"))


def order_id(index: int) -> int:
    return ORDER_BASE + index


def updated_at(index: int) -> dt.datetime:
    """updated_at of an order without refunds (orders 4 and 5 tie)."""
    base = T0 + dt.timedelta(hours=index, minutes=120)
    return base + dt.timedelta(hours=1) if index == 4 else base


def _line(index: int, k: int, presentment: Decimal) -> SimLine:
    p = PRODUCTS[k % len(PRODUCTS)]
    unit = Decimal("100.00")
    return SimLine(
        line_id=10_000 + index * 100 + k, product_id=p.product_id, variant_id=p.variant_id,
        sku=p.sku, title=p.title, category=p.category, quantity=1 + k % 2, unit_price_shop=unit,
        unit_price_presentment=(unit / presentment).quantize(C), discount_shop=Decimal("0.00"),
        discount_presentment=Decimal("0.00"), tax_shop=Decimal("20.00") * (1 + k % 2),
        tax_presentment=(Decimal("20.00") * (1 + k % 2) / presentment).quantize(C),
        unit_cost_shop=p.unit_cost_shop)


def _refund(index: int, when: dt.datetime, lines: tuple[SimLine, ...]) -> SimRefund:
    rid = 5000 + index * 10
    rlines = tuple(SimRefundLine(
        refund_line_id=rid * 100 + n, line_id=line.line_id, sku=line.sku, quantity=line.quantity,
        subtotal_shop=line.unit_price_shop * line.quantity,
        subtotal_presentment=line.unit_price_presentment * line.quantity,
        tax_shop=line.tax_shop, tax_presentment=line.tax_presentment)
        for n, line in enumerate(lines))
    shipping = Decimal("49.00")
    total = sum((rl.subtotal_shop for rl in rlines), Decimal(0)) + shipping
    return SimRefund(refund_id=rid, created_at=when, lines=rlines, shipping_shop=shipping,
                     shipping_presentment=shipping, total_shop=total, total_presentment=total,
                     note="Customer changed their mind")


def full_order(index: int) -> SimOrder:
    """The order as of NOW (all refunds)."""
    market = "NO" if index == 11 else "SE"
    fx = Decimal("0.95") if market == "NO" else Decimal("1")
    n_lines = 12 if index == 2 else 1 + index % 3
    lines = tuple(_line(index, k, fx) for k in range(n_lines))
    created = T0 + dt.timedelta(hours=index)
    refunds: tuple[SimRefund, ...] = ()
    if index == 2:
        refunds = (_refund(index, T0 + dt.timedelta(days=3), lines),)
    elif index == 6:
        refunds = (_refund(index, LATE_REFUND, lines[:1]),)
    subtotal = sum((line.unit_price_shop * line.quantity for line in lines), Decimal(0))
    tax = sum((line.tax_shop for line in lines), Decimal(0))
    shipping = Decimal("49.00")
    guest = index == 9
    return SimOrder(
        index=index, order_id=order_id(index), name=f"#{1001 + index}", created_at=created,
        processed_at=created, updated_at=updated_at(index),
        cancelled_at=created + dt.timedelta(hours=1) if index == 7 else None,
        cancel_reason="customer" if index == 7 else None, test=False, source_name="web",
        market=market, shop_currency="SEK", presentment_currency="NOK" if market == "NO"
        else "SEK", fx_rate=fx, lines=lines, refunds=refunds, subtotal_shop=subtotal,
        subtotal_presentment=(subtotal / fx).quantize(C), discounts_shop=Decimal("0.00"),
        discounts_presentment=Decimal("0.00"), shipping_shop=shipping,
        shipping_presentment=(shipping / fx).quantize(C), tax_shop=tax,
        tax_presentment=(tax / fx).quantize(C), total_shop=subtotal + shipping,
        total_presentment=((subtotal + shipping) / fx).quantize(C),
        refunded_shop=Decimal("0.00"), refunded_presentment=Decimal("0.00"),
        financial_status="VOIDED" if index == 7 else "PAID",
        fulfillment_status="UNFULFILLED" if index == 7 else "FULFILLED",
        customer_id=None if guest else 1 + index % 3,
        customer_email=None if guest else f"c{1 + index % 3}@example.test",
        country_code="NO" if market == "NO" else "SE",
        utm_source=None if guest else "google", utm_medium=None if guest else "cpc",
        utm_campaign=None if guest else "brand", utm_content=None, utm_term=None,
        landing_page=None if guest else "https://fake.example/?utm_source=google",
        referrer=None if guest else "https://www.google.com/", attribution_ready=not guest)


def as_held(order: SimOrder, as_of: dt.datetime) -> SimOrder | None:
    """The order as the shop held it at ``as_of``."""
    if order.created_at > as_of:
        return None
    refunds = tuple(r for r in order.refunds if r.created_at <= as_of)
    refunded = sum((r.total_shop for r in refunds), Decimal("0.00"))
    stamps = [order.created_at, *(r.created_at for r in refunds)]
    if updated_at(order.index) <= as_of:
        stamps.append(updated_at(order.index))
    status = order.financial_status
    if refunds:
        status = "REFUNDED" if refunded >= order.total_shop else "PARTIALLY_REFUNDED"
    return dataclasses.replace(order, refunds=refunds, refunded_shop=refunded,
                               refunded_presentment=refunded, updated_at=max(stamps),
                               financial_status=status)


def _us(when: dt.datetime) -> int:
    return (when - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)


class FakeBusiness:
    """SimulatedBusiness's API over the hand-made orders above."""

    def __init__(self) -> None:
        self.now = NOW
        self.n_orders = N_ORDERS
        self.timezone = "Europe/Stockholm"
        self.shop_currency = "SEK"
        self.shop_domain = "fake-shop.myshopify.com"
        self.shop_name = "Fake Shop"
        self.markets = MARKETS
        self.products = PRODUCTS
        self.locations = LOCATIONS
        self._full = [full_order(i) for i in range(N_ORDERS)]
        self.order_calls = 0

    def order(self, index: int, *, as_of: dt.datetime | None = None) -> SimOrder | None:
        if not 0 <= index < self.n_orders:
            raise IndexError(index)
        self.order_calls += 1
        return as_held(self._full[index], as_of or self.now)

    def updated_at_us(self, as_of: dt.datetime | None = None) -> np.ndarray:
        held = [as_held(o, as_of or self.now) for o in self._full]
        return np.array([-1 if o is None else _us(o.updated_at) for o in held], dtype=np.int64)

    def created_at_us(self) -> np.ndarray:
        return np.array([_us(o.created_at) for o in self._full], dtype=np.int64)

    def customer_ids(self) -> np.ndarray:
        return np.array([o.customer_id or 0 for o in self._full], dtype=np.int64)

    def customer(self, customer_id: int, *, as_of: dt.datetime | None = None
                 ) -> SimCustomer | None:
        mine = [o for o in self._full if o.customer_id == customer_id
                and o.created_at <= (as_of or self.now)]
        if not mine:
            return None
        return SimCustomer(customer_id=customer_id, email=f"c{customer_id}@example.test",
                           first_name=f"Name{customer_id}", created_at=mine[0].created_at,
                           updated_at=mine[-1].created_at, country_code="SE",
                           accepts_marketing=customer_id == 1, number_of_orders=len(mine))

    def customers(self, *, as_of: dt.datetime | None = None) -> Iterator[SimCustomer]:
        for cid in (1, 2, 3):
            customer = self.customer(cid, as_of=as_of)
            if customer is not None:
                yield customer

    def inventory_levels(self) -> Iterator[SimInventoryLevel]:
        for p in self.products:
            for n, (lid, name) in enumerate(self.locations):
                yield SimInventoryLevel(p.inventory_item_id, p.variant_id, p.sku, lid, name,
                                        on_hand=p.stock + n, available=p.stock + n - 1,
                                        unit_cost_shop=p.unit_cost_shop)
