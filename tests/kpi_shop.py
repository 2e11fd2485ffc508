"""A hand-made shop for the KPI tests: every number in them is worked out by hand.

The shop sells in SEK with prices including 25 % VAT and reports in SEK.
- A: customer c1, 2026-01-10, landing page with a gclid. One line: 2 x 125.00, discount 25.00,
  VAT 45.00 (a fifth of the discounted 225.00). Ex VAT the line's rate is 45 / 180 = 25 %:
  gross 250 / 1.25 = 200.00, discount 25 / 1.25 = 20.00, net 180.00.
- B: c1 again, 2026-02-01, utm email / newsletter: 1 x 100.00, VAT 20.00 -> net 80.00. Returning,
  although the period Feb holds no earlier order of c1.
- C: a guest paying EUR, 2026-02-01, referred by google.se: 1 x 10.00 EUR, VAT 2.00 -> 8.00 EUR,
  at the rate of 2026-01-31 (11.5 SEK; the 12.0 of 2026-02-02 is later) = 92.00 SEK.
- D: a test order: left out. E: c2's cancelled first order, no trace at all: Direct, new.
- F: c1 a third time, 2026-02-10, no trace: 1 x 50.00, VAT 10.00 -> net 40.00, returning.
- A refund of one unit of A on 2026-02-20: 112.50 with 22.50 VAT -> returns 90.00 on that day,
  in A's channel (Paid Search) and customer type (new).
- Every line's unit cost is 10 in its own currency (C's: 10 EUR = 115.00 SEK).
- Ads on 2026-02-01: google_ads "Brand Search" 100.00 SEK, 1,000 impressions, 50 clicks,
  3 conversions worth 300.00; meta_ads "Spring Sale" 10.00 EUR (115.00 SEK), 2,000
  impressions, 20 clicks, 1 conversion worth 20.00 EUR (230.00 SEK). On 2026-03-02 the
  google_ads account runs "NO Brand": 40.00 SEK, 400 impressions, 8 clicks. The google_ads
  account is 123-456-7890, the meta_ads one act_9 (AD_MARKETS maps the first to SE and
  campaigns NO_* to NO: Brand Search SE, NO Brand NO, Spring Sale unmapped).
- G: c3's first order, 2026-03-05, no trace, two categories: Bags 1 x 100.00 (VAT 20.00 -> net
  80.00) and Shoes 2 x 50.00 (VAT 20.00 -> net 80.00): one order, counted once in each category.
- H: a guest, 2026-04-02, google / cpc with utm_campaign " C1 ", the id of the google_ads
  campaign "Brand Search": 1 x 200.00, VAT 40.00 -> net 160.00, in campaign brand_search.
- Stock snapshots (unit cost BAG-1 40.00, SHOE-1 30.00): 2026-03-01 10 bags and 5 shoes
  (550.00); 2026-03-31 8 bags and 5 shoes (470.00).
- Web sessions: 2026-02-01 SE google / cpc "brand search" 60 (30 engaged, 45 users of which
  30 new), SE (direct) / (none) 40 (10 engaged, 32 users, 12 new); 2026-02-10 NO newsletter /
  email 20 (15 engaged, 18 users, 3 new).
- CRM leads (the shop's time zone is Europe/Stockholm, UTC+1 in winter):
  L1 2026-02-01 10:00 UTC, google / cpc "Brand Search", open.
  L2 2026-02-01 23:30 UTC = 2026-02-02 00:30 in Stockholm, facebook / paid_social "Spring
  Sale", won, 100.00 EUR at the rate of 2026-02-02 (12.0) = 1,200.00 SEK.
  L3 2026-02-10 09:00 UTC, no UTMs (Direct), won, 500.00 SEK.
  L4 2026-02-28 23:30 UTC = 2026-03-01 in Stockholm, google / cpc "NO Brand", lost.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ondigital_connect.models.canonical import AdInsight, FxRate, InventoryLevel, WebTraffic
from ondigital_connect.models.tables import get_table
from ondigital_connect.transforms.ad_markets import AdMarkets, CampaignMarket
from ondigital_connect.warehouse import DuckDBWarehouse

UTC = dt.UTC
D = Decimal
GOOGLE_ACCOUNT, META_ACCOUNT = "123-456-7890", "act_9"
#: the tenant's ad-markets mapping for this shop (as ad_markets_from_toml reads AD_MARKETS_TOML)
AD_MARKETS_TOML = """
[ad_markets.accounts]
"123-456-7890" = "SE"

