"""Running the transform steps: in whole, or only for what changed since the last build.

A build is incremental when the last one used the same reporting currency, channel rules,
exchange rates, campaign names, ad-markets mapping and time zone: then only the orders synced
since (and every order of their customers, whose order sequence may shift) are rebuilt, and
the sales and product rollups only for the dates those orders and their refunds touch; so are
the leads synced since, and the leads rollup for their (old and new) dates. Anything else
rebuilds in whole. Both ways give the same tables (a test holds them equal).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ondigital_connect.kpi.channels import Rule
from ondigital_connect.transforms import plan
from ondigital_connect.transforms.ad_markets import NO_MARKETS, AdMarkets, markets_key
from ondigital_connect.transforms.dialect import Statement, execute
from ondigital_connect.transforms.leads import LEAD_DATE

_BUILDS = """
CREATE TABLE IF NOT EXISTS _builds (
    built_at TIMESTAMPTZ, reporting_currency VARCHAR, rules_key VARCHAR, fx_key VARCHAR,
    campaigns_key VARCHAR, orders_mark TIMESTAMPTZ, mode VARCHAR)
"""
#: columns added since the first release: an older ``_builds`` gets them (NULL, so the next
#: build is a full one)
_BUILDS_ADDED = ("markets_key VARCHAR", "zone VARCHAR", "leads_mark TIMESTAMPTZ")
_KEYS = ("reporting_currency", "rules_key", "fx_key", "campaigns_key", "markets_key", "zone")
_MARKS = ("orders_mark", "leads_mark")
_AFFECTED = """
CREATE OR REPLACE TEMP TABLE _affected AS
WITH changed AS (SELECT order_key, customer_key FROM orders WHERE _synced_at > ?)
SELECT order_key FROM orders
WHERE order_key IN (SELECT order_key FROM changed)
   OR customer_key IN (SELECT customer_key FROM changed WHERE customer_key IS NOT NULL)
"""
_DATES = """
CREATE OR REPLACE TEMP TABLE _dates AS
SELECT order_date AS date FROM order_facts WHERE order_key IN (SELECT order_key FROM _affected)
UNION SELECT refund_date FROM refund_facts WHERE order_key IN (SELECT order_key FROM _affected)
UNION SELECT order_date FROM orders WHERE order_key IN (SELECT order_key FROM _affected)
UNION SELECT refund_date FROM refunds WHERE order_key IN (SELECT order_key FROM _affected)
"""
_AFFECTED_LEADS = """
CREATE OR REPLACE TEMP TABLE _affected_leads AS
SELECT lead_key FROM leads WHERE CAST(? AS TIMESTAMPTZ) IS NULL OR _synced_at > ?
"""
_LEAD_DATES = f"""
CREATE OR REPLACE TEMP TABLE _lead_dates AS
SELECT date FROM lead_facts WHERE lead_key IN (SELECT lead_key FROM _affected_leads)
UNION SELECT {LEAD_DATE} AS date FROM leads l CROSS JOIN _zone z
WHERE l.lead_key IN (SELECT lead_key FROM _affected_leads)
"""
_FACTS = {"order_facts", "refund_facts", "line_facts", "rollup_sales", "rollup_products",
          "lead_facts", "rollup_leads"}

#: what a build depends on besides the synced rows (a change makes the next build full)
_FX_KEY = Statement("fx key", "SELECT CAST(count(*) AS VARCHAR) || '/' || "
                              "coalesce(CAST(max(_synced_at) AS VARCHAR), '') FROM fx_rates")
_CAMPAIGNS_KEY = Statement("campaigns key", """
SELECT coalesce(md5(string_agg(id || '=' || campaign, ',' ORDER BY id NULLS FIRST)), '')
FROM _campaign_ids""")
_MARKETS_KEY = Statement("markets key", """
SELECT coalesce(md5(string_agg(campaign || '=' || market, ',' ORDER BY campaign NULLS FIRST)),
                '') FROM _campaign_markets""")
_ZONE_KEY = Statement("zone key", "SELECT zone FROM _zone")
_SYNC_MARKS = Statement("sync marks", "SELECT (SELECT max(_synced_at) FROM orders), "
                                      "(SELECT max(_synced_at) FROM leads)")
#: the tables of the schema (on BigQuery, of the job's default dataset)
_TABLES = Statement(
    "tables", "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'",
    explicit=(("bigquery", "SELECT table_name FROM INFORMATION_SCHEMA.TABLES"),))
_LAST_BUILD = Statement("last build", f"SELECT {', '.join((*_KEYS, *_MARKS))} FROM _builds "
                                      "ORDER BY built_at DESC LIMIT 1")
_RECORD = Statement(
    "record build", f"INSERT INTO _builds (built_at, {', '.join((*_KEYS, *_MARKS))}, mode) "
                    f"VALUES (now(), {', '.join('?' for _ in (*_KEYS, *_MARKS))}, ?)",
    (*_KEYS, *_MARKS, "mode"))
_REBUILT = {"incremental": Statement("orders rebuilt", "SELECT count(*) FROM _affected"),
            "full": Statement("orders built", "SELECT count(*) FROM order_facts")}


def control() -> list[Statement]:
    """``_builds``, the build log: created, or given the columns an older one lacks."""
    return [Statement("_builds", _BUILDS),
            *(Statement(f"_builds {c.split()[0]}", f"ALTER TABLE _builds ADD COLUMN IF NOT "
                                                   f"EXISTS {c}") for c in _BUILDS_ADDED)]


def keys() -> list[Statement]:
    """What decides whether a build may be incremental, in order."""
    return [_FX_KEY, _CAMPAIGNS_KEY, _MARKETS_KEY, _ZONE_KEY, _TABLES, _LAST_BUILD, _SYNC_MARKS]


def affected() -> list[Statement]:
    """The orders, dates, leads and lead dates an incremental build rebuilds."""
    return [Statement("_affected", _AFFECTED, ("orders_mark",)),
            Statement("_dates", _DATES),
            Statement("_affected_leads", _AFFECTED_LEADS, ("leads_mark", "leads_mark")),
            Statement("_lead_dates", _LEAD_DATES)]


def record() -> list[Statement]:
    """How many orders were (re)built, and the build's row in ``_builds``."""
    return [_REBUILT["incremental"], _REBUILT["full"], _RECORD]


