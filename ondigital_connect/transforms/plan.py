"""The transform statements of a build, in order, as :class:`~.dialect.Statement` objects.

The steps of :mod:`.order_facts` become statements here: scoped in whole for a full build, and
for an incremental one either recreated for the affected orders (temporary tables) or deleted
and re-inserted for the affected orders, dates or leads. Each statement names the values it
binds (``currency``, the reporting currency), so it renders for any dialect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ondigital_connect.kpi.channels import DEFAULT_RULES, Rule
from ondigital_connect.transforms import leads, order_facts
from ondigital_connect.transforms.dialect import Statement
from ondigital_connect.transforms.order_facts import SCOPES_FULL, SCOPES_INCREMENTAL

#: incremental scope -> the rows it deletes before re-inserting them
SCOPE_ROWS = {"orders": "order_key IN (SELECT order_key FROM _affected)",
              "dates": "date IN (SELECT date FROM _dates)",
              "leads": "lead_key IN (SELECT lead_key FROM _affected_leads)",
              "lead_dates": "date IN (SELECT date FROM _lead_dates)"}
_CREATE = re.compile(r"^\s*CREATE OR REPLACE (TEMP )?TABLE (\w+) AS\s(.*)$", re.DOTALL)

#: what a build reports: orders (and those without a rate), refunds, leads (and won ones
#: without a rate)
COUNTS = (
    Statement("count order_facts", "SELECT count(*), count(*) FILTER (WHERE fx_rate IS NULL) "
                                   "FROM order_facts"),
    Statement("count refund_facts", "SELECT count(*) FROM refund_facts"),
    Statement("count lead_facts", leads.COUNTS),
)


def prelude(rules: Sequence[Rule] = DEFAULT_RULES) -> list[Statement]:
    """The temporary tables every build makes first: rates, campaign ids, time zone, campaign
    markets (always in whole)."""
    return [_statement(sql, binds, SCOPES_FULL)
            for sql, binds, scope in order_facts.steps(rules) if scope == "prelude"]


def body(rules: Sequence[Rule] = DEFAULT_RULES, *, incremental: bool = False) -> list[Statement]:
    """The facts and rollups, in order; incremental ones only for what changed (see
    :mod:`.runner`, whose ``_affected*`` tables they read)."""
    out: list[Statement] = []
    for sql, binds, scope in order_facts.steps(rules):
        if scope == "prelude":
            continue
        if not incremental or scope in ("full", "temp"):
            scoped = SCOPES_INCREMENTAL if incremental and scope == "temp" else SCOPES_FULL
            out.append(_statement(sql, binds, scoped))
            continue
        match = _CREATE.match(_scoped(sql, SCOPES_INCREMENTAL))
        if match is None:
            raise ValueError(f"not a CREATE OR REPLACE TABLE step: {sql[:60]!r}")
        table, select = match.group(2), match.group(3)
        out += [Statement(f"delete {table}", f"DELETE FROM {table} WHERE {SCOPE_ROWS[scope]}"),
                Statement(f"insert {table}", f"INSERT INTO {table} BY NAME {select}",
                          ("currency",) * binds)]
    return out


def _statement(sql: str, binds: int, scopes: dict[str, str]) -> Statement:
    """A step as a statement named after the table it makes, scoped by ``scopes``."""
    scoped = _scoped(sql, scopes)
    match = _CREATE.match(scoped)
    return Statement(match.group(2) if match else scoped.split()[0], scoped,
                     ("currency",) * binds)


def _scoped(sql: str, scopes: dict[str, str]) -> str:
    """``sql`` with each scope marker (``SCOPE_ORDERS_O``, ...) replaced by its condition."""
    for name, condition in scopes.items():
        sql = sql.replace(name, condition)
    return sql
