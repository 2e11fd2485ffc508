"""Daily rollups: the sums the query planner reads (thousands of rows, not millions).

``rollup_sales`` is date x market x channel x source x campaign x customer type. Orders count on
their order date, returns (and refunded shipping, VAT, units and cost) on their refund date, so
net sales = gross sales - discounts - returns per day, as Shopify's sales report books them.
Distinct counts (returning customers) are stored per row but recounted by the planner for
any other grain.
"""

from __future__ import annotations

from ondigital_connect.kpi.channels import UNTRACED

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
GROUP BY ALL
"""