def rules_key(rules: Sequence[Rule]) -> str:
    """A short fingerprint of the channel rules."""
    return hashlib.sha256(repr(tuple(rules)).encode()).hexdigest()[:16]


def run(warehouse: Any, currency: str, rules: Sequence[Rule], *, full: bool,
        markets: AdMarkets = NO_MARKETS) -> tuple[str, int]:
    """Run the build's statements; returns the mode used and how many orders were rebuilt."""
    for statement in control():
        execute(warehouse, statement)
    for statement in plan.prelude(rules):
        execute(warehouse, statement, {"currency": currency})
    keys = _keys(warehouse, currency, rules, markets)
    previous = _previous(warehouse)
    marks = execute(warehouse, _SYNC_MARKS)[0]
    incremental = (not full and previous is not None and previous[:len(keys)] == keys
                   and previous[len(keys)] is not None)
    if incremental:
        for statement in affected():
            execute(warehouse, statement, {"orders_mark": previous[len(keys)],
                                           "leads_mark": previous[-1]})
    for statement in plan.body(rules, incremental=incremental):
        execute(warehouse, statement, {"currency": currency})
    mode = "incremental" if incremental else "full"
    ((rebuilt,),) = execute(warehouse, _REBUILT[mode])
    execute(warehouse, _RECORD, {**dict(zip(_KEYS, keys, strict=True)),
                                 **dict(zip(_MARKS, marks, strict=True)), "mode": mode})
    return mode, int(rebuilt)


def _keys(warehouse: Any, currency: str, rules: Sequence[Rule],
          markets: AdMarkets) -> tuple[str, ...]:
    """What a build depends on besides the synced rows; a change makes the next one full."""
    ((fx,),) = execute(warehouse, _FX_KEY)
    ((campaigns,),) = execute(warehouse, _CAMPAIGNS_KEY)
    ((placed,),) = execute(warehouse, _MARKETS_KEY)
    ((zone,),) = execute(warehouse, _ZONE_KEY)
    return (currency, rules_key(rules), str(fx), str(campaigns),
            f"{markets_key(markets)}/{placed}", str(zone))


def _previous(warehouse: Any) -> tuple | None:
    """The keys and marks of the last build, or None when its tables are missing."""
    tables = {r[0] for r in execute(warehouse, _TABLES)}
    if not tables >= _FACTS:
        return None
    rows = execute(warehouse, _LAST_BUILD)
    return tuple(rows[0]) if rows else None
