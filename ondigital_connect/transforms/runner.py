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
import re
from collections.abc import Sequence
from typing import Any

from ondigital_connect.kpi.channels import Rule
from ondigital_connect.transforms.ad_markets import NO_MARKETS, AdMarkets, markets_key
from ondigital_connect.transforms.leads import LEAD_DATE
from ondigital_connect.transforms.order_facts import SCOPES_FULL, SCOPES_INCREMENTAL, Step

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
#: incremental scope -> the rows it deletes before re-inserting them
_SCOPE_ROWS = {"orders": "order_key IN (SELECT order_key FROM _affected)",
               "dates": "date IN (SELECT date FROM _dates)",
               "leads": "lead_key IN (SELECT lead_key FROM _affected_leads)",
               "lead_dates": "date IN (SELECT date FROM _lead_dates)"}
_FACTS = {"order_facts", "refund_facts", "line_facts", "rollup_sales", "rollup_products",
          "lead_facts", "rollup_leads"}
_CREATE = re.compile(r"^\s*CREATE OR REPLACE (TEMP )?TABLE (\w+) AS\s(.*)$", re.DOTALL)


def rules_key(rules: Sequence[Rule]) -> str:
    """A short fingerprint of the channel rules."""
    return hashlib.sha256(repr(tuple(rules)).encode()).hexdigest()[:16]


def run(warehouse: Any, steps: list[Step], currency: str, rules: Sequence[Rule], *,
        full: bool, markets: AdMarkets = NO_MARKETS) -> tuple[str, int]:
    """Run ``steps``; returns the mode used and how many orders were rebuilt."""
    _control_table(warehouse)
    for sql, binds, scope in steps:
        if scope == "prelude":
            warehouse.fetch(sql, [currency] * binds)
    keys = _keys(warehouse, currency, rules, markets)
    previous = _previous(warehouse)
    marks = warehouse.fetch("SELECT (SELECT max(_synced_at) FROM orders), "
                            "(SELECT max(_synced_at) FROM leads)")[0]
    incremental = (not full and previous is not None and previous[:len(keys)] == keys
                   and previous[len(keys)] is not None)
    if incremental:
        warehouse.fetch(_AFFECTED, [previous[len(keys)]])
        warehouse.fetch(_DATES)
        warehouse.fetch(_AFFECTED_LEADS, [previous[-1]] * 2)
        warehouse.fetch(_LEAD_DATES)
    for step in steps:
        if step[2] != "prelude":
            _apply(warehouse, step, currency, incremental)
    rebuilt = (warehouse.fetch("SELECT count(*) FROM _affected")[0][0] if incremental
               else warehouse.fetch("SELECT count(*) FROM order_facts")[0][0])
    mode = "incremental" if incremental else "full"
    columns = ("built_at", *_KEYS, *_MARKS, "mode")
    warehouse.fetch(f"INSERT INTO _builds ({', '.join(columns)}) VALUES "
                    f"(now(), {', '.join('?' for _ in columns[1:])})", [*keys, *marks, mode])
    return mode, int(rebuilt)


def _control_table(warehouse: Any) -> None:
    """Create ``_builds``, or add the columns an older one lacks."""
    warehouse.fetch(_BUILDS)
    for column in _BUILDS_ADDED:
        warehouse.fetch(f"ALTER TABLE _builds ADD COLUMN IF NOT EXISTS {column}")


def _keys(warehouse: Any, currency: str, rules: Sequence[Rule],
          markets: AdMarkets) -> tuple[str, ...]:
    """What a build depends on besides the synced rows; a change makes the next one full."""
    ((fx,),) = warehouse.fetch(
        "SELECT count(*) || '/' || coalesce(CAST(max(_synced_at) AS VARCHAR), '') FROM fx_rates")
    ((campaigns,),) = warehouse.fetch(
        "SELECT coalesce(md5(string_agg(id || '=' || campaign, ',' ORDER BY id)), '') "
        "FROM _campaign_ids")
    ((placed,),) = warehouse.fetch(
        "SELECT coalesce(md5(string_agg(campaign || '=' || market, ',' ORDER BY campaign)), "
        "'') FROM _campaign_markets")
    ((zone,),) = warehouse.fetch("SELECT zone FROM _zone")
    return (currency, rules_key(rules), str(fx), str(campaigns),
            f"{markets_key(markets)}/{placed}", str(zone))


def _previous(warehouse: Any) -> tuple | None:
    """The keys and marks of the last build, or None when its tables are missing."""
    tables = {r[0] for r in warehouse.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")}
    if not tables >= _FACTS:
        return None
    rows = warehouse.fetch(f"SELECT {', '.join((*_KEYS, *_MARKS))} FROM _builds "
                           "ORDER BY built_at DESC LIMIT 1")
    return tuple(rows[0]) if rows else None


def _apply(warehouse: Any, step: Step, currency: str, incremental: bool) -> None:
    sql, binds, scope = step
    params = [currency] * binds
    if not incremental or scope in ("full", "temp"):
        scopes = SCOPES_INCREMENTAL if incremental and scope == "temp" else SCOPES_FULL
        warehouse.fetch(_scoped(sql, scopes), params)
        return
    match = _CREATE.match(_scoped(sql, SCOPES_INCREMENTAL))
    if match is None:
        raise ValueError(f"not a CREATE OR REPLACE TABLE step: {sql[:60]!r}")
    table, select = match.group(2), match.group(3)
    warehouse.fetch(f"DELETE FROM {table} WHERE {_SCOPE_ROWS[scope]}")
    warehouse.fetch(f"INSERT INTO {table} BY NAME {select}", params)


def _scoped(sql: str, scopes: dict[str, str]) -> str:
    for name, condition in scopes.items():
        sql = sql.replace(name, condition)
    return sql
