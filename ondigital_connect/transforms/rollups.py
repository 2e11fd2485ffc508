"""Daily rollups: the sums the query planner reads (thousands of rows, not millions).

``rollup_sales`` is date x market x channel x source x campaign x customer type. Orders count on
their order date, returns (and refunded shipping, VAT, units and cost) on their refund date, so
net sales = gross sales - discounts - returns per day, as Shopify's sales report books them.
Distinct counts (returning customers) are stored per row but recounted by the planner for
any other grain.
"""

from __future__ import annotations

from ondigital_connect.kpi.channels import UNTRACED
from ondigital_connect.transforms.ad_markets import market_sql

_UNTRACED = ", ".join(f"'{c}'" for c in UNTRACED)  # constant channel names, no user input

ROLLUP_SALES = f"""
CREATE OR REPLACE TABLE rollup_sales AS
WITH facts AS (
    SELECT order_date AS date, market, channel, source, campaign, customer_type, customer_key,
           1 AS orders, gross_sales, discounts, 0 AS returns, shipping, tax, units, cogs,
           CASE WHEN customer_type = 'new' THEN 1 ELSE 0 END AS new_customers,
           CASE WHEN channel IN ({_UNTRACED}) THEN 1 ELSE 0 END AS untraced_orders,
           CASE WHEN channel IN ({_UNTRACED}) THEN net_sales ELSE 0 END AS untraced_net_sales
    FROM order_facts
    UNION ALL
    SELECT refund_date, market, channel, source, campaign, customer_type, NULL,
           0, 0, 0, returns, -shipping_refunded, -tax_refunded, -units_returned,
           -cogs_returned, 0, 0,
           CASE WHEN channel IN ({_UNTRACED}) THEN -returns ELSE 0 END
    FROM refund_facts
)
SELECT date, market, channel, source, campaign, customer_type,
       sum(orders) AS orders, sum(gross_sales) AS gross_sales, sum(discounts) AS discounts,
       sum(returns) AS returns, sum(gross_sales) - sum(discounts) - sum(returns) AS net_sales,
       sum(shipping) AS shipping, sum(tax) AS tax, sum(units) AS units, sum(cogs) AS cogs,
       sum(new_customers) AS new_customers,
       count(DISTINCT customer_key) FILTER (WHERE customer_type = 'returning')
           AS returning_customers,
       sum(untraced_orders) AS untraced_orders, sum(untraced_net_sales) AS untraced_net_sales
FROM facts
WHERE SCOPE_DATES
GROUP BY ALL
"""


#: ad platform (``ad_insights.source``) -> the utm source and medium its clicks arrive with
AD_PLATFORMS = {
    "google_ads": ("google", "cpc"), "microsoft_ads": ("bing", "cpc"),
    "meta_ads": ("facebook", "paid_social"), "tiktok_ads": ("tiktok", "cpc"),
    "linkedin_ads": ("linkedin", "cpc"), "pinterest_ads": ("pinterest", "cpc"),
    "prisjakt": ("prisjakt", "cpc"),
}


def campaign_key(expr: str) -> str:
    """SQL: a campaign name as the rollups key it (lowercase, trimmed, spaces as ``_``), so an
    ad platform's "Black Friday" meets the shop's utm_campaign=black_friday."""
    text = f"lower(trim(coalesce({expr}, '')))"
    return (f"(CASE WHEN {text} = '' THEN '(not set)' WHEN starts_with({text}, '(') THEN {text} "
            f"ELSE regexp_replace({text}, '\\s+', '_', 'g') END)")


def rate_join(alias: str, currency: str, day: str) -> str:
    """SQL: an as-of join whose ``{alias}.rate`` converts ``currency`` to the reporting
    currency on ``day``: the latest ``_fx`` rate on or before the day, 1 for the reporting
    currency itself, NULL when there is none (so the amount stays empty rather than converted
    at 1). ``_fx`` holds one rate per currency and day, with the day the next one starts."""
    return (f"ASOF LEFT JOIN _fx {alias} ON {alias}.currency = {currency} "
            f"AND {alias}.rate_date <= {day}")


def rollup_marketing(channel_case: str) -> str:
    """Ad spend and delivery by day; ``channel_case`` groups (source, medium, campaign).

    The platform decides source and medium, the campaign name can make it Paid Shopping or
    Cross-network as the channel rules say. Ad accounts carry no market: the tenant's mapping
    (:mod:`.ad_markets`) places a campaign by pattern, else by its account; unmapped spend
    keeps a NULL market.
    """
    pairs = " ".join(f"WHEN '{k}' THEN '{v[0]}'" for k, v in AD_PLATFORMS.items())
    mediums = " ".join(f"WHEN '{k}' THEN '{v[1]}'" for k, v in AD_PLATFORMS.items())
    return f"""
CREATE OR REPLACE TABLE rollup_marketing AS
WITH ads AS (
    SELECT a.date, a.account_id,
           CASE a.source {pairs} ELSE lower(a.source) END AS source,
           CASE a.source {mediums} ELSE 'paid' END AS medium,
           lower(trim(coalesce(a.campaign_name, ''))) AS campaign_name,
           coalesce(ci.campaign, {campaign_key('a.campaign_name')}) AS campaign,
           a.spend, a.impressions, a.clicks, a.conversions, a.conversion_value, x.rate
    FROM ad_insights a LEFT JOIN _campaign_ids ci ON ci.id = lower(trim(a.campaign_id))
    {rate_join('x', 'a.currency', 'a.date')}
), placed AS (
    SELECT *, {market_sql('ads.campaign', 'ads.account_id')} AS market FROM ads
)
SELECT date, market, {channel_case} AS channel, source, campaign,
       CAST(sum(spend * rate) AS DECIMAL(38, 9)) AS spend,
       sum(impressions) AS impressions, sum(clicks) AS clicks,
       sum(conversions) AS platform_conversions,
       CAST(sum(conversion_value * rate) AS DECIMAL(38, 9)) AS platform_conversion_value
FROM placed
GROUP BY ALL
"""


