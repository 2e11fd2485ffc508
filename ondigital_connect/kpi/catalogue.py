"""The KPIs a management team reads, each defined once over base measures."""

from __future__ import annotations

from ondigital_connect.kpi.registry import Metric, MetricRegistry, metric

NET = "Net sales: ex VAT, ex shipping; returns on the refund date."
_RATIO = ("A ratio: computed from the summed parts after grouping, never averaged over days "
          "or rows.")
_BY_MARKET = ("By market, spend the tenant's ad-markets mapping does not place shows in a row "
              "with an empty market, never dropped or spread over the markets.")

_SALES: tuple[Metric, ...] = (
    metric("revenue", "Revenue", "net_sales", "currency",
           "Net sales: what the goods sold brought in, after discounts and returns.",
           basis=NET, trap="Shopify's 'total sales' adds VAT and shipping; GA4 purchase revenue "
           "follows the tag and often includes VAT. Compare like with like."),
    metric("gross_sales", "Gross sales", "gross_sales", "currency",
           "Item price times quantity, before discounts and returns.",
           basis="Ex VAT, ex shipping, on the order date."),
    metric("total_sales", "Total sales", "net_sales + shipping + tax", "currency",
           "Net sales plus shipping and VAT: close to what customers paid, less refunds.",
           basis="Incl. VAT and shipping; refunds on the refund date."),
    metric("discounts", "Discounts", "discounts", "currency", "Discounts given.",
           basis="Ex VAT, on the order date.", better="lower"),
    metric("returns", "Returns", "returns", "currency", "Value of refunded goods.",
           basis="Ex VAT, ex shipping, on the refund date.", better="lower",
           trap="A refund weeks later lowers that later period, not the order's."),
    metric("orders", "Orders", "orders", "number", "Orders placed (test orders excluded).",
           trap="An order with two categories counts once in each category, once in total."),
    metric("units_sold", "Units sold", "units", "number", "Items sold less items returned."),
    metric("cart_size", "Cart size", "units / orders", "number",
           "Average units per order.", trap=_RATIO),
    metric("aov", "AOV", "net_sales / orders", "currency",
           "Average order value: net sales per order.", basis=NET, trap=_RATIO),
    metric("return_rate", "Return rate", "returns / gross_sales", "percent",
           "Share of gross sales refunded as goods.", basis="Returns by refund date over gross "
           "sales by order date: a period with late refunds of older orders reads high.",
           better="lower", trap=_RATIO),
    metric("new_customers", "New customers", "new_customers", "number",
           "Customers placing their first order ever (from order history, not the shop's "
           "counter).", group="Customers"),
    metric("returning_customers", "Returning customers", "returning_customers", "number",
           "Customers placing an order who had ordered before, even before the period.",
           group="Customers", trap="A distinct count: a customer ordering in two months is one "
           "customer for the quarter, so it is recounted, not summed."),
    metric("returning_customer_rate", "Returning customer rate",
           "returning_customers / (returning_customers + new_customers)", "percent",
           "Share of ordering customers who had ordered before.", group="Customers",
           trap=_RATIO),
    metric("untraced_rate", "Untraced rate", "untraced_orders / orders", "percent",
           "Share of orders no channel rule can trace to a source.", better="lower",
           group="Channels", trap="Orders without UTMs, click ids or a known referrer; "
           "consistent UTM links (the link builder) bring it down."),
    metric("untraced_revenue_rate", "Untraced revenue rate",
           "untraced_net_sales / net_sales", "percent",
           "Share of net sales from orders no channel rule can trace.", basis=NET,
           better="lower", group="Channels", trap=_RATIO),
)

_COST: tuple[Metric, ...] = (
    metric("marketing_cost", "Marketing cost", "spend", "currency",
           "Ad spend on all platforms, in the reporting currency.", better="lower",
           group="Marketing", trap="Converted at each day's rate, not at today's. Ad "
           "platforms report no market: a campaign's market comes from the tenant's mapping "
           "(campaign name pattern, else ad account). " + _BY_MARKET),
    metric("cogs", "COGS", "cogs", "currency", "Cost of the goods sold less returned goods.",
           better="lower", group="Profit",
           trap="Unit cost is the one synced with the order, not today's."),
    metric("cos", "COS", "spend / net_sales", "percent",
           "Cost of sale: marketing cost as a share of net sales (1 / ROAS).", basis=NET,
           better="lower", group="Marketing", trap=_RATIO + " Blended: all spend over all "
           "net sales in the slice, not platform-attributed revenue. " + _BY_MARKET),
    metric("roas", "ROAS", "net_sales / spend", "ratio",
           "Net sales per unit of marketing cost.", basis=NET, group="Marketing", trap=_RATIO),
    metric("gross_profit", "Gross profit", "net_sales - cogs", "currency",
           "Net sales less the cost of the goods.", basis=NET, group="Profit"),
    metric("margin_pct", "Margin %", "(net_sales - cogs) / net_sales", "percent",
           "Gross profit as a share of net sales.", basis=NET, group="Profit", trap=_RATIO),
    metric("contribution", "Contribution after marketing", "net_sales - cogs - spend",
           "currency", "Gross profit less marketing cost.", basis=NET, group="Profit"),
    metric("romi", "ROMI", "(net_sales - cogs - spend) / spend", "percent",
           "Return on marketing investment: contribution per unit of marketing cost.",
           basis=NET, group="Profit", trap="Uses gross profit, not revenue: revenue / cost "
           "- 1 would be ROAS - 1. " + _RATIO),
)

