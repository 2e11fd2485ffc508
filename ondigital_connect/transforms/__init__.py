"""Transforms: canonical tables -> facts for the rollups (run by ``ondigital-connect build``).

The SQL is written once, in DuckDB's dialect, and rendered per dialect by :mod:`.dialect`
(:func:`statements` lists every statement of a build for a dialect); builds run on DuckDB.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ondigital_connect.errors import ConfigError
from ondigital_connect.kpi.channels import DEFAULT_RULES, Rule
from ondigital_connect.transforms import ad_markets, plan, runner
from ondigital_connect.transforms.ad_markets import NO_MARKETS, AdMarkets
from ondigital_connect.transforms.dialect import DIALECTS, Statement, execute

if TYPE_CHECKING:  # the warehouse package (pyarrow, duckdb) is not needed to import this one
    from ondigital_connect.warehouse.base import Warehouse

__all__ = ["DIALECTS", "BuildStats", "Statement", "build", "statements"]

_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class BuildStats:
    """What a build produced: facts in total, and how (``full`` or ``incremental``)."""

    orders: int
    refunds: int
    orders_without_rate: int
    mode: str = "full"
    orders_rebuilt: int = 0
    leads: int = 0
    leads_without_rate: int = 0  # won leads whose value has no rate (left empty)


def build(warehouse: Warehouse, *, reporting_currency: str,
          rules: Sequence[Rule] = DEFAULT_RULES, full: bool = False,
          markets: AdMarkets = NO_MARKETS) -> BuildStats:
    """Rebuild the facts and the six rollups in one transaction (all or nothing).

    Only what changed since the last build is rebuilt when that build used the same currency,
    rules, rates, campaigns and ad-markets mapping (see ``runner``); ``full=True`` rebuilds
    everything. ``markets`` places ad spend (and leads, by campaign) in markets; unmapped
    spend keeps a NULL market. Money is converted to ``reporting_currency`` at each fact's
    own date; an order in a currency with no rate on or before its date keeps NULL amounts
    and is counted in ``orders_without_rate`` (never silently converted at 1), and so is a
    won lead's value in ``leads_without_rate``.
    """
    if not _CURRENCY.fullmatch(reporting_currency):
        raise ConfigError(f"reporting currency must be an ISO code like SEK, not "
                          f"{reporting_currency!r}")
    dialect = getattr(warehouse, "dialect", None)
    if dialect != "duckdb":
        raise ConfigError(f"transforms run on DuckDB only so far, not on {dialect}: running "
                          "them on BigQuery arrives with the BigQuery warehouse (`ondigital-"
                          "connect build --print-sql --dialect bigquery` shows the SQL)")
    with warehouse.transaction():
        ad_markets.load(warehouse, markets)
        mode, rebuilt = runner.run(warehouse, reporting_currency, rules, full=full,
                                   markets=markets)
        ((orders, missing),), ((refunds,),), ((lead_count, leads_missing),) = (
            execute(warehouse, statement) for statement in plan.COUNTS)
    return BuildStats(int(orders), int(refunds), int(missing), mode, rebuilt, int(lead_count),
                      int(leads_missing))


def statements(dialect: str = "duckdb", *, rules: Sequence[Rule] = DEFAULT_RULES,
               incremental: bool = False, pretty: bool = False) -> list[Statement]:
    """Every statement a build runs, in order, rendered for ``dialect`` (``duckdb`` or
    ``bigquery``): each with its name and the names of the values it binds (``currency``,
    the reporting currency; marks and keys for the build log). Ad-market rows appear once,
    as the template each mapping entry fills. ``incremental`` gives the statements of a build
    that rebuilds only what changed. A ConfigError names a statement that cannot be
    rendered faithfully."""
    sources = [*ad_markets.TABLES, ad_markets.ACCOUNT_ROW, ad_markets.CAMPAIGN_ROW,
               *runner.control(), *plan.prelude(rules), *runner.keys(),
               *(runner.affected() if incremental else ()),
               *plan.body(rules, incremental=incremental), *runner.record(), *plan.COUNTS]
    return [statement.render(dialect, pretty=pretty) for statement in sources]
