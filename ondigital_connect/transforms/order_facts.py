"""``order_facts`` and ``refund_facts``: orders and refunds ready for the rollups.

One row per non-test order (cancelled ones included, as Shopify's gross sales include them):
its channel from the channel rules, the customer's order sequence from the whole order
history (so a returning customer is returning even when the first order predates the report),
and money converted to the reporting currency at the rate of the order's own date, ex VAT.
Refunds become their own facts on the refund date, with the order's channel and customer type.

Ex VAT: in a shop whose prices include VAT (``taxes_included``), a line's net is its discounted
price less its VAT (exact). Its gross is the price taken out of VAT at the line's own rate
(VAT over net), rounded to 4 decimals; discounts are gross - net. All money stays DECIMAL.
"""

from __future__ import annotations

from collections.abc import Sequence

from ondigital_connect.kpi.channels import DEFAULT_RULES, Rule, channel_sql, touch_sql
from ondigital_connect.transforms import leads
from ondigital_connect.transforms.rollups import (
    LINE_FACTS,
    ROLLUP_INVENTORY,
    ROLLUP_PRODUCTS,
    ROLLUP_SALES,
    campaign_key,
    rate_join,
    rollup_marketing,
    rollup_traffic,
)

_MONEY = "DECIMAL(38, 9)"

# One rate per currency and day to the reporting currency (bound three times): direct rates,
# inverted ones, and 1 for the reporting currency itself from the first day on. A day with two
# rates (both directions quoted) keeps the higher; ``next_date`` is when the next rate starts.
_RATES = f"""
CREATE OR REPLACE TEMP TABLE _fx AS
WITH quoted AS (
    SELECT rate_date, base_currency AS currency, CAST(rate AS {_MONEY}) AS rate
    FROM fx_rates WHERE quote_currency = ? AND base_currency <> quote_currency
    UNION ALL
    SELECT rate_date, quote_currency, CAST(1 / rate AS {_MONEY})
    FROM fx_rates WHERE base_currency = ? AND quote_currency <> base_currency AND rate <> 0
), daily AS (
    SELECT currency, rate_date, rate,
           row_number() OVER (PARTITION BY currency, rate_date ORDER BY rate DESC) AS nth
    FROM quoted
)
SELECT currency, rate_date, rate,
       lead(rate_date) OVER (PARTITION BY currency ORDER BY rate_date) AS next_date
FROM daily WHERE nth = 1
UNION ALL
SELECT CAST(? AS VARCHAR), DATE '0001-01-01', CAST(1 AS {_MONEY}), CAST(NULL AS DATE)
"""

# A line's net ex VAT is exact (price x quantity - discount - VAT); its gross ex VAT divides by
# the line's VAT rate, so it is rounded to 4 decimals, and discounts are the difference: gross -
# discounts = net holds exactly.
_PQ = "(l.unit_price * l.quantity)"
_NET_LINE = (f"(CASE WHEN o.taxes_included THEN {_PQ} - l.discount - l.tax "
             f"ELSE {_PQ} - l.discount END)")
_GROSS_LINE = (f"(CASE WHEN o.taxes_included AND {_PQ} - l.discount <> 0 THEN CAST(round("
               f"{_PQ} * ({_PQ} - l.discount - l.tax) / ({_PQ} - l.discount), 4) AS {_MONEY}) "
               f"ELSE {_PQ} END)")

def _converted(amount: str) -> str:
    """SQL: ``amount`` in the reporting currency at the fact's own rate (``fx.rate``), as money."""
    return f"CAST({amount} * fx.rate AS {_MONEY})"


_LINES = f"""
CREATE OR REPLACE TEMP TABLE _line_sums AS
SELECT l.order_key,
       sum(l.quantity) AS units,
       CAST(sum(coalesce(l.unit_cost, 0) * l.quantity) AS {_MONEY}) AS cogs,
       CAST(sum({_GROSS_LINE}) AS {_MONEY}) AS gross_ex_vat,
       CAST(sum({_NET_LINE}) AS {_MONEY}) AS net_ex_vat
FROM order_lines l JOIN orders o USING (order_key)
WHERE SCOPE_ORDERS_L
GROUP BY l.order_key
"""


def _touched(rules: Sequence[Rule]) -> str:
    source, medium, campaign = touch_sql("o.utm_source", "o.utm_medium", "o.utm_campaign",
                                         "o.landing_page", "o.referrer")
    grouped = channel_sql("t.source", "t.medium", "t.campaign", rules)
    return f"""
CREATE OR REPLACE TEMP TABLE _touch AS
SELECT t.order_key, t.source, t.medium, t.campaign, {grouped} AS channel
FROM (SELECT o.order_key, {source} AS source, {medium} AS medium, {campaign} AS campaign
      FROM orders o WHERE NOT o.is_test AND SCOPE_ORDERS_O) t
"""


_ORDER_FACTS = f"""
CREATE OR REPLACE TABLE order_facts AS
SELECT o.order_key, o.order_date, o.created_at, o.market, o.country_code,
       t.channel, t.source, t.medium, coalesce(ci.campaign, CAMPAIGN_KEY) AS campaign,
       o.customer_key,
       CASE WHEN o.customer_key IS NULL THEN NULL
            ELSE row_number() OVER (PARTITION BY o.customer_key
                                    ORDER BY o.created_at, o.order_key) END AS customer_seq,
       CASE WHEN o.customer_key IS NULL THEN 'guest'
            WHEN row_number() OVER (PARTITION BY o.customer_key
                                    ORDER BY o.created_at, o.order_key) = 1 THEN 'new'
            ELSE 'returning' END AS customer_type,
       o.cancelled_at IS NOT NULL AS is_cancelled,
       o.currency, ? AS reporting_currency, fx.rate AS fx_rate,
       {_converted("coalesce(s.gross_ex_vat, 0)")} AS gross_sales,
       {_converted("(coalesce(s.gross_ex_vat, 0) - coalesce(s.net_ex_vat, 0))")} AS discounts,
       {_converted("coalesce(s.net_ex_vat, 0)")} AS net_sales,
       {_converted("o.shipping")} AS shipping,
       {_converted("o.tax")} AS tax,
       coalesce(s.units, 0) AS units,
       {_converted("coalesce(s.cogs, 0)")} AS cogs
FROM orders o
JOIN _touch t USING (order_key)
LEFT JOIN _campaign_ids ci ON ci.id = t.campaign
LEFT JOIN _line_sums s USING (order_key)
ORDER_RATE
WHERE NOT o.is_test AND SCOPE_ORDERS_O
"""

