"""Transforms: canonical tables -> facts for the rollups (run by ``ondigital-connect build``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ondigital_connect.errors import ConfigError
from ondigital_connect.kpi.channels import DEFAULT_RULES, Rule
from ondigital_connect.transforms import ad_markets, leads, order_facts, runner
from ondigital_connect.transforms.ad_markets import NO_MARKETS, AdMarkets
from ondigital_connect.warehouse.base import Warehouse

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
    if getattr(warehouse, "dialect", None) != "duckdb":
        raise ConfigError("transforms run on DuckDB only so far")
    with warehouse.transaction():
        ad_markets.load(warehouse, markets)
        mode, rebuilt = runner.run(warehouse, order_facts.steps(rules), reporting_currency,
                                   rules, full=full, markets=markets)
        ((orders, missing),) = warehouse.fetch(
            "SELECT count(*), count(*) FILTER (WHERE fx_rate IS NULL) FROM order_facts")
        ((refunds,),) = warehouse.fetch("SELECT count(*) FROM refund_facts")
        ((lead_count, leads_missing),) = warehouse.fetch(leads.COUNTS)
    return BuildStats(int(orders), int(refunds), int(missing), mode, rebuilt, int(lead_count),
                      int(leads_missing))
