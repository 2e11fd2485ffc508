"""Vectorised per-chunk draws and money of orders (numpy, exact integer cents)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ondigital_connect.simulate.rng import draw_np, field16
from ondigital_connect.simulate.timeline import FLAG_POS, Timeline

MAX_LINES = 8  # line slots per order in the id scheme
P_DISCOUNT = 13_107  # of 65536: ~20 % of orders use a discount code
DISCOUNT_PCTS = np.array([10, 15, 20], dtype=np.int64)
QTY_2, QTY_3 = 56_000, 63_500  # of 65536: ~85 % of lines have quantity 1
_HALF_MICRO = 500_000
_MICRO = 1_000_000


@dataclass(frozen=True, slots=True)
class PriceBook:
    """The numpy tables chunks are computed from."""

    k_order: int  # stream keys
    k_line: int
    k_click: int
    cum: np.ndarray  # uint64 cumulative 32-bit popularity over the sellable products
    sellable: np.ndarray  # int64 product index of each sellable position
    pres: np.ndarray  # int64 (markets, products) list price in the market currency, cents
    fx: np.ndarray  # int64 (markets, days) shop currency per market unit, millionths
    vat_bp: np.ndarray  # int64 (markets,) VAT in basis points
    fee: np.ndarray  # int64 (markets,) shipping fee, cents
    free_from: np.ndarray  # int64 (markets,) free shipping from this subtotal, cents


class Chunk:
    """Plain Python lists for orders ``lo``..``hi - 1``: per order, and per order and line."""

    __slots__ = ("created", "day", "customer", "market", "flags", "n_lines", "events", "h",
                 "click", "rate", "sums", "product", "qty", "unit_p", "unit_s", "disc_p",
                 "disc_s", "net_p", "net_s", "tax_p", "tax_s", "bits")

    def __init__(self, **columns: list) -> None:
        for name, values in columns.items():
            setattr(self, name, values)


def _convert(cents: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Presentment cents -> shop cents at ``rate`` (millionths), rounded half up."""
    return (cents * rate + _HALF_MICRO) // _MICRO


def _tax(gross: np.ndarray, vat_bp: np.ndarray) -> np.ndarray:
    """VAT included in gross cents: gross - gross / (1 + vat), rounded half up."""
    base = 10_000 + vat_bp
    return gross - (gross * 20_000 + base) // (2 * base)


def _products(book: PriceBook, idx: np.ndarray, n_lines: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct products by popularity, quantities (mostly 1) and spare bits per line slot."""
    width = max(1, int(n_lines.max(initial=1)))
    slots = idx[:, None] * MAX_LINES + np.arange(width, dtype=np.int64)[None, :]
    h = draw_np(book.k_line, slots)
    at = np.searchsorted(book.cum, h & np.uint64(0xFFFFFFFF), side="right").astype(np.int64)
    valid = np.arange(width)[None, :] < n_lines[:, None]
    for k in range(1, width):  # a product appears once per order: step to the next one
        while True:
            dup = (at[:, :k] == at[:, k:k + 1]).any(axis=1) & valid[:, k]
            if not dup.any():
                break
            at[dup, k] = (at[dup, k] + 1) % len(book.sellable)
    fq = field16(h, 2)
    qty = 1 + (fq >= QTY_2) + (fq >= QTY_3)
    return book.sellable[at], np.where(valid, qty, 0), (h >> np.uint64(48)).astype(np.int64)


def compute_chunk(book: PriceBook, tl: Timeline, lo: int, hi: int) -> Chunk:
    """Every number of orders ``lo``..``hi - 1`` that does not depend on the as-of time."""
    idx = np.arange(lo, hi, dtype=np.int64)
    market, n_lines = tl.market[lo:hi].astype(np.int64), tl.n_lines[lo:hi].astype(np.int64)
    h = draw_np(book.k_order, idx)
    f1 = field16(h, 1)
    pct = np.where(f1 < P_DISCOUNT, DISCOUNT_PCTS[f1 % 3], 0)
    product, qty, bits = _products(book, idx, n_lines)
    rate = book.fx[market, tl.day[lo:hi].astype(np.int64)]
    vat = book.vat_bp[market]
    unit_p = book.pres[market[:, None], product] * (qty > 0)
    unit_s = _convert(unit_p, rate[:, None])
    disc_p = (unit_p * qty * pct[:, None] + 50) // 100
    disc_s = _convert(disc_p, rate[:, None])
    net_p, net_s = unit_p * qty - disc_p, unit_s * qty - disc_s
    tax_p, tax_s = _tax(net_p, vat[:, None]), _tax(net_s, vat[:, None])
    sub_p, sub_s = net_p.sum(axis=1), net_s.sum(axis=1)
    pos = (tl.flags[lo:hi] & FLAG_POS) != 0
    ship_p = np.where(pos | (sub_p >= book.free_from[market]), 0, book.fee[market])
    ship_s = _convert(ship_p, rate)
    sums = np.stack([sub_p, sub_s, disc_p.sum(axis=1), disc_s.sum(axis=1),
                     tax_p.sum(axis=1) + _tax(ship_p, vat), tax_s.sum(axis=1) + _tax(ship_s, vat),
                     ship_p, ship_s], axis=1)
    return Chunk(
        created=tl.created_us[lo:hi].tolist(), day=tl.day[lo:hi].tolist(),
        customer=tl.customer[lo:hi].tolist(), market=market.tolist(),
        flags=tl.flags[lo:hi].tolist(), n_lines=n_lines.tolist(),
        events=tl.events[:, lo:hi].T.tolist(), h=h.tolist(),
        click=draw_np(book.k_click, idx).tolist(), rate=rate.tolist(), sums=sums.tolist(),
        product=product.tolist(), qty=qty.tolist(), unit_p=unit_p.tolist(),
        unit_s=unit_s.tolist(), disc_p=disc_p.tolist(), disc_s=disc_s.tolist(),
        net_p=net_p.tolist(), net_s=net_s.tolist(), tax_p=tax_p.tolist(),
        tax_s=tax_s.tolist(), bits=bits.tolist(),
    )
