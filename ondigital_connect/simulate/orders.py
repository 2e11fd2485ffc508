"""Assembles SimOrder values from a chunk's numbers: Decimals, lines, refunds, attribution."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import numpy as np

from ondigital_connect.simulate.amounts import MAX_LINES, Chunk, PriceBook, compute_chunk
from ondigital_connect.simulate.attribution import NO_UTM, CampaignTable
from ondigital_connect.simulate.catalog import FREE_SHIPPING_CENTS, nice_price_cents
from ondigital_connect.simulate.model import (
    Campaign,
    Market,
    SimLine,
    SimOrder,
    SimProduct,
    SimRefund,
    SimRefundLine,
)
from ondigital_connect.simulate.rng import stream_key
from ondigital_connect.simulate.timeline import FLAG_DRAFT, FLAG_POS, FLAG_TEST, Timeline

US = 1_000_000
UTC = dt.UTC
ORDER_ID_BASE = 5_000_000_000
LINE_ID_BASE = 12_000_000_000
REFUND_ID_BASE = 6_000_000_000
REFUND_LINE_ID_BASE = 13_000_000_000
ATTRIBUTION_DELAY_US = 6 * 3600 * US
P_FULL_REFUND = 39_322  # of 65536: ~60 % of single refunds return everything
P_REFUND_SHIPPING = 19_661  # of 65536: ~30 % of partial refunds include shipping
REFUND_NOTES = ("Returned: wrong size", "Returned: changed mind", "Damaged in transit", None)
CANCEL_REASONS = ("CUSTOMER", "CUSTOMER", "INVENTORY", "FRAUD", "DECLINED")
CHUNK = 2_048
BLOCK = 16  # orders computed together for single-order lookups (the last block is kept)
_CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_DEC: dict[int, Decimal] = {}
_DEC_LIMIT = 8_192
_fromtimestamp = dt.datetime.fromtimestamp


def money(cents: int) -> Decimal:
    """Integer cents -> Decimal with exactly two decimals (small cache of frequent values)."""
    d = _DEC.get(cents)
    if d is None:
        d = Decimal(cents) * _CENT  # exponent -2, also for zero
        if len(_DEC) < _DEC_LIMIT:
            _DEC[cents] = d
    return d


def tax_of(gross: int, vat_bp: int) -> int:
    """VAT included in a gross amount (cents): gross - gross / (1 + vat), rounded half up."""
    base = 10_000 + vat_bp
    return gross - (gross * 20_000 + base) // (2 * base)


class OrderFactory:
    """Builds orders chunk by chunk: numbers with numpy, then values in plain Python."""

    def __init__(self, seed: int, shop_currency: str, markets: tuple[Market, ...],
                 catalog: tuple[tuple[SimProduct, ...], list[int], list[float]],
                 campaigns: tuple[Campaign, ...], fx_table: np.ndarray) -> None:
        products, base_sek, weights = catalog
        self.shop_currency = shop_currency
        sellable = [i for i, w in enumerate(weights) if w > 0]
        cum = np.cumsum([weights[i] for i in sellable])
        pres = [[nice_price_cents(sek, m.currency) for sek in base_sek] for m in markets]
        self._book = PriceBook(
            k_order=stream_key(seed, 401), k_line=stream_key(seed, 402),
            k_click=stream_key(seed, 403),
            cum=np.minimum(cum / cum[-1] * 2.0**32, 2.0**32 - 1).astype(np.uint64),
            sellable=np.array(sellable, dtype=np.int64), pres=np.array(pres, dtype=np.int64),
            fx=fx_table, vat_bp=np.array([int(m.vat_rate * 10_000) for m in markets]),
            fee=np.array([int(m.shipping_fee_presentment * 100) for m in markets]),
            free_from=np.array([FREE_SHIPPING_CENTS[m.code] for m in markets]),
        )
        self._pres_dec = [[money(c) for c in row] for row in pres]
        self._prod = [(p.product_id, p.variant_id, p.sku, p.title, p.category, p.unit_cost_shop)
                      for p in products]
        self._markets = [(m.code, m.currency, int(m.vat_rate * 10_000)) for m in markets]
        self._fx_dec: dict[int, Decimal] = {}
        self._utm = CampaignTable(campaigns)
        self._block: tuple[int, Chunk] | None = None

    def build_one(self, tl: Timeline, i: int, as_us: int) -> SimOrder | None:
        """Order ``i`` as held at ``as_us``, None if created later (neighbours are cached)."""
        lo = i - i % BLOCK
        block = self._block
        if block is None or block[0] != lo:
            block = self._block = (lo, compute_chunk(self._book, tl, lo,
                                                     min(lo + BLOCK, len(tl.created_us))))
        chunk = block[1]
        if chunk.created[i - lo] > as_us:
            return None
        return self._build(i, i - lo, chunk, as_us)

    def iter_range(self, tl: Timeline, lo: int, hi: int, as_us: int) -> Iterator[SimOrder]:
        """Orders ``lo``..``hi - 1`` as held at ``as_us`` (stops at one created later)."""
        for start in range(lo, hi, CHUNK):
            stop = min(hi, start + CHUNK)
            chunk = compute_chunk(self._book, tl, start, stop)
            created = chunk.created
            for j in range(stop - start):
                if created[j] > as_us:
                    return
                yield self._build(start + j, j, chunk, as_us)

    def _build(self, i: int, j: int, c: Chunk, as_us: int) -> SimOrder:
        """Order ``i`` (row ``j`` of the chunk) as held at ``as_us``."""
        created_us, flags, cust, h, rate = (c.created[j], c.flags[j], c.customer[j], c.h[j],
                                            c.rate[j])
        _, ev_ful, ev_can, ev_r1, _ = c.events[j]
        code, currency, vat_bp = self._markets[c.market[j]]
        sums = c.sums[j]
        refunds: tuple[SimRefund, ...] = ()
        ref_p = ref_s = 0
        if ev_r1 >= 0 and created_us + ev_r1 * US <= as_us:
            refunds, ref_p, ref_s = self._refunds(i, j, c, as_us, vat_bp)
        cancelled = ev_can >= 0 and created_us + ev_can * US <= as_us
        fulfilled = ev_ful >= 0 and created_us + ev_ful * US <= as_us
        if cancelled:
            status = "VOIDED"
        elif refunds:
            status = "REFUNDED" if ref_p >= sums[0] + sums[6] else "PARTIALLY_REFUNDED"
        else:
            status = "PAID"
        created = _fromtimestamp(created_us // US, UTC)
        web = not flags & (FLAG_POS | FLAG_DRAFT)
        return SimOrder(
            i, ORDER_ID_BASE + i, f"#{1001 + i}", created, created,
            _fromtimestamp(_latest(created_us, c.events[j], as_us) // US, UTC),
            _fromtimestamp(created_us // US + ev_can, UTC) if cancelled else None,
            CANCEL_REASONS[(h >> 40) % 5] if cancelled else None, bool(flags & FLAG_TEST),
            "web" if web else "pos" if flags & FLAG_POS else "shopify_draft_order",
            code, self.shop_currency, currency, self._fx_decimal(rate),
            self._lines(i, j, c, rate == US), refunds, *_amounts(sums, ref_p, ref_s), status,
            "FULFILLED" if fulfilled else "UNFULFILLED",
            cust or None, f"c{cust}@example.test" if cust else None, code,
            *(self._utm.pick(h, c.click[j]) if web else NO_UTM),
            as_us - created_us >= ATTRIBUTION_DELAY_US,
        )

    def _fx_decimal(self, rate: int) -> Decimal:
        """A rate in millionths as Decimal (a few thousand distinct values, cached)."""
        d = self._fx_dec.get(rate)
        if d is None:
            d = self._fx_dec[rate] = Decimal(rate).scaleb(-6)
        return d

    def _lines(self, i: int, j: int, c: Chunk, same: bool) -> tuple[SimLine, ...]:
        """The order's lines; ``same``: shop and presentment currency coincide."""
        prod, pres_dec = self._prod, self._pres_dec[c.market[j]]
        product, qty, disc_p, tax_p = c.product[j], c.qty[j], c.disc_p[j], c.tax_p[j]
        base = LINE_ID_BASE + i * MAX_LINES
        out = []
        for k in range(c.n_lines[j]):
            p = product[k]
            pid, vid, sku, title, category, cost = prod[p]
            unit_pd = pres_dec[p]
            dp = disc_p[k]
            dpd = money(dp) if dp else ZERO
            tpd = money(tax_p[k])
            if same:
                out.append(SimLine(base + k, pid, vid, sku, title, category, qty[k], unit_pd,
                                   unit_pd, dpd, dpd, tpd, tpd, cost))
            else:
                ds = c.disc_s[j][k]
                out.append(SimLine(base + k, pid, vid, sku, title, category, qty[k],
                                   Decimal(c.unit_s[j][k]) * _CENT, unit_pd,
                                   money(ds) if ds else ZERO, dpd, money(c.tax_s[j][k]), tpd,
                                   cost))
        return tuple(out)

    def _refunds(self, i: int, j: int, c: Chunk, as_us: int, vat_bp: int
                 ) -> tuple[tuple[SimRefund, ...], int, int]:
        """Refunds made at or before ``as_us`` (one, occasionally two) and their totals p/s."""
        h, created_us, lags = c.h[j], c.created[j], c.events[j][3:]
        data = [(k, LINE_ID_BASE + i * MAX_LINES + k, self._prod[c.product[j][k]][2],
                 c.qty[j][k], c.net_p[j][k], c.net_s[j][k], c.bits[j][k])
                for k in range(c.n_lines[j])]
        if lags[1] >= 0:  # first the first line, later the rest with shipping
            plan = [([(d, d[3]) for d in data[:1]], False), ([(d, d[3]) for d in data[1:]], True)]
        elif (h >> 24) & 0xFFFF < P_FULL_REFUND:
            plan = [([(d, d[3]) for d in data], True)]
        else:
            plan = [(_partial(data), (h >> 44) & 0xFFFF < P_REFUND_SHIPPING)]
        out: list[SimRefund] = []
        total_p = total_s = 0
        shipping = (c.sums[j][6], c.sums[j][7])
        for r, (items, with_shipping) in enumerate(plan):
            at = created_us + lags[r] * US
            if lags[r] < 0 or at > as_us:
                break
            refund, cents_p, cents_s = _refund(
                i, r, at, items, shipping if with_shipping else (0, 0), vat_bp,
                REFUND_NOTES[(h >> (56 + 2 * r)) & 3])
            out.append(refund)
            total_p += cents_p
            total_s += cents_s
        return tuple(out), total_p, total_s