def rollup_traffic(channel_case: str) -> str:
    """Web analytics sessions by day, market (the session's country) and channel.

    ``new_users`` adds up (a user is new once). ``user_days`` sums GA4's users of each source
    row (day x source/medium x campaign x device x country): distinct users of a period
    cannot be recounted from such rows, so it is a sum by its own definition, not Users.
    """
    return f"""
CREATE OR REPLACE TABLE rollup_traffic AS
WITH visits AS (
    SELECT date, upper(country_code) AS market,
           lower(trim(session_source)) AS source, lower(trim(session_medium)) AS medium,
           lower(trim(campaign)) AS campaign_name, {campaign_key('campaign')} AS campaign,
           sessions, engaged_sessions, transactions, new_users, total_users
    FROM web_traffic
)
SELECT date, market, {channel_case} AS channel, source, campaign,
       sum(sessions) AS sessions, sum(engaged_sessions) AS engaged_sessions,
       sum(transactions) AS transactions, sum(new_users) AS new_users,
       sum(total_users) AS user_days
FROM visits
GROUP BY ALL
"""


LINE_FACTS = """
CREATE OR REPLACE TABLE line_facts AS
SELECT l.order_key, f.order_date AS date, f.market,
       coalesce(l.sku, l.product_key, l.title, '(not set)') AS product,
       coalesce(l.category, '(not set)') AS category, l.quantity AS units,
       CAST(GROSS_LINE * f.fx_rate AS DECIMAL(38, 9)) AS gross_sales,
       CAST(NET_LINE * f.fx_rate AS DECIMAL(38, 9)) AS net_sales,
       CAST(coalesce(l.unit_cost, 0) * l.quantity * f.fx_rate AS DECIMAL(38, 9)) AS cogs
FROM order_lines l JOIN order_facts f USING (order_key) JOIN orders o USING (order_key)
WHERE SCOPE_ORDERS_L
"""

ROLLUP_PRODUCTS = """
CREATE OR REPLACE TABLE rollup_products AS
WITH items AS (
    SELECT date, market, product, category, units, gross_sales, net_sales, cogs,
           CAST(0 AS DECIMAL(38, 9)) AS returns, order_key
    FROM line_facts
    UNION ALL
    SELECT r.refund_date, f.market,
           coalesce(rl.sku, ol.sku, ol.product_key, ol.title, '(not set)'),
           coalesce(ol.category, '(not set)'), -rl.quantity, 0,
           -CAST((CASE WHEN o.taxes_included THEN rl.subtotal - rl.tax ELSE rl.subtotal END)
                 * f.fx_rate AS DECIMAL(38, 9)),
           -CAST(coalesce(ol.unit_cost, 0) * rl.quantity * f.fx_rate AS DECIMAL(38, 9)),
           CAST((CASE WHEN o.taxes_included THEN rl.subtotal - rl.tax ELSE rl.subtotal END)
                * f.fx_rate AS DECIMAL(38, 9)),
           NULL
    FROM refund_lines rl JOIN refunds r USING (refund_key)
    JOIN order_facts f ON f.order_key = rl.order_key JOIN orders o ON o.order_key = rl.order_key
    LEFT JOIN order_lines ol ON ol.line_key = rl.line_key
)
SELECT date, market, product, category,
       count(DISTINCT order_key) AS product_orders, sum(units) AS product_units,
       sum(gross_sales) AS product_gross_sales, sum(net_sales) AS product_net_sales,
       sum(cogs) AS product_cogs, sum(returns) AS product_returns
FROM items
WHERE SCOPE_DATES
GROUP BY ALL
"""

ROLLUP_INVENTORY = """
CREATE OR REPLACE TABLE rollup_inventory AS
SELECT i.snapshot_date AS date, coalesce(i.sku, p.sku, i.product_key) AS product,
       coalesce(p.category, '(not set)') AS category, coalesce(i.sku, '(not set)') AS sku,
       sum(i.on_hand) AS on_hand_units,
       CAST(sum(i.on_hand * coalesce(i.unit_cost, p.unit_cost, 0) * x.rate)
            AS DECIMAL(38, 9)) AS inventory_value
FROM inventory_levels i LEFT JOIN products p USING (product_key)
RATE_JOIN
GROUP BY ALL
""".replace("RATE_JOIN", rate_join("x", "i.currency", "i.snapshot_date"))
