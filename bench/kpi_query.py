"""KPI query speed: build the rollups for N orders, then time a control-tower query.

Usage: python bench/kpi_query.py [--orders 10000000] [--repeat 5]

The orders (3 lines each, a tenth refunded weeks later, UTMs, click ids and referrers spread
over channels, four markets, two years) plus daily ad and web-analytics rows are generated
straight into DuckDB's canonical tables with SQL: a sync of 10M orders would take half an hour
and is measured by sync_throughput.py. Then it times ``build()`` (facts and rollups) and the
control-tower query (90 days, date x channel, 8 metrics, one market filter) through the
planner, next to a hand-written query on the raw canonical tables for the same numbers, and
checks that the two agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from ondigital_connect.kpi.planner import KpiQuery, plan
from ondigital_connect.transforms import build
from ondigital_connect.warehouse import DuckDBWarehouse

START = dt.date(2024, 11, 1)
DAYS = 730
METRICS = ("revenue", "orders", "aov", "units_sold", "returns", "new_customers", "sessions",
           "cr")

_ORDERS = """
INSERT INTO orders BY NAME
SELECT 'shopify' AS source, 'bench.myshopify.com' AS account_id,
       'o' || i AS order_key, CAST(i AS VARCHAR) AS order_id,
       TIMESTAMPTZ '2024-11-01 00:00:00+00' + to_seconds(CAST(hash(i) % (730 * 86400) AS BIGINT))
           AS created_at,
       CAST(created_at AS DATE) AS order_date, 'Europe/Stockholm' AS timezone,
       created_at AS updated_at, false AS is_test,
       ['SE', 'NO', 'DK', 'FI'][CAST(1 + hash(i * 7) % 4 AS BIGINT)] AS market,
       market AS country_code,
       'SEK' AS currency, 0 AS gross_sales, 0 AS discounts, 49 AS shipping, 0 AS tax,
       0 AS total, 0 AS total_refunded, 'SEK' AS presentment_currency,
       0 AS presentment_gross_sales, 0 AS presentment_discounts, 0 AS presentment_shipping,
       0 AS presentment_tax, 0 AS presentment_total, true AS taxes_included,
       'c' || (hash(i * 13) % ({n} // 3)) AS customer_key,
       [NULL, 'google', 'facebook', 'newsletter', NULL][TOUCH] AS utm_source,
       [NULL, 'cpc', 'paid_social', 'email', NULL][TOUCH] AS utm_medium,
       'campaign_' || hash(i * 19) % 20 AS utm_campaign,
       CASE hash(i * 23) % 4 WHEN 0 THEN 'https://shop.example/p?gclid=x'
            ELSE 'https://shop.example/p' END AS landing_page,
       CASE hash(i * 29) % 3 WHEN 0 THEN 'https://www.google.se/' ELSE NULL END AS referrer,
       3 AS line_count, 0 AS refund_count, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS _synced_at
FROM range({n}) t(i)
""".replace("TOUCH", "CAST(1 + hash(i * 17) % 5 AS BIGINT)")

_LINES = """
INSERT INTO order_lines BY NAME
SELECT 'shopify' AS source, 'bench.myshopify.com' AS account_id,
       'o' || i || '-' || k AS line_key, 'o' || i AS order_key, CAST(k AS VARCHAR) AS line_id,
       'SKU-' || hash(i * 31 + k) % 500 AS sku, 'Category ' || hash(i * 31 + k) % 12 AS category,
       1 + hash(i * 37 + k) % 3 AS quantity,
       CAST(100 + hash(i * 41 + k) % 900 AS DECIMAL(38, 9)) AS unit_price,
       CAST(0 AS DECIMAL(38, 9)) AS discount,
       CAST(unit_price * quantity / 5 AS DECIMAL(38, 9)) AS tax,
       CAST(40 AS DECIMAL(38, 9)) AS unit_cost, 'SEK' AS currency
FROM range({n}) t(i), range(3) s(k)
"""

_REFUNDS = """
INSERT INTO refunds BY NAME
SELECT 'shopify' AS source, 'bench.myshopify.com' AS account_id, 'r' || i AS refund_key,
       'o' || i AS order_key, CAST(i AS VARCHAR) AS refund_id,
       o.created_at + INTERVAL 20 DAY AS refunded_at,
       CAST(o.created_at + INTERVAL 20 DAY AS DATE) AS refund_date,
       'Europe/Stockholm' AS timezone, 'SEK' AS currency, 125 AS amount, 125 AS goods_amount,
       0 AS shipping_amount, 25 AS tax_amount
FROM range({n}) t(i) JOIN orders o ON o.order_key = 'o' || i
WHERE hash(i * 43) % 10 = 0
"""

_ADS = """
INSERT INTO ad_insights BY NAME
SELECT p AS source, 'acc' AS account_id,
       CAST(DATE '2024-11-01' + to_days(CAST(d AS INTEGER)) AS DATE) AS date,
       'Europe/Stockholm' AS account_timezone, 'SEK' AS currency, 'c' || c AS campaign_id,
       'Campaign ' || c AS campaign_name, 'g' AS ad_group_id, 'a' AS ad_id,
       CAST(500 + hash(d * 7 + c) % 500 AS DECIMAL(38, 9)) AS spend, 10000 AS impressions,
       300 AS clicks, 5 AS conversions, 5000 AS conversion_value
FROM range(730) a(d), range(20) b(c), (VALUES ('google_ads'), ('meta_ads')) v(p)
"""

_TRAFFIC = """
INSERT INTO web_traffic BY NAME
SELECT 'ga4' AS source, 'p1' AS account_id,
       CAST(DATE '2024-11-01' + to_days(CAST(d AS INTEGER)) AS DATE) AS date,
       'Europe/Stockholm' AS property_timezone, s AS session_source, m AS session_medium,
       'campaign_' || c AS campaign, 'desktop' AS device, mk AS country_code,
       2000 + hash(d + c) % 500 AS sessions, 1000 AS engaged_sessions, 0 AS new_users,
       1500 AS total_users, 0 AS key_events, 40 AS transactions, 0 AS purchase_revenue,
       'SEK' AS currency
FROM range(730) a(d), range(20) b(c), (VALUES ('SE'), ('NO'), ('DK'), ('FI')) k(mk),
     (VALUES ('google', 'cpc'), ('(direct)', '(none)')) v(s, m)
"""

# The orders side of the same numbers straight from the raw canonical tables: the channel
# rules and each customer's order sequence are re-run here, nothing is read from the facts.
_RAW = """
WITH o AS (
    SELECT o.order_key, o.order_date, o.market, {channel} AS channel,
           row_number() OVER (PARTITION BY o.customer_key ORDER BY o.created_at, o.order_key)
               AS seq
    FROM orders o WHERE NOT o.is_test
), l AS (
    SELECT order_key, sum(unit_price * quantity - discount - tax) AS net,
           sum(quantity) AS units FROM order_lines GROUP BY ALL
)
SELECT o.order_date AS date, o.channel, count(*) AS orders, sum(l.net) AS net,
       sum(l.units) AS units, count(*) FILTER (WHERE seq = 1) AS new_customers
FROM o JOIN l USING (order_key)
WHERE o.market = ? AND o.order_date BETWEEN ? AND ?
GROUP BY ALL
"""


def generate(wh: DuckDBWarehouse, n: int) -> float:
    """Fill the canonical tables; seconds taken."""
    start = time.perf_counter()
    with wh.transaction():
        for sql in (_ORDERS, _LINES, _REFUNDS, _ADS, _TRAFFIC):
            wh.fetch(sql.replace("{n}", str(n)))
    return time.perf_counter() - start


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    """Generate, build, and time the planner's query against a hand-written raw one."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wh = DuckDBWarehouse(Path(tmp) / "bench.duckdb", memory_limit="8GB")
        print(f"generated {args.orders:,} orders in {generate(wh, args.orders):.1f} s")
        start = time.perf_counter()
        stats = build(wh, reporting_currency="SEK")
        print(f"build (facts + rollups): {time.perf_counter() - start:.1f} s "
              f"({stats.orders:,} orders, {stats.refunds:,} refunds)")
        with wh.transaction():  # a sync re-reads one order in a hundred (about a day's worth)
            wh.fetch("UPDATE orders SET _synced_at = now() WHERE hash(order_key) % 100 = 0")
        start = time.perf_counter()
        again = build(wh, reporting_currency="SEK")
        print(f"build after 1 % of the orders changed: {time.perf_counter() - start:.1f} s "
              f"({again.mode}, {again.orders_rebuilt:,} orders rebuilt)")
        sizes = {t: wh.fetch(f"SELECT count(*) FROM {t}")[0][0]
                 for t in ("rollup_sales", "rollup_marketing", "rollup_traffic")}
        print("rollup rows: " + ", ".join(f"{t} {c:,}" for t, c in sizes.items()))
        end = START + dt.timedelta(days=DAYS - 1)
        query = KpiQuery(METRICS, end - dt.timedelta(days=89), end, ("date", "channel"),
                         {"market": ["SE"]})
        p = plan(query)
        seconds, rows = timed(lambda: p.rows(wh.fetch(p.sql, p.params)), args.repeat)
        print(f"planner query, uncached (90 days x channel, 8 metrics, market = SE): "
              f"{seconds * 1000:.1f} ms, {len(rows)} rows")
        raw = _raw_sql()
        raw_params = ["SE", query.date_from, query.date_to]
        raw_seconds, raw_rows = timed(lambda: wh.fetch(raw, raw_params), 1)  # slow: once
        print(f"hand-written query on the raw tables (orders side only): "
              f"{raw_seconds * 1000:.1f} ms")
        _check(rows, raw_rows)
        wh.close()


def _raw_sql() -> str:
    from ondigital_connect.kpi.channels import channel_sql, touch_sql

    source, medium, campaign = touch_sql("o.utm_source", "o.utm_medium", "o.utm_campaign",
                                         "o.landing_page", "o.referrer")
    return _RAW.replace("{channel}", channel_sql(source, medium, campaign))


def _check(rows: list, raw_rows: list) -> None:
    """The planner's orders, new customers and units (before returns) match the raw query."""
    planner = {(r[0], r[1]): (r[3], r[7]) for r in rows}  # orders, new_customers
    raw = {(r[0], r[1]): (Decimal(r[2]), Decimal(r[5])) for r in raw_rows}
    mismatched = [k for k, v in raw.items() if planner.get(k) != v]
    print("planner and raw query agree on orders and new customers"
          if not mismatched else f"MISMATCH on {len(mismatched)} rows, e.g. {mismatched[:3]}")


if __name__ == "__main__":
    main()