def _partial(data: list[tuple[int, ...]]) -> list[tuple[tuple[int, ...], int]]:
    """A partial return: some lines (by their draw bits), some units of multi-unit lines."""
    picked = [d for d in data if d[6] & 1] or data[:1]
    if len(picked) == len(data) > 1:
        picked = picked[:-1]
    single = len(data) == 1
    return [(d, 1 + (d[6] >> 2) % (d[3] - 1) if d[3] > 1 and (single or d[6] & 2) else d[3])
            for d in picked]


def _refund(i: int, r: int, at_us: int, items: list[tuple[tuple[int, ...], int]],
            shipping: tuple[int, int], vat_bp: int, note: str | None
            ) -> tuple[SimRefund, int, int]:
    """One refund: its lines' ex-VAT subtotals and VAT, plus any shipping refunded."""
    lines = []
    total_p, total_s = shipping
    for (k, line_id, sku, qty, net_p, net_s, _bits), q in items:
        gross_p = (net_p * q * 2 + qty) // (2 * qty)
        gross_s = (net_s * q * 2 + qty) // (2 * qty)
        tax_p, tax_s = tax_of(gross_p, vat_bp), tax_of(gross_s, vat_bp)
        total_p += gross_p
        total_s += gross_s
        lines.append(SimRefundLine(
            REFUND_LINE_ID_BASE + (i * MAX_LINES + k) * 2 + r, line_id, sku, q,
            money(gross_s - tax_s), money(gross_p - tax_p), money(tax_s), money(tax_p)))
    refund = SimRefund(
        REFUND_ID_BASE + i * 2 + r, _fromtimestamp(at_us // US, UTC), tuple(lines),
        money(shipping[1]), money(shipping[0]), money(total_s), money(total_p), note)
    return refund, total_p, total_s


def _latest(created_us: int, events: list[int], as_us: int) -> int:
    """updated_at: the latest of creation and the events (seconds after it) up to ``as_us``."""
    updated = created_us
    for ev in events:
        t = created_us + ev * US
        if ev >= 0 and updated < t <= as_us:
            updated = t
    return updated


def _amounts(sums: list[int], ref_p: int, ref_s: int) -> tuple[Decimal, ...]:
    """The order's money fields in SimOrder's order, shop before presentment."""
    sub_p, sub_s, disc_p, disc_s, tax_p, tax_s, ship_p, ship_s = sums
    out: list[Decimal] = []
    for cents_s, cents_p in ((sub_s, sub_p), (disc_s, disc_p), (ship_s, ship_p), (tax_s, tax_p),
                             (sub_s + ship_s, sub_p + ship_p), (ref_s, ref_p)):
        dec_p = money(cents_p)
        out += (dec_p if cents_s == cents_p else money(cents_s), dec_p)
    return tuple(out)
