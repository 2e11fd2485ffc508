"""Running the transform steps: in whole, or only for what changed since the last build.

A build is incremental when the last one used the same reporting currency, channel rules,
exchange rates and campaign names: then only the orders synced since (and every order of
their customers, whose order sequence may shift) are rebuilt, and the sales and product
rollups only for the dates those orders and their refunds touch. Anything else rebuilds in
whole. Both ways give the same tables (a test holds them equal).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from ondigital_connect.kpi.channels import Rule
from ondigital_connect.transforms.order_facts import SCOPES_FULL, SCOPES_INCREMENTAL, Step

_BUILDS = """
CREATE TABLE IF NOT EXISTS _builds (
    built_at TIMESTAMPTZ, reporting_currency VARCHAR, rules_key VARCHAR, fx_key VARCHAR,
    campaigns_key VARCHAR, orders_mark TIMESTAMPTZ, mode VARCHAR)
"""
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
_CREATE = re.compile(r"^\s*CREATE OR REPLACE (TEMP )?TABLE (\w+) AS\s(.*)$", re.DOTALL)


def rules_key(rules: Sequence[Rule]) -> str:
    """A short fingerprint of the channel rules."""
    return hashlib.sha256(repr(tuple(rules)).encode()).hexdigest()[:16]


def run(warehouse: Any, steps: list[Step], currency: str, rules: Sequence[Rule], *,
        full: bool) -> tuple[str, int]:
    """Run ``steps``; returns the mode used and how many orders were rebuilt."""
    warehouse.fetch(_BUILDS)
    prelude = [s for s in steps if s[2] == "prelude"]
    for sql, binds, _ in prelude:
        warehouse.fetch(sql, [currency] * binds)
    keys = _keys(warehouse, currency, rules)
    previous = _previous(warehouse)
    mark = warehouse.fetch("SELECT max(_synced_at) FROM orders")[0][0]
    incremental = (not full and previous is not None and previous[:4] == keys
                   and previous[4] is not None)
    if incremental:
        warehouse.fetch(_AFFECTED, [previous[4]])
        warehouse.fetch(_DATES)
    for step in steps:
        if step[2] != "prelude":
            _apply(warehouse, step, currency, incremental)
    rebuilt = (warehouse.fetch("SELECT count(*) FROM _affected")[0][0] if incremental
               else warehouse.fetch("SELECT count(*) FROM order_facts")[0][0])
    mode = "incremental" if incremental else "full"
    warehouse.fetch("INSERT INTO _builds VALUES (now(), ?, ?, ?, ?, ?, ?)",
                    [*keys, mark, mode])
    return mode, int(rebuilt)


def _keys(warehouse: Any, currency: str, rules: Sequence[Rule]) -> tuple[str, str, str, str]:
    ((fx,),) = warehouse.fetch(
        "SELECT count(*) || '/' || coalesce(CAST(max(_synced_at) AS VARCHAR), '') FROM fx_rates")
    ((campaigns,),) = warehouse.fetch(
        "SELECT coalesce(md5(string_agg(id || '=' || campaign, ',' ORDER BY id)), '') "
        "FROM _campaign_ids")
    return currency, rules_key(rules), str(fx), str(campaigns)


def _previous(warehouse: Any) -> tuple | None:
    tables = {r[0] for r in warehouse.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")}
    if not {"order_facts", "refund_facts", "line_facts", "rollup_sales",
            "rollup_products"} <= tables:
        return None
    rows = warehouse.fetch("SELECT reporting_currency, rules_key, fx_key, campaigns_key, "
                           "orders_mark FROM _builds ORDER BY built_at DESC LIMIT 1")
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
    key = "order_key IN (SELECT order_key FROM _affected)" if scope == "orders" else (
        "date IN (SELECT date FROM _dates)")
    warehouse.fetch(f"DELETE FROM {table} WHERE {key}")
    warehouse.fetch(f"INSERT INTO {table} BY NAME {select}", params)


def _scoped(sql: str, scopes: dict[str, str]) -> str:
    for name, condition in scopes.items():
        sql = sql.replace(name, condition)
    return sql