_ORDER_FACTS = (_ORDER_FACTS.replace("CAMPAIGN_KEY", campaign_key("t.campaign"))
                .replace("ORDER_RATE", rate_join("fx", "o.currency", "o.order_date")))

# returned goods ex VAT: the refund's goods less its lines' VAT where prices include VAT
_RETURNED_GOODS = ("(CASE WHEN o.taxes_included THEN r.goods_amount - coalesce(lt.line_tax, 0) "
                   "ELSE r.goods_amount END)")

_REFUND_FACTS = f"""
CREATE OR REPLACE TABLE refund_facts AS
SELECT r.refund_key, r.order_key, r.refund_date, f.market, f.channel, f.source, f.medium,
       f.campaign, f.customer_type, r.currency, fx.rate AS fx_rate,
       {_converted(_RETURNED_GOODS)} AS returns,
       {_converted("r.shipping_amount")} AS shipping_refunded,
       {_converted("r.tax_amount")} AS tax_refunded,
       coalesce(lt.units, 0) AS units_returned,
       {_converted("coalesce(lt.cost, 0)")} AS cogs_returned
FROM refunds r
JOIN order_facts f USING (order_key)
JOIN orders o USING (order_key)
LEFT JOIN (SELECT rl.refund_key, sum(rl.tax) AS line_tax, sum(rl.quantity) AS units,
                  sum(rl.quantity * coalesce(ol.unit_cost, 0)) AS cost
           FROM refund_lines rl LEFT JOIN order_lines ol USING (line_key)
           GROUP BY rl.refund_key) lt USING (refund_key)
REFUND_RATE
WHERE SCOPE_ORDERS_R
""".replace("REFUND_RATE", rate_join("fx", "r.currency", "r.refund_date"))


# Ad campaigns by id: a utm_campaign holding an ad platform's campaign id (Google's
# {campaignid}, for one) meets the campaign's name; a renamed campaign keeps its latest name.
_CAMPAIGN_IDS = f"""
CREATE OR REPLACE TEMP TABLE _campaign_ids AS
SELECT lower(trim(campaign_id)) AS id, arg_max({campaign_key("campaign_name")}, date) AS campaign
FROM ad_insights WHERE campaign_id IS NOT NULL AND trim(coalesce(campaign_name, '')) <> ''
GROUP BY 1
"""


#: How a step is rebuilt when a build is incremental: ``prelude`` and ``full`` in whole,
#: ``temp`` recreated for the affected orders only, ``orders``/``dates`` (``leads``/
#: ``lead_dates``) by deleting and re-inserting the rows of the affected orders / dates
#: (leads / their dates).
Step = tuple[str, int, str]

SCOPES_FULL = {"SCOPE_ORDERS_L": "TRUE", "SCOPE_ORDERS_O": "TRUE", "SCOPE_ORDERS_R": "TRUE",
               "SCOPE_DATES": "TRUE", "SCOPE_LEADS": "TRUE", "SCOPE_LEAD_DATES": "TRUE"}
SCOPES_INCREMENTAL = {
    "SCOPE_ORDERS_L": "l.order_key IN (SELECT order_key FROM _affected)",
    "SCOPE_ORDERS_O": "o.order_key IN (SELECT order_key FROM _affected)",
    "SCOPE_ORDERS_R": "r.order_key IN (SELECT order_key FROM _affected)",
    "SCOPE_DATES": "date IN (SELECT date FROM _dates)",
    "SCOPE_LEADS": "l.lead_key IN (SELECT lead_key FROM _affected_leads)",
    "SCOPE_LEAD_DATES": "date IN (SELECT date FROM _lead_dates)",
}


def steps(rules: Sequence[Rule] = DEFAULT_RULES) -> list[Step]:
    """The DuckDB steps in order: (SQL, times it binds the currency, how it is scoped)."""
    grouped = channel_sql("source", "medium", "campaign_name", rules)
    line_facts = LINE_FACTS.replace("GROSS_LINE", _GROSS_LINE).replace("NET_LINE", _NET_LINE)
    return [(_RATES, 3, "prelude"), (_CAMPAIGN_IDS, 0, "prelude"), (leads.ZONE, 0, "prelude"),
            (leads.CAMPAIGN_MARKETS, 0, "prelude"),
            (_LINES, 0, "temp"), (_touched(rules), 0, "temp"), (_ORDER_FACTS, 1, "orders"),
            (_REFUND_FACTS, 0, "orders"), (line_facts, 0, "orders"), (ROLLUP_SALES, 0, "dates"),
            (ROLLUP_PRODUCTS, 0, "dates"), (rollup_marketing(grouped), 0, "full"),
            (rollup_traffic(grouped), 0, "full"), (ROLLUP_INVENTORY, 0, "full"),
            (leads.lead_facts(rules), 0, "leads"), (leads.ROLLUP_LEADS, 0, "lead_dates")]
