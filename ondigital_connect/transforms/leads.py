"""``lead_facts`` and ``rollup_leads``: CRM leads ready for leads, win rate and CPL.

A lead is booked on the day it was created, in the shop's time zone (the one its orders and
refunds are dated in), so a lead and an order made at the same moment fall on the same day.
Its channel, source and campaign come from its utm fields through the same channel rules and
campaign keys as the orders (a utm_campaign holding an ad campaign's id meets the campaign's
name); the CRM's own ``channel`` field is not used. A lead has no ad account, so its market
comes from its campaign (:mod:`.ad_markets`): the first campaign pattern that matches, else
the market of the ad accounts the campaign's spend comes from when they all map to one
market, else NULL. So spend and leads of a campaign meet in the same market for CPL.

Won leads (``won_at`` set) count on the created date too, so a cohort's win rate rises as its
leads close. The won value is converted to the reporting currency at the rate of the lead's
own date; a won lead in a currency without a rate keeps an empty value (never converted at 1).
"""

from __future__ import annotations

from collections.abc import Sequence

from ondigital_connect.kpi.channels import Rule, channel_sql, touch_sql
from ondigital_connect.transforms.ad_markets import campaign_market_sql
from ondigital_connect.transforms.dialect import local_date
from ondigital_connect.transforms.rollups import campaign_key, rate_join

#: the tenant's time zone for lead dates: its orders' (the most common one), else UTC
ZONE = """
CREATE OR REPLACE TEMP TABLE _zone AS
SELECT coalesce((SELECT timezone FROM orders WHERE NOT is_test AND timezone IS NOT NULL
                 GROUP BY timezone ORDER BY count(*) DESC, timezone LIMIT 1), 'UTC') AS zone
"""

#: SQL: the created date of lead ``l`` in the zone of ``_zone z``
LEAD_DATE = local_date("l.created_at", "z.zone", "duckdb")

#: campaign -> the market of its ad accounts, for campaigns whose spend all comes from
#: accounts mapped to one market
CAMPAIGN_MARKETS = f"""
CREATE OR REPLACE TEMP TABLE _campaign_markets AS
SELECT campaign, min(market) AS market
FROM (SELECT coalesce(ci.campaign, {campaign_key('a.campaign_name')}) AS campaign,
             (SELECT m.market FROM _ad_market_accounts m
              WHERE m.account_id = lower(trim(a.account_id))) AS market
      FROM ad_insights a LEFT JOIN _campaign_ids ci ON ci.id = lower(trim(a.campaign_id)))
GROUP BY campaign
HAVING count(*) FILTER (WHERE market IS NULL) = 0 AND count(DISTINCT market) = 1
"""


def lead_facts(rules: Sequence[Rule]) -> str:
    """SQL: one row per lead (binds the reporting currency once)."""
    none = "CAST(NULL AS VARCHAR)"
    source, medium, campaign = touch_sql("l.utm_source", "l.utm_medium", "l.utm_campaign",
                                         none, none)
    grouped = channel_sql("t.source", "t.medium", "t.campaign_name", rules)
    return f"""
CREATE OR REPLACE TABLE lead_facts AS
WITH touched AS (
    SELECT l.lead_key, {LEAD_DATE} AS date, l.won_at IS NOT NULL AS is_won, l.value,
           l.currency, {source} AS source, {medium} AS medium, {campaign} AS campaign_name
    FROM leads l CROSS JOIN _zone z
    WHERE SCOPE_LEADS
), keyed AS (
    SELECT t.*, {grouped} AS channel,
           coalesce(ci.campaign, {campaign_key('t.campaign_name')}) AS campaign
    FROM touched t LEFT JOIN _campaign_ids ci ON ci.id = t.campaign_name
)
SELECT k.lead_key, k.date,
       coalesce({campaign_market_sql('k.campaign')}, cm.market) AS market, k.channel,
       k.source, k.medium, k.campaign, k.is_won, k.value, k.currency, fx.rate AS fx_rate,
       CAST(CASE WHEN k.is_won THEN k.value * fx.rate END AS DECIMAL(38, 9)) AS won_value
FROM keyed k LEFT JOIN _campaign_markets cm USING (campaign)
{rate_join('fx', 'k.currency', 'k.date')}
"""


ROLLUP_LEADS = """
CREATE OR REPLACE TABLE rollup_leads AS
SELECT date, market, channel, source, campaign,
       count(*) AS leads, count(*) FILTER (WHERE is_won) AS won_leads,
       CAST(coalesce(sum(won_value), 0) AS DECIMAL(38, 9)) AS won_value
FROM lead_facts
WHERE SCOPE_LEAD_DATES
GROUP BY ALL
"""

#: SQL: leads in all, and won leads whose value has no exchange rate (it stays empty)
COUNTS = ("SELECT count(*), count(*) FILTER (WHERE is_won AND value IS NOT NULL "
          "AND fx_rate IS NULL) FROM lead_facts")
