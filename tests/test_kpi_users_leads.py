"""Users from web analytics and CRM leads on the hand-made shop (tests/kpi_shop.py); every
number below is worked out by hand from the rows listed in that file's docstring.

Web analytics in February: 2026-02-01 SE google / cpc 45 users (30 new), SE (direct) 32 users
(12 new); 2026-02-10 NO newsletter / email 18 users (3 new). New users add up: 30 + 12 + 3 =
45. User-days are the daily users summed: 45 + 32 + 18 = 95.

Leads in February (Stockholm dates): L1 on Feb 1 (Paid Search, open), L2 on Feb 2 (created
23:30 UTC on Feb 1; Paid Social, won, 100.00 EUR at Feb 2's 12.0 = 1,200.00 SEK), L3 on Feb 10
(Direct, won, 500.00 SEK). L4 is created 23:30 UTC on Feb 28, so it is a March lead.
February spend is 100.00 (Paid Search) + 115.00 (Paid Social) = 215.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import ondigital_connect
from ondigital_connect.transforms import build
from ondigital_connect.warehouse import DuckDBWarehouse
from tests.kpi_shop import AD_MARKETS, load_shop

D = Decimal
FEB_1, FEB_2, FEB_10, FEB_28 = (dt.date(2026, 2, d) for d in (1, 2, 10, 28))
MAR_1, MAR_31 = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


@pytest.fixture
def shop(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    load_shop(warehouse)
    build(warehouse, reporting_currency="SEK")
    return warehouse


def kpis(shop: DuckDBWarehouse, metrics: str, **kw: object) -> list[list[object]]:
    frame = ondigital_connect.kpis(shop, metrics, date_from=kw.pop("date_from", FEB_1),
                                   date_to=kw.pop("date_to", FEB_28), **kw)
    return frame.values.tolist()


def test_new_users_add_up_and_user_days_are_daily_users_summed(shop: DuckDBWarehouse) -> None:
    assert kpis(shop, "new_users,user_days,sessions") == [[D(45), D(95), D(120)]]
    assert kpis(shop, "new_users,user_days", by="date") == [[FEB_1, D(42), D(77)],
                                                            [FEB_10, D(3), D(18)]]
    assert kpis(shop, "new_users,user_days", by="channel") == [
        ["Direct", D(12), D(32)], ["Email", D(3), D(18)], ["Paid Search", D(30), D(45)]]
    assert kpis(shop, "new_users,user_days", by="market", grain="month") == [
        ["NO", D(3), D(18)], ["SE", D(42), D(77)]]


def test_leads_on_the_created_date_in_the_shops_time_zone(shop: DuckDBWarehouse) -> None:
    assert kpis(shop, "leads,won_leads,lead_win_rate,won_value") == [
        [D(3), D(2), D(2) / D(3), D("1700")]]
    # L2 was created at 23:30 UTC on Feb 1: Feb 2 in Stockholm, at Feb 2's rate (12.0, not 11.5)
    assert kpis(shop, "leads,won_leads,won_value", by="date") == [
        [FEB_1, D(1), D(0), D(0)], [FEB_2, D(1), D(1), D("1200")],
        [FEB_10, D(1), D(1), D("500")]]
    assert kpis(shop, "leads", date_from=MAR_1, date_to=MAR_31) == [[D(1)]]  # L4


def test_cpl_blends_spend_and_leads_on_their_shared_breakdowns(shop: DuckDBWarehouse) -> None:
    assert kpis(shop, "cpl,marketing_cost,leads") == [[D("215") / D(3), D("215"), D(3)]]
    assert kpis(shop, "cpl,marketing_cost,leads", by="channel") == [
        ["Direct", D(0), D(0), D(1)],  # a lead without spend costs nothing
        ["Paid Search", D("100"), D("100"), D(1)],
        ["Paid Social", D("115"), D("115"), D(1)]]
    assert kpis(shop, "leads,won_leads,cpl", by="campaign") == [
        ["(not set)", D(1), D(1), D(0)], ["brand_search", D(1), D(0), D("100")],
        ["spring_sale", D(1), D(1), D("115")]]


def test_leads_by_market_follow_their_campaign(warehouse: DuckDBWarehouse) -> None:
    load_shop(warehouse)
    build(warehouse, reporting_currency="SEK")
    # without a mapping no lead and no spend has a market: all in the empty-market row
    assert kpis(warehouse, "cpl,marketing_cost,leads", by="market", date_to=MAR_31) == [
        [None, D("255") / D(4), D("255"), D(4)]]
    build(warehouse, reporting_currency="SEK", markets=AD_MARKETS)
    # L4 (NO Brand) by the NO_* pattern; L1 (Brand Search) by the SE account its spend uses;
    # L2 (Spring Sale, unmapped account) and L3 (no campaign) stay without a market
    assert kpis(warehouse, "cpl,marketing_cost,leads", by="market", date_to=MAR_31) == [
        ["NO", D("40"), D("40"), D(1)], ["SE", D("100"), D("100"), D(1)],
        [None, D("57.5"), D("115"), D(2)]]


def test_a_won_lead_without_a_rate_is_counted_not_converted_at_1(
    warehouse: DuckDBWarehouse,
) -> None:
    load_shop(warehouse)
    stats = build(warehouse, reporting_currency="NOK")  # no EUR or SEK rate to NOK
    assert (stats.leads, stats.leads_without_rate) == (4, 2)  # L2 and L3
    assert kpis(warehouse, "won_leads,won_value") == [[D(2), D(0)]]
