"""Base measures: the additive (or declared non-additive) sums the daily rollups store.

Every metric is a formula over these. A measure lives in one rollup, and a metric supports
exactly the dimensions shared by the rollups of its measures (COS needs sales and marketing,
so it goes by date, market, channel, source and campaign, never by customer type; CPL blends
marketing and leads the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Additivity = Literal["additive", "semi_additive", "distinct"]
Unit = Literal["currency", "count", "units"]


@dataclass(frozen=True, slots=True)
class Rollup:
    """A daily rollup table: its grain (dimensions) and what it is built from."""

    name: str
    dimensions: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class Measure:
    """A stored sum. ``semi_additive`` sums across everything but time (take the last day);
    ``distinct`` counts must be recounted from the base table at the asked grain."""

    name: str
    rollup: str
    label: str
    unit: Unit
    description: str
    additivity: Additivity = "additive"


_MARKETING_DIMS = ("date", "market", "channel", "source", "campaign")
ROLLUPS = MappingProxyType({r.name: r for r in (
    Rollup("sales", (*_MARKETING_DIMS, "customer_type"),
           "Orders and refunds by the order's (or refund's) date in the shop's time zone."),
    Rollup("marketing", _MARKETING_DIMS,
           "Ad platform spend and delivery by day. The market comes from the tenant's "
           "ad-markets mapping (campaign pattern, else ad account); unmapped spend has an "
           "empty market."),
    Rollup("traffic", _MARKETING_DIMS,
           "Web analytics sessions, users and key events by day; the market is the "
           "visitor's country."),
    Rollup("leads", _MARKETING_DIMS,
           "CRM leads by the day they were created (shop time zone), with the channel of "
           "their UTMs. The market is their campaign's: its ad-markets pattern, else the ad "
           "account all its spend comes from, else empty."),
    Rollup("products", ("date", "market", "product", "category"),
           "Order lines and refund lines by product and category."),
    Rollup("inventory", ("date", "product", "category", "sku"),
           "The daily stock snapshot at unit cost."),
)})

_SALES = (
    ("orders", "Orders", "count", "Orders placed, test orders excluded, cancelled included."),
    ("gross_sales", "Gross sales", "currency",
     "Item price x quantity before discounts, ex VAT, ex shipping, on the order date."),
    ("discounts", "Discounts", "currency", "Line and order discounts, ex VAT, on the order date."),
    ("returns", "Returns", "currency",
     "Refunded goods, ex VAT, ex shipping, booked on the refund date."),
    ("net_sales", "Net sales", "currency",
     "Gross sales - discounts - returns, ex VAT and shipping."),
    ("shipping", "Shipping", "currency",
     "Shipping charged less shipping refunded, as the shop charges it."),
    ("tax", "Tax", "currency", "VAT charged less VAT refunded."),
    ("units", "Units sold", "units", "Item quantity ordered less quantity refunded."),
    ("cogs", "Cost of goods sold", "currency",
     "Units x unit cost at the time of the sync, less the cost of returned units."),
    ("new_customers", "New customers", "count",
     "Customers whose first order ever (from order history) was placed that day."),
    ("returning_customers", "Returning customers", "count",
     "Distinct customers with an order that day who had ordered before."),
    ("untraced_orders", "Untraced orders", "count",
     "Orders no channel rule can trace (no UTM, click id or known referrer)."),
    ("untraced_net_sales", "Untraced net sales", "currency", "Net sales of untraced orders."),
)
_MARKETING = (
    ("spend", "Marketing spend", "currency",
     "Ad platform cost, converted to the reporting currency at each day's rate."),
    ("impressions", "Impressions", "count", "Ad impressions."),
    ("clicks", "Clicks", "count", "Ad clicks."),
    ("platform_conversions", "Platform conversions", "count",
     "Conversions as each ad platform reports them (own model and window: overlaps)."),
    ("platform_conversion_value", "Platform conversion value", "currency",
     "Conversion value as each ad platform reports it, in the reporting currency."),
)
_TRAFFIC = (
    ("sessions", "Sessions", "count", "Web analytics sessions started that day."),
    ("engaged_sessions", "Engaged sessions", "count",
     "Sessions over 10 s, or with a key event, or with 2+ page views (GA4's rule)."),
    ("users", "Users", "count",
     "Distinct users with a session. Not stored: daily web analytics rows cannot be "
     "recounted into the distinct users of a longer period or a coarser breakdown."),
    ("new_users", "New users", "count",
     "Users whose first visit ever was that day (GA4's new users): each is new once."),
    ("user_days", "User-days", "count",
     "GA4's users of each day, source, medium, campaign, device and country, summed: a "
     "person counts once per day (and per source or device) they visited."),
    ("transactions", "Transactions", "count", "Purchases the web analytics tag recorded."),
)
_LEADS = (
    ("leads", "Leads", "count", "CRM leads created that day."),
    ("won_leads", "Won leads", "count",
     "Leads created that day that have been won since (booked on the created date)."),
    ("won_value", "Won value", "currency",
     "Value of the won leads, converted at the rate of the lead's created date."),
)
_PRODUCTS = (
    ("product_orders", "Orders with the product", "count",
     "Distinct orders containing the product (or category)."),
    ("product_units", "Product units", "units", "Units ordered less units refunded."),
    ("product_net_sales", "Product net sales", "currency",
     "Line price x quantity - line discounts - refunded goods, ex VAT."),
    ("product_cogs", "Product COGS", "currency", "Units x unit cost less returned units' cost."),
    ("product_returns", "Product returns", "currency",
     "Refunded goods, ex VAT, on the refund date."),
    ("product_gross_sales", "Product gross sales", "currency", "Line price x quantity, ex VAT."),
)
_INVENTORY = (
    ("on_hand_units", "Units on hand", "units", "Units in stock at the end of the day."),
    ("inventory_value", "Inventory value", "currency", "Units on hand x unit cost."),
)
_NON_ADDITIVE: dict[str, Additivity] = {
    "returning_customers": "distinct", "users": "distinct", "product_orders": "distinct",
    "on_hand_units": "semi_additive", "inventory_value": "semi_additive",
}


def _measures() -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    for rollup, rows in (("sales", _SALES), ("marketing", _MARKETING), ("traffic", _TRAFFIC),
                         ("leads", _LEADS), ("products", _PRODUCTS),
                         ("inventory", _INVENTORY)):
        for name, label, unit, description in rows:
            out[name] = Measure(name, rollup, label, unit, description,  # type: ignore[arg-type]
                                _NON_ADDITIVE.get(name, "additive"))
    return out


MEASURES = MappingProxyType(_measures())