_MARKETING: tuple[Metric, ...] = (
    metric("impressions", "Impressions", "impressions", "number", "Ad impressions.",
           group="Marketing"),
    metric("clicks", "Clicks", "clicks", "number", "Ad clicks.", group="Marketing"),
    metric("cpc", "CPC", "spend / clicks", "currency", "Cost per click.", better="lower",
           group="Marketing", trap=_RATIO),
    metric("ctr", "CTR", "clicks / impressions", "percent", "Clicks per impression.",
           group="Marketing", trap=_RATIO),
    metric("cpa", "CPA", "spend / orders", "currency", "Marketing cost per order.",
           better="lower", group="Marketing", trap=_RATIO),
    metric("cac", "CAC", "spend / new_customers", "currency",
           "Customer acquisition cost: marketing cost per new customer.", better="lower",
           group="Marketing", trap="Blended: all spend, all first-time customers. " + _RATIO),
    metric("cpl", "CPL", "spend / leads", "currency", "Marketing cost per lead.",
           better="lower", group="Marketing", trap="Blended: all spend in the slice over all "
           "CRM leads created in it, not platform-attributed leads. " + _RATIO + " By market, a "
           "lead takes its campaign's market (name pattern, else the ad account all its "
           "spend comes from); other leads show with an empty market."),
    metric("platform_conversions", "Platform conversions", "platform_conversions", "number",
           "Conversions as the ad platforms report them.", group="Marketing",
           trap="Each platform counts with its own model and window: their sum exceeds the "
           "shop's orders. Use orders and the untraced rate for the truth."),
    metric("platform_roas", "Platform ROAS", "platform_conversion_value / spend", "ratio",
           "Conversion value per unit of spend, as the platforms report it.",
           group="Marketing", trap=_RATIO),
)

_TRAFFIC: tuple[Metric, ...] = (
    metric("sessions", "Sessions", "sessions", "number", "Website sessions.", group="Traffic",
           trap="Not additive over page-level breakdowns: one session visits many pages."),
    metric("users", "Users", "users", "number",
           "Distinct website users, as GA4 counts them for a period: not served.",
           group="Traffic", trap="Web analytics arrives as daily rows per source, device and "
           "country; the same person appears in several of them, and distinct users cannot "
           "be recounted from such rows. Adding them up would overstate Users. Use New users "
           "(exact, adds up) or User-days (a sum by definition), or GA4 itself."),
    metric("new_users", "New users", "new_users", "number",
           "Website visitors on their first visit ever (GA4's new users).", group="Traffic",
           trap="Adds up over days and breakdowns: each user is new once. A user is a "
           "browser or device, not a person: cleared cookies make a new user again."),
    metric("user_days", "User-days", "user_days", "number",
           "Website users counted once per day they visited, summed over the period: three "
           "visits on three days are three user-days.", group="Traffic",
           trap="Not GA4's Users: a person visiting on several days, or from two sources or "
           "devices on one day, counts each time. For one day and one source, device and "
           "country it equals GA4's users; for a month it is well above them."),
    metric("cr", "CR", "orders / sessions", "percent",
           "Conversion rate: shop orders per website session.", group="Traffic",
           trap="Orders per session, not GA4's session key event rate (which counts any key "
           "event). " + _RATIO),
    metric("engagement_rate", "Engagement rate", "engaged_sessions / sessions", "percent",
           "Share of sessions that engaged (GA4's definition).", group="Traffic", trap=_RATIO),
)

_LEADS: tuple[Metric, ...] = (
    metric("leads", "Leads", "leads", "number", "Leads created in the CRM.", group="Leads",
           trap="Counted on the day the lead was created, in the shop's time zone; the channel "
           "comes from the lead's UTMs through the same channel rules as orders."),
    metric("won_leads", "Won leads", "won_leads", "number",
           "Leads created in the period that have been won.", group="Leads",
           trap="Booked on the lead's created date, not the won date: a recent period's "
           "count still grows as its leads close."),
    metric("lead_win_rate", "Lead win rate", "won_leads / leads", "percent",
           "Share of the leads created in the period that have been won.", group="Leads",
           trap="A cohort rate: recent leads have had less time to close, so a recent period "
           "reads low. " + _RATIO),
    metric("won_value", "Won value", "won_value", "currency",
           "Value of the won leads, in the reporting currency.", group="Leads",
           trap="On the lead's created date, converted at that date's rate. A won lead in a "
           "currency without a rate has no value (build warns), never converted at 1."),
)

_PRODUCTS: tuple[Metric, ...] = (
    metric("product_revenue", "Product revenue", "product_net_sales", "currency",
           "Net sales by product or category.", basis=NET, group="Products"),
    metric("product_units", "Product units", "product_units", "number",
           "Units sold less returned, by product or category.", group="Products"),
    metric("product_orders", "Orders with the product", "product_orders", "number",
           "Orders containing the product or category.", group="Products",
           trap="An order with two categories counts in both: category rows do not add up "
           "to the order total."),
    metric("product_margin_pct", "Product margin %",
           "(product_net_sales - product_cogs) / product_net_sales", "percent",
           "Gross margin by product or category.", basis=NET, group="Products", trap=_RATIO),
    metric("product_return_rate", "Product return rate",
           "product_returns / product_gross_sales", "percent",
           "Share of a product's gross sales refunded.", better="lower", group="Products",
           trap=_RATIO),
    metric("inventory_value", "Inventory value", "inventory_value", "currency",
           "Stock on hand at unit cost.", group="Inventory", better=None,
           trap="A snapshot: summed across products and locations, but over time the last "
           "day counts, never the sum of days."),
    metric("units_on_hand", "Units on hand", "on_hand_units", "number", "Units in stock.",
           group="Inventory", better=None, trap="A snapshot, like inventory value."),
)

METRICS = MetricRegistry((*_SALES, *_COST, *_MARKETING, *_TRAFFIC, *_LEADS,
                          *_PRODUCTS))