[[ad_markets.campaigns]]
pattern = "NO_*"
market = "NO"
"""
AD_MARKETS = AdMarkets((("123-456-7890", "SE"),), (CampaignMarket("NO_*", "NO"),))


def order(key: str, day: str, currency: str = "SEK", **kw: Any) -> dict[str, Any]:
    created = dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")
    row = {"source": "shopify", "account_id": "s", "order_key": key, "order_id": key,
           "created_at": created, "order_date": created.date(), "timezone": "Europe/Stockholm",
           "updated_at": created, "is_test": False, "currency": currency, "gross_sales": D(0),
           "discounts": D(0), "shipping": D(0), "tax": D(0), "total": D(0),
           "total_refunded": D(0), "presentment_currency": currency,
           "presentment_gross_sales": D(0), "presentment_discounts": D(0),
           "presentment_shipping": D(0), "presentment_tax": D(0), "presentment_total": D(0),
           "line_count": 1, "refund_count": 0, "taxes_included": True}
    return {**row, **kw}


def line(order_key: str, price: str, qty: int, discount: str, tax: str,
         currency: str = "SEK", n: int = 1, category: str | None = None,
         sku: str | None = None) -> dict[str, Any]:
    return {"source": "shopify", "account_id": "s", "line_key": f"{order_key}-{n}",
            "line_id": str(n), "order_key": order_key, "quantity": qty,
            "unit_price": D(price), "discount": D(discount), "tax": D(tax),
            "currency": currency, "unit_cost": D("10"), "category": category, "sku": sku}


def load_shop(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    """Write the hand-made shop into ``warehouse``."""
    orders = [
        order("A", "2026-01-10", customer_key="c1",
              landing_page="https://shop.example/p?gclid=xyz"),
        order("B", "2026-02-01", customer_key="c1", utm_source="newsletter",
              utm_medium="email"),
        order("C", "2026-02-01", "EUR", referrer="https://www.google.se/"),
        order("D", "2026-02-02", customer_key="c1", is_test=True),
        order("E", "2026-02-05", customer_key="c2",
              cancelled_at=dt.datetime(2026, 2, 5, 13, tzinfo=UTC)),
        order("F", "2026-02-10", customer_key="c1"),
        order("G", "2026-03-05", customer_key="c3", line_count=2),
        order("H", "2026-04-02", utm_source="google", utm_medium="cpc", utm_campaign=" C1 "),
    ]
    lines = [line("A", "125.00", 2, "25.00", "45.00"), line("B", "100.00", 1, "0", "20.00"),
             line("C", "10.00", 1, "0", "2.00", "EUR"), line("D", "999", 1, "0", "0"),
             line("E", "50.00", 1, "0", "10.00"), line("F", "50.00", 1, "0", "10.00"),
             line("G", "100.00", 1, "0", "20.00", category="Bags", sku="BAG-1"),
             line("G", "50.00", 2, "0", "20.00", n=2, category="Shoes", sku="SHOE-1"),
             line("H", "200.00", 1, "0", "40.00")]
    refunds = [{"source": "shopify", "account_id": "s", "refund_key": "R1", "order_key": "A",
                "refund_id": "R1", "refunded_at": dt.datetime(2026, 2, 20, 9, tzinfo=UTC),
                "refund_date": dt.date(2026, 2, 20), "timezone": "Europe/Stockholm",
                "currency": "SEK", "amount": D("112.50"), "goods_amount": D("112.50"),
                "shipping_amount": D(0), "tax_amount": D("22.50")}]
    refund_lines = [{"source": "shopify", "account_id": "s", "refund_line_key": "R1-1",
                     "refund_key": "R1", "order_key": "A", "line_key": "A-1", "quantity": 1,
                     "subtotal": D("112.50"), "tax": D("22.50"), "currency": "SEK"}]
    with warehouse.transaction():
        warehouse.merge_entities(get_table("orders"), {
            "orders": orders, "order_lines": lines, "refunds": refunds,
            "refund_lines": refund_lines}, run_id="r")
        warehouse._insert_models("fx_rates", [
            FxRate(rate_date=dt.date(2026, 1, 31), base_currency="EUR", quote_currency="SEK",
                   rate=D("11.5"), rate_source="test"),
            FxRate(rate_date=dt.date(2026, 2, 2), base_currency="EUR", quote_currency="SEK",
                   rate=D("12.0"), rate_source="test")])
        warehouse.merge_entities(get_table("products"), {"products": [
            _product("P-BAG", "BAG-1", "Bags", "40"), _product("P-SHOE", "SHOE-1", "Shoes", "30")]},
            run_id="r")
        warehouse._insert_models("inventory_levels", [
            _stock("2026-03-01", "P-BAG", "BAG-1", 10, "40"),
            _stock("2026-03-01", "P-SHOE", "SHOE-1", 5, "30"),
            _stock("2026-03-31", "P-BAG", "BAG-1", 8, "40"),
            _stock("2026-03-31", "P-SHOE", "SHOE-1", 5, "30")])
        warehouse._insert_models("ad_insights", [
            _ad("google_ads", "SEK", "c1", "Brand Search", "100.00", 1000, 50, "3", "300.00"),
            _ad("meta_ads", "EUR", "c2", "Spring Sale", "10.00", 2000, 20, "1", "20.00"),
            _ad("google_ads", "SEK", "c3", "NO Brand", "40.00", 400, 8, "0", "0",
                day=dt.date(2026, 3, 2))])
        warehouse._insert_models("web_traffic", [
            _visit("2026-02-01", "SE", "google", "cpc", "brand search", 60, 30, 45, 30),
            _visit("2026-02-01", "SE", "(direct)", "(none)", "(not set)", 40, 10, 32, 12),
            _visit("2026-02-10", "NO", "newsletter", "email", "feb", 20, 15, 18, 3)])
        warehouse.merge_entities(get_table("leads"), {"leads": [
            lead("L1", "2026-02-01T10:00", "google", "cpc", "Brand Search"),
            lead("L2", "2026-02-01T23:30", "facebook", "paid_social", "Spring Sale",
                 won="2026-02-15T10:00", value="100.00", currency="EUR"),
            lead("L3", "2026-02-10T09:00", won="2026-02-12T10:00", value="500.00",
                 currency="SEK"),
            lead("L4", "2026-02-28T23:30", "google", "cpc", "NO Brand",
                 lost_at=dt.datetime(2026, 3, 9, tzinfo=UTC))]}, run_id="r")
    return warehouse


def lead(key: str, created: str, source: str | None = None, medium: str | None = None,
         campaign: str | None = None, won: str | None = None, value: str | None = None,
         currency: str | None = None, **kw: Any) -> dict[str, Any]:
    """A CRM lead created at ``created`` (UTC), won at ``won`` when given."""
    at = dt.datetime.fromisoformat(f"{created}+00:00")
    won_at = dt.datetime.fromisoformat(f"{won}+00:00") if won else None
    return {"source": "crm", "account_id": "crm1", "lead_key": key, "created_at": at,
            "updated_at": won_at or at, "utm_source": source, "utm_medium": medium,
            "utm_campaign": campaign, "won_at": won_at,
            "value": D(value) if value is not None else None, "currency": currency, **kw}


def _ad(platform: str, currency: str, campaign_id: str, name: str, spend: str, impressions: int,
        clicks: int, conversions: str, value: str, day: dt.date = dt.date(2026, 2, 1)
        ) -> AdInsight:
    account = GOOGLE_ACCOUNT if platform == "google_ads" else META_ACCOUNT
    return AdInsight(source=platform, account_id=account, date=day,
                     account_timezone="Europe/Stockholm", currency=currency,
                     campaign_id=campaign_id, campaign_name=name, ad_group_id="g", ad_id="a",
                     spend=D(spend), impressions=impressions, clicks=clicks,
                     conversions=D(conversions), conversion_value=D(value))


def _visit(day: str, country: str, source: str, medium: str, campaign: str, sessions: int,
           engaged: int, users: int, new_users: int) -> WebTraffic:
    return WebTraffic(source="ga4", account_id="p1", date=dt.date.fromisoformat(day),
                      property_timezone="Europe/Stockholm", session_source=source,
                      session_medium=medium, campaign=campaign, device="desktop",
                      country_code=country, sessions=sessions, engaged_sessions=engaged,
                      new_users=new_users, total_users=users, key_events=D(0), transactions=0,
                      purchase_revenue=D(0), currency="SEK")


def _product(key: str, sku: str, category: str, cost: str) -> dict[str, Any]:
    return {"source": "shopify", "account_id": "s", "product_key": key, "product_id": key,
            "variant_id": key, "sku": sku, "title": sku, "category": category,
            "price": D("100"), "unit_cost": D(cost), "currency": "SEK",
            "updated_at": dt.datetime(2026, 1, 1, tzinfo=UTC)}


def _stock(day: str, key: str, sku: str, on_hand: int, cost: str) -> InventoryLevel:
    return InventoryLevel(source="shopify", account_id="s",
                          snapshot_date=dt.date.fromisoformat(day), product_key=key, sku=sku,
                          location_id="L1", on_hand=on_hand, available=on_hand,
                          unit_cost=D(cost), currency="SEK")
