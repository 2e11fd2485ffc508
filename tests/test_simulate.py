"""Tests of the seeded simulated business: determinism, as-of semantics, money and realism."""

from __future__ import annotations

import collections
import datetime as dt
import statistics
import time
import tracemalloc
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import psutil
import pytest

from ondigital_connect.simulate import SimOrder, SimulatedBusiness

CENT = Decimal("0.01")
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(scope="module")
def biz() -> SimulatedBusiness:
    return SimulatedBusiness(seed=7, orders=12_000)


@pytest.fixture(scope="module")
def all_orders(biz: SimulatedBusiness) -> list[SimOrder]:
    return list(biz.orders())


@pytest.fixture(scope="module")
def big() -> SimulatedBusiness:
    return SimulatedBusiness(seed=11, orders=200_000)


def _local_dates(b: SimulatedBusiness, created_us: np.ndarray) -> list[dt.date]:
    zone = ZoneInfo(b.timezone)
    return [dt.datetime.fromtimestamp(int(us) // 1_000_000, zone).date() for us in created_us]


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _vat(b: SimulatedBusiness, market: str) -> Decimal:
    return next(m.vat_rate for m in b.markets if m.code == market)


# -- determinism and identity ----------------------------------------------------------------
def test_same_seed_same_business_different_seed_different() -> None:
    a, b, c = (SimulatedBusiness(seed=s, orders=3_000) for s in (3, 3, 4))
    assert list(a.orders(0, 400)) == list(b.orders(0, 400))
    assert a.products == b.products
    assert list(a.customers())[:50] == list(b.customers())[:50]
    assert np.array_equal(a.updated_at_us(), b.updated_at_us())
    first_a = [(o.created_at, o.total_shop, o.lines[0].sku) for o in a.orders(0, 200)]
    first_c = [(o.created_at, o.total_shop, o.lines[0].sku) for o in c.orders(0, 200)]
    assert sum(x != y for x, y in zip(first_a, first_c, strict=True)) > 150
    assert not np.array_equal(a.created_at_us(), c.created_at_us())


def test_order_i_equals_ith_of_iteration(biz: SimulatedBusiness, all_orders: list[SimOrder]
                                         ) -> None:
    assert len(all_orders) == biz.n_orders
    assert [o.index for o in all_orders] == list(range(biz.n_orders))
    for i in (0, 1, 15, 16, 2047, 2048, 5_000, 11_999, 7_777, 3):  # block edges, out of order
        assert biz.order(i) == all_orders[i]
    assert list(biz.orders(2_040, 2_060)) == all_orders[2_040:2_060]
    fresh = SimulatedBusiness(seed=7, orders=12_000)  # alone, without neighbours computed
    assert fresh.order(9_001) == all_orders[9_001]
    with pytest.raises(IndexError):
        biz.order(biz.n_orders)


def test_ids_are_unique_and_follow_the_scheme(all_orders: list[SimOrder]) -> None:
    assert all(o.order_id == 5_000_000_000 + o.index and o.name == f"#{1001 + o.index}"
               for o in all_orders)
    line_ids = [ln.line_id for o in all_orders for ln in o.lines]
    refund_ids = [r.refund_id for o in all_orders for r in o.refunds]
    refund_line_ids = [rl.refund_line_id for o in all_orders for r in o.refunds for rl in r.lines]
    for ids in (line_ids, refund_ids, refund_line_ids):
        assert len(ids) == len(set(ids)) > 0
    own = {ln.line_id for o in all_orders for ln in o.lines}
    assert all(rl.line_id in own for o in all_orders for r in o.refunds for rl in r.lines)


# -- time ------------------------------------------------------------------------------------
def test_created_at_monotone_within_window(biz: SimulatedBusiness,
                                           all_orders: list[SimOrder]) -> None:
    created = biz.created_at_us()
    assert created.dtype == np.int64 and len(created) == biz.n_orders
    assert (np.diff(created) >= 0).all()
    dates = _local_dates(biz, created[[0, -1]])
    assert biz.start <= dates[0] and dates[1] <= biz.end
    assert biz.start == biz.end - dt.timedelta(days=729)
    now_local = biz.now.astimezone(ZoneInfo(biz.timezone))
    assert now_local.date() == biz.end and now_local.hour == 23
    assert created[-1] <= biz.now.timestamp() * 1e6
    assert all(int(o.created_at.timestamp()) * 1_000_000 == created[o.index]
               for o in all_orders[::37])
    with pytest.raises(ValueError, match="read-only"):
        created[0] = 0


def test_updated_at_us_matches_orders(biz: SimulatedBusiness, all_orders: list[SimOrder]
                                      ) -> None:
    updated = biz.updated_at_us()
    assert [int(o.updated_at.timestamp() * 1_000_000) for o in all_orders] == updated.tolist()
    as_of = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    then = biz.updated_at_us(as_of)
    past = list(biz.orders(as_of=as_of))
    assert 0 < len(past) < biz.n_orders
    assert [int(o.updated_at.timestamp() * 1_000_000) for o in past] == then[: len(past)].tolist()
    assert (then[len(past):] == -1).all()
    assert (then <= as_of.timestamp() * 1e6).all()
    assert (updated >= then).all() and (updated > then).any()


def test_as_of_refund_cancel_and_creation(biz: SimulatedBusiness,
                                          all_orders: list[SimOrder]) -> None:
    o = next(o for o in all_orders if o.refunds and o.refunds[0].lines)
    refund_at = o.refunds[0].created_at
    before = biz.order(o.index, as_of=refund_at - SECOND)
    assert before is not None and before.refunds == () and before.financial_status == "PAID"
    assert before.refunded_shop == Decimal("0.00") and before.updated_at < refund_at
    at = biz.order(o.index, as_of=refund_at)
    assert at is not None and at.refunds[0] == o.refunds[0] and at.updated_at == refund_at
    c = next(o for o in all_orders if o.cancelled_at is not None)
    assert c.financial_status == "VOIDED" and not c.refunds and c.fulfillment_status == \
        "UNFULFILLED"
    assert c.created_at < c.cancelled_at <= c.created_at + dt.timedelta(days=1)
    early = biz.order(c.index, as_of=c.cancelled_at - SECOND)
    assert early is not None and early.cancelled_at is None and early.financial_status == "PAID"
    assert biz.order(o.index, as_of=o.created_at - SECOND) is None
    fresh = biz.order(o.index, as_of=o.created_at)
    assert fresh is not None and fresh.fulfillment_status == "UNFULFILLED"
    assert fresh.updated_at == o.created_at and not fresh.attribution_ready
    assert biz.order(o.index, as_of=o.created_at + dt.timedelta(hours=6)).attribution_ready
    with pytest.raises(ValueError, match="timezone"):
        biz.order(0, as_of=dt.datetime(2025, 1, 1))


def test_updated_at_is_the_latest_event(all_orders: list[SimOrder], biz: SimulatedBusiness
                                        ) -> None:
    for o in all_orders:
        events = [r.created_at for r in o.refunds]
        if o.cancelled_at:
            events.append(o.cancelled_at)
        assert o.updated_at >= max(events, default=o.created_at)
        assert o.updated_at > o.created_at  # fulfilled or at least touched seconds later
    settled = biz.now - dt.timedelta(days=3)
    shipped = [o for o in all_orders if o.source_name == "web" and not o.refunds
               and o.cancelled_at is None and o.created_at < settled]
    assert all(o.fulfillment_status == "FULFILLED" for o in shipped)
    lags = [(o.updated_at - o.created_at) / dt.timedelta(days=1) for o in shipped]
    assert min(lags) >= 1 and max(lags) <= 3 and statistics.median(lags) > 1.5
    recent = [o for o in all_orders if o.created_at > biz.now - dt.timedelta(hours=20)
              and o.source_name == "web"]
    assert recent and all(o.fulfillment_status == "UNFULFILLED" for o in recent)


# -- money -----------------------------------------------------------------------------------
def test_amount_invariants(biz: SimulatedBusiness, all_orders: list[SimOrder]) -> None:
    zone = ZoneInfo(biz.timezone)
    for o in all_orders[::3]:
        fx = o.fx_rate
        assert fx == biz.fx_rate(o.presentment_currency, o.created_at.astimezone(zone).date())
        vat = _vat(biz, o.market)
        for side in ("shop", "presentment"):
            lines = o.lines
            gross = sum(getattr(ln, f"unit_price_{side}") * ln.quantity for ln in lines)
            disc = sum(getattr(ln, f"discount_{side}") for ln in lines)
            assert getattr(o, f"discounts_{side}") == disc
            assert getattr(o, f"subtotal_{side}") == gross - disc
            ship = getattr(o, f"shipping_{side}")
            assert getattr(o, f"total_{side}") == gross - disc + ship
            line_tax = 0
            for ln in lines:
                unit, discount = getattr(ln, f"unit_price_{side}"), getattr(ln, f"discount_{side}")
                net = unit * ln.quantity - discount
                assert getattr(ln, f"tax_{side}") == net - _round(net / (1 + vat))
                line_tax += getattr(ln, f"tax_{side}")
            assert getattr(o, f"tax_{side}") == line_tax + ship - _round(ship / (1 + vat))
            assert getattr(o, f"refunded_{side}") == sum(getattr(r, f"total_{side}")
                                                         for r in o.refunds)
        for ln in o.lines:
            assert ln.unit_price_shop == _round(ln.unit_price_presentment * fx)
            assert ln.discount_shop == _round(ln.discount_presentment * fx)
        assert o.shipping_shop == _round(o.shipping_presentment * fx)
        assert abs(o.total_shop - o.total_presentment * fx) <= CENT * (2 * len(o.lines) + 1)
        for amount in (o.total_shop, o.total_presentment, o.tax_shop, o.refunded_shop,
                       o.discounts_presentment, *(ln.tax_shop for ln in o.lines)):
            assert isinstance(amount, Decimal) and amount.as_tuple().exponent == -2


def test_refund_consistency_and_status(all_orders: list[SimOrder]) -> None:
    refunded = [o for o in all_orders if o.refunds]
    statuses = collections.Counter(o.financial_status for o in refunded)
    assert statuses["REFUNDED"] > 0 and statuses["PARTIALLY_REFUNDED"] > 0
    for o in refunded:
        by_line = {ln.line_id: ln for ln in o.lines}
        for r in o.refunds:
            for side in ("shop", "presentment"):
                goods = sum(getattr(rl, f"subtotal_{side}") + getattr(rl, f"tax_{side}")
                            for rl in r.lines)
                assert getattr(r, f"total_{side}") == goods + getattr(r, f"shipping_{side}")
            assert all(0 < rl.quantity <= by_line[rl.line_id].quantity for rl in r.lines)
        units = collections.Counter()
        for r in o.refunds:
            units.update({rl.line_id: rl.quantity for rl in r.lines})
        assert all(units[k] <= by_line[k].quantity for k in units)
        assert o.refunded_shop <= o.total_shop and o.refunded_presentment <= o.total_presentment
        full = o.refunded_presentment == o.total_presentment
        assert o.financial_status == ("REFUNDED" if full else "PARTIALLY_REFUNDED")
        if full:
            assert o.refunded_shop == o.total_shop
    assert any(len(r.lines) < len(o.lines) or any(rl.quantity < by.quantity
               for rl in r.lines for by in o.lines if by.line_id == rl.line_id)
               for o in refunded for r in o.refunds)
    assert any(r.shipping_shop > 0 for o in refunded for r in o.refunds)


def test_fx_rates(biz: SimulatedBusiness) -> None:
    day = dt.date(2025, 6, 1)
    assert biz.fx_rate("SEK", day) == 1
    for cur, level in (("NOK", 0.98), ("DKK", 1.55), ("EUR", 11.5)):
        rates = [float(biz.fx_rate(cur, day + dt.timedelta(days=k))) for k in range(365)]
        assert all(abs(r / level - 1) < 0.05 for r in rates)
        steps = [abs(b / a - 1) for a, b in zip(rates, rates[1:], strict=False)]
        assert max(steps) < 0.01 and len(set(rates)) > 300
    assert biz.fx_rate("EUR", day) == SimulatedBusiness(seed=99, orders=10).fx_rate("EUR", day)


# -- realism ---------------------------------------------------------------------------------
def test_customers_return(big: SimulatedBusiness) -> None:
    ids = big.customer_ids()
    idx = np.arange(len(ids))
    guest = ids == 0
    returning = ~guest & (ids != idx + 1)
    assert 0.35 <= returning.mean() <= 0.45
    assert 0.03 <= guest.mean() <= 0.07
    assert (ids[~guest] <= idx[~guest] + 1).all()  # a customer exists from their first order
    assert (ids[ids[~guest] - 1] == ids[~guest]).all()  # ... which carries their own id
    created = big.created_at_us()
    order_of = np.argsort(ids, kind="stable")
    same = ids[order_of][1:] == ids[order_of][:-1]
    gaps = (created[order_of][1:] - created[order_of][:-1])[same & (ids[order_of][1:] > 0)]
    assert np.median(gaps) / 86_400e6 < 90  # recency-biased: most come back within months


def test_customer_api(biz: SimulatedBusiness, all_orders: list[SimOrder]) -> None:
    by_customer: dict[int, list[SimOrder]] = collections.defaultdict(list)
    for o in all_orders:
        if o.customer_id is not None:
            by_customer[o.customer_id].append(o)
    customers = list(biz.customers())
    assert [c.customer_id for c in customers] == sorted(by_customer)
    for c in customers[::25]:
        mine = by_customer[c.customer_id]
        assert c.number_of_orders == len(mine) and c.created_at == mine[0].created_at
        assert c.email == f"c{c.customer_id}@example.test" == mine[0].customer_email
        assert c.country_code == mine[0].country_code == mine[-1].country_code
        assert biz.customer(c.customer_id) == c
    loyal = max(by_customer.values(), key=len)
    cid, middle = loyal[0].customer_id, loyal[len(loyal) // 2]
    then = biz.customer(cid, as_of=middle.created_at)
    assert then is not None and then.number_of_orders == len(loyal) // 2 + 1
    assert then.updated_at == middle.created_at
    assert biz.customer(cid, as_of=loyal[0].created_at - SECOND) is None
    assert biz.customer(0) is None and biz.customer(biz.n_orders + 1) is None
    returning = next(o for o in all_orders if o.customer_id and o.customer_id != o.index + 1)
    assert biz.customer(returning.index + 1) is None  # not a first order: not an id


def test_market_shares(biz: SimulatedBusiness, all_orders: list[SimOrder]) -> None:
    seen = collections.Counter(o.market for o in all_orders)
    shares = {code: count / len(all_orders) for code, count in seen.items()}
    assert 0.5 < shares["SE"] < 0.6 and shares["SE"] == max(shares.values())
    assert 0.17 < shares["NO"] < 0.23 and 0.1 < shares["DK"] < 0.16
    assert 0.09 < shares["FI"] < 0.15
    currencies = {(m.code, m.currency, m.vat_rate) for m in biz.markets}
    assert currencies == {("SE", "SEK", Decimal("0.25")), ("NO", "NOK", Decimal("0.25")),
                          ("DK", "DKK", Decimal("0.25")), ("FI", "EUR", Decimal("0.255"))}
    currency_of = {m.code: m.currency for m in biz.markets}
    assert all(o.presentment_currency == currency_of[o.market] for o in all_orders)
    assert all(o.country_code == o.market and o.shop_currency == "SEK" for o in all_orders)
    assert all((o.fx_rate == 1) == (o.market == "SE") for o in all_orders)


def test_weekday_season_and_hour_patterns(big: SimulatedBusiness) -> None:
    zone = ZoneInfo(big.timezone)
    local = [dt.datetime.fromtimestamp(int(us) // 1_000_000, zone)
             for us in big.created_at_us()[::4]]
    per_day = collections.Counter(t.date() for t in local)
    weekday = collections.Counter(t.weekday() for t in local)
    assert min(weekday, key=weekday.__getitem__) == 5  # Saturday
    midweek = statistics.mean(weekday[d] for d in (1, 2, 3, 4))
    assert weekday[6] > 1.1 * midweek and weekday[0] > 1.1 * midweek

    def mean_of(start: dt.date, days: int) -> float:
        return statistics.mean(per_day[start + dt.timedelta(days=k)] for k in range(days))

    october = mean_of(dt.date(2025, 10, 1), 31)
    assert per_day[dt.date(2025, 11, 28)] > 2.5 * october  # Black Friday
    assert mean_of(dt.date(2025, 12, 1), 20) > 1.3 * october
    assert mean_of(dt.date(2025, 7, 1), 31) < 0.85 * mean_of(dt.date(2025, 5, 1), 31)
    assert mean_of(dt.date(2026, 10, 1), 31) > 1.1 * mean_of(dt.date(2025, 10, 1), 31)  # growth
    hours = collections.Counter(t.hour for t in local)
    assert sum(hours[h] for h in (19, 20, 21, 22)) / len(local) > 0.25
    assert hours[20] > 3 * hours[8] and hours[4] < hours[12] / 5


def test_refund_and_cancel_rates_and_lags(big: SimulatedBusiness) -> None:
    sample = list(big.orders(50_000, 56_000))
    refunded = [o for o in sample if o.refunds]
    assert 0.06 < len(refunded) / len(sample) < 0.10
    assert 0.004 < sum(len(o.refunds) == 2 for o in sample) / len(sample) < 0.02
    lags = [(o.refunds[0].created_at - o.created_at) / dt.timedelta(days=1) for o in refunded]
    assert min(lags) >= 5 and max(lags) <= 40
    assert 0.2 < np.mean(np.array(lags) >= 21) < 0.6
    second = [o for o in refunded if len(o.refunds) == 2]
    assert all(o.refunds[1].created_at > o.refunds[0].created_at for o in second)
    cancelled = [o for o in sample if o.cancelled_at is not None]
    assert 0.01 < len(cancelled) / len(sample) < 0.03
    assert all(o.financial_status == "VOIDED" and o.refunded_shop == 0 for o in cancelled)


def test_lines_discounts_and_channels(all_orders: list[SimOrder]) -> None:
    n = len(all_orders)
    counts = collections.Counter(len(o.lines) for o in all_orders)
    assert set(counts) <= {1, 2, 3, 4, 5} and counts[1] > counts[2] > counts[3] > counts[5] > 0
    assert (counts[1] + counts[2]) / n > 0.7
    quantities = collections.Counter(ln.quantity for o in all_orders for ln in o.lines)
    assert quantities[1] / sum(quantities.values()) > 0.8
    assert all(len({ln.variant_id for ln in o.lines}) == len(o.lines) for o in all_orders)
    discounted = [o for o in all_orders if o.discounts_shop > 0]
    assert 0.16 < len(discounted) / n < 0.24
    pcts = {round(float(ln.discount_presentment / (ln.unit_price_presentment * ln.quantity)), 2)
            for o in discounted for ln in o.lines}
    assert pcts <= {0.1, 0.15, 0.2} and len(pcts) == 3
    assert 0.001 < sum(o.test for o in all_orders) / n < 0.01
    pos = [o for o in all_orders if o.source_name == "pos"]
    assert 0.015 < len(pos) / n < 0.045
    assert all(o.utm_source is None and o.landing_page is None and o.shipping_shop == 0
               for o in pos)
    web = [o for o in all_orders if o.source_name == "web"]
    free = [o.subtotal_presentment >= 599 for o in web if o.market == "SE"]
    assert any(free) and not all(free)
    assert all((o.shipping_presentment == 0) == (o.subtotal_presentment >= 599)
               for o in web if o.market == "SE")


def test_attribution(biz: SimulatedBusiness, all_orders: list[SimOrder]) -> None:
    web = [o for o in all_orders if o.source_name == "web"]
    sources = collections.Counter((o.utm_source, o.utm_medium) for o in web)
    assert sources[("google", "cpc")] > sources[("bing", "cpc")] > 0
    assert sources[(None, None)] / len(web) > 0.25  # organic and direct carry no UTMs
    clicks = {"google": "gclid", "facebook": "fbclid", "instagram": "fbclid",
              "tiktok": "ttclid", "bing": "msclkid"}
    for o in web:
        assert o.landing_page.startswith("https://demo-shop.example/")
        query = parse_qs(urlsplit(o.landing_page).query)
        if o.utm_source is None:
            assert query == {}
            assert o.referrer in (None, "https://www.google.com/")
            continue
        assert query["utm_source"] == [o.utm_source] and query["utm_medium"] == [o.utm_medium]
        assert query["utm_campaign"] == [o.utm_campaign]
        param = clicks.get(o.utm_source) if o.utm_medium in ("cpc", "paid_social") else None
        assert set(query) - {"utm_source", "utm_medium", "utm_campaign", "utm_content",
                             "utm_term"} == ({param} if param else set())
        if o.utm_medium == "email":
            assert o.referrer is None
    organic = [o for o in web if o.referrer == "https://www.google.com/" and not o.utm_source]
    direct = [o for o in web if o.referrer is None and not o.utm_source]
    assert organic and direct
    last = biz.order(biz.n_orders - 1)
    assert last is not None and not last.attribution_ready  # created hours before now
    assert sum(not o.attribution_ready for o in all_orders) < 0.01 * len(all_orders)


def test_products_and_inventory(biz: SimulatedBusiness) -> None:
    products = biz.products
    assert len(products) == 240 and len({p.variant_id for p in products}) == 240
    assert 6 <= len({p.category for p in products}) <= 10 and len({p.brand for p in products}) > 3
    for p in products:
        assert Decimal(99) <= p.price_shop <= Decimal(2999)
        ex_vat = p.price_shop / Decimal("1.25")
        assert Decimal("0.29") * ex_vat <= p.unit_cost_shop <= Decimal("0.61") * ex_vat
    levels = list(biz.inventory_levels())
    assert len(levels) == len(products) * len(biz.locations) == 480
    on_hand = collections.Counter()
    for level in levels:
        assert 0 <= level.available <= level.on_hand
        on_hand[level.variant_id] += level.on_hand
    assert all(on_hand[p.variant_id] == p.stock for p in products)
    sold = collections.Counter(ln.variant_id for o in biz.orders(0, 3_000) for ln in o.lines)
    top = sold.most_common(10)
    assert top[0][1] > 5 * statistics.mean(sold.values())  # popularity is skewed
    drafts = {p.variant_id for p in products if p.status == "DRAFT"}
    assert not drafts & set(sold)


def test_lines_per_order_parameter() -> None:
    b = SimulatedBusiness(orders=500, lines_per_order=3, n_products=40, n_locations=1)
    assert all(len(o.lines) == 3 for o in b.orders())
    assert len(b.products) == 40 and len(list(b.inventory_levels())) == 40
    with pytest.raises(ValueError, match="lines_per_order"):
        SimulatedBusiness(orders=10, lines_per_order=9)


# -- scale -----------------------------------------------------------------------------------
def test_iteration_memory_does_not_grow() -> None:
    big = SimulatedBusiness(seed=5, orders=200_000, lines_per_order=1)
    process = psutil.Process()
    rss_before = process.memory_info().rss
    rss_peak = rss_before
    count = 0
    for o in big.orders():
        count += 1
        if o.index == big.n_orders - 1_000:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        if o.index % 25_000 == 0:
            rss_peak = max(rss_peak, process.memory_info().rss)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == big.n_orders
    assert current - base < 1_000_000  # nothing retained per order
    assert peak - base < 16_000_000  # a chunk at a time
    assert rss_peak - rss_before < 60_000_000


def test_updated_at_us_for_a_million_orders_is_fast() -> None:
    b = SimulatedBusiness(orders=1_000_000)
    start = time.perf_counter()
    updated = b.updated_at_us(b.now - dt.timedelta(days=30))
    assert time.perf_counter() - start < 1.0
    assert len(updated) == 1_000_000 and updated.dtype == np.int64
    assert (updated[b.created_at_us() > (b.now - dt.timedelta(days=30)).timestamp() * 1e6]
            == -1).all()
