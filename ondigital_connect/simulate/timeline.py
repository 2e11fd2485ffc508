"""Vectorised order-level scalars: customers, markets, flags, line counts and event times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ondigital_connect.simulate.rng import draw_np, field16, stream_key, unit_np

FLAG_TEST, FLAG_POS, FLAG_DRAFT = 1, 2, 4
FLAG_CANCEL, FLAG_REFUND, FLAG_REFUND2 = 8, 16, 32
EV_UPDATE, EV_FULFIL, EV_CANCEL, EV_REFUND1, EV_REFUND2 = range(5)
DAY = 86_400
US = 1_000_000
_P = 65_536  # probabilities below are compared with 16-bit draws
P_GUEST, P_RETURN, P_POS, P_DRAFT, P_TEST = 0.05, 0.49, 0.03, 0.005, 0.005
P_CANCEL, P_REFUND, P_REFUND2 = 0.02, 0.08, 0.26  # refund among kept, second among multi-line
LINE_COUNT_CDF = (0.52, 0.80, 0.92, 0.97, 1.0)  # 1..5 lines
RETURN_GAP_DAYS = 75.0  # mean gap (in days of average volume) before a customer comes back
_STREAMS = (301, 302, 303, 304, 305)


@dataclass(frozen=True, slots=True)
class Timeline:
    """Per-order scalars by index. ``events`` holds seconds after creation (-1: never)."""

    created_us: np.ndarray  # int64 epoch microseconds, non-decreasing
    day: np.ndarray  # int16 index of the shop-local day from ``start``
    customer: np.ndarray  # int64 customer id (0 = guest checkout)
    market: np.ndarray  # int8 index into the markets
    flags: np.ndarray  # uint8 FLAG_* bits
    n_lines: np.ndarray  # int8
    events: np.ndarray  # int32 (5, n): update, fulfil, cancel, refund 1, refund 2


def _below(field: np.ndarray, p: float) -> np.ndarray:
    """True where a 16-bit draw falls below probability ``p``."""
    return field < int(round(p * _P))


def _customers(seed: int, n: int, guest: np.ndarray, per_day: float) -> np.ndarray:
    """Customer id per order: returning orders point (recency-biased) at an earlier order."""
    idx = np.arange(n, dtype=np.int64)
    h = draw_np(stream_key(seed, _STREAMS[2]), idx)
    returning = _below(field16(h, 3), P_RETURN) & ~guest & (idx > 0)
    u = ((h >> np.uint64(24)) & np.uint64(0xFFFFFF)).astype(np.float64) / 16_777_216.0
    gap = np.floor(-np.log1p(-u) * RETURN_GAP_DAYS * per_day).astype(np.int64)
    target = idx - 1 - gap
    parent = np.where(returning & (target >= 0), target, idx)
    parent = np.where(guest[parent], idx, parent)
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            break
        parent = grand
    return np.where(guest, 0, parent + 1)


def _events(seed: int, n: int, flags: np.ndarray) -> np.ndarray:
    """Seconds after creation of each order's later events (-1 where there is none)."""
    h = draw_np(stream_key(seed, _STREAMS[3]), np.arange(n, dtype=np.int64))
    f = [field16(h, k) for k in range(4)]
    ev = np.full((5, n), -1, dtype=np.int32)
    ev[EV_UPDATE] = 2 + (f[0] % 29)
    cancelled = (flags & FLAG_CANCEL) != 0
    pos = (flags & FLAG_POS) != 0
    fulfil = np.where(pos, 30 + f[1] % 270, DAY + (f[1] * 2 * DAY) // _P)
    ev[EV_FULFIL] = np.where(cancelled, -1, fulfil)
    ev[EV_CANCEL] = np.where(cancelled, 600 + (f[1] * (DAY - 600)) // _P, -1)
    lag = 5 * DAY + np.floor(35 * DAY * (f[2] / _P) ** 1.6).astype(np.int64)
    ev[EV_REFUND1] = np.where((flags & FLAG_REFUND) != 0, lag, -1)
    second = lag + 2 * DAY + (f[3] * 18 * DAY) // _P
    ev[EV_REFUND2] = np.where((flags & FLAG_REFUND2) != 0, second, -1)
    return ev


def _line_counts(h: np.ndarray, fixed: int | None, most: int) -> np.ndarray:
    """Lines per order: mostly one or two, up to five (or the fixed count), at most ``most``."""
    if fixed is not None:
        return np.full(len(h), min(fixed, most), dtype=np.int8)
    u = field16(h, 3) / _P
    count = np.searchsorted(np.array(LINE_COUNT_CDF), u, side="right") + 1
    return np.minimum(count, most).astype(np.int8)


def build_timeline(seed: int, created_s: np.ndarray, day: np.ndarray,
                   market_weights: tuple[float, ...], lines_per_order: int | None,
                   max_lines: int) -> Timeline:
    """Draw every order-level scalar for all orders at once."""
    n = len(created_s)
    idx = np.arange(n, dtype=np.int64)
    ha = draw_np(stream_key(seed, _STREAMS[0]), idx)
    hb = draw_np(stream_key(seed, _STREAMS[1]), idx)
    guest = _below(field16(ha, 0), P_GUEST)
    source = field16(ha, 1)
    flags = np.where(_below(source, P_POS), FLAG_POS, 0)
    flags |= np.where(_below(source, P_POS + P_DRAFT) & ~_below(source, P_POS), FLAG_DRAFT, 0)
    flags |= np.where(_below(field16(ha, 2), P_TEST), FLAG_TEST, 0)
    cancelled = _below(field16(hb, 0), P_CANCEL)
    refunded = ~cancelled & _below(field16(hb, 1), P_REFUND)
    n_lines = _line_counts(hb, lines_per_order, max_lines)
    second = refunded & (n_lines >= 2) & _below(field16(hb, 2), P_REFUND2)
    flags |= np.where(cancelled, FLAG_CANCEL, 0) | np.where(refunded, FLAG_REFUND, 0)
    flags |= np.where(second, FLAG_REFUND2, 0)
    flags = flags.astype(np.uint8)
    per_day = n / max(1, int(day[-1]) + 1) if n else 1.0
    customer = _customers(seed, n, guest, per_day)
    cdf = np.cumsum(market_weights) / sum(market_weights)
    own_market = np.searchsorted(cdf, unit_np(draw_np(stream_key(seed, _STREAMS[4]), idx)),
                                 side="right").clip(0, len(cdf) - 1)
    market = np.where(customer > 0, own_market[np.maximum(customer - 1, 0)], own_market)
    return Timeline(created_s * US, day, customer, market.astype(np.int8), flags, n_lines,
                    _events(seed, n, flags))


def updated_us(tl: Timeline, as_of_us: int) -> np.ndarray:
    """Each order's updated_at (epoch µs) counting only events at or before ``as_of_us``."""
    created = tl.created_us
    out = np.where(created <= as_of_us, created, -1)
    for delta in tl.events:
        t = created + delta.astype(np.int64) * US
        np.maximum(out, np.where((delta >= 0) & (t <= as_of_us), t, -1), out=out)
    return out
