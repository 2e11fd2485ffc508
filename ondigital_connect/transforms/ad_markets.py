"""Ad spend by market: the tenant's mapping of ad accounts and campaigns to markets.

Ad platforms report spend per account and campaign, never per market, so a tenant says where
its spend belongs, in TOML (``ondigital-connect build --ad-markets FILE``)::

    [ad_markets.accounts]
    "act_123" = "SE"            # every campaign of this ad account is Swedish ...

    [[ad_markets.campaigns]]
    pattern = "NO_*"            # ... except those whose name starts with NO_
    market = "NO"

A campaign pattern is a wildcard (``*`` any run of characters, ``?`` one character) matched
against the campaign as the reports key it (lowercase, trimmed, spaces as ``_``), ignoring
case. Patterns are tried in file order and the first match wins; a matching pattern wins over
the account. Spend matched by neither keeps an empty (NULL) market, so a breakdown by market
shows it in a row of its own instead of losing or spreading it. Leads have no ad account:
they take the market of their campaign (see :mod:`.leads`).

The mapping reaches SQL as two temporary tables filled with bound parameters.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ondigital_connect.errors import ConfigError
from ondigital_connect.transforms.dialect import Statement, execute


@dataclass(frozen=True, slots=True)
class CampaignMarket:
    """Campaigns whose key matches the wildcard ``pattern`` belong to ``market``."""

    pattern: str
    market: str


@dataclass(frozen=True, slots=True)
class AdMarkets:
    """Ad account id -> market, and campaign patterns (first match wins, before accounts)."""

    accounts: tuple[tuple[str, str], ...] = ()
    campaigns: tuple[CampaignMarket, ...] = ()


NO_MARKETS = AdMarkets()

_SECTION_KEYS = {"accounts", "campaigns"}
_CAMPAIGN_KEYS = {"pattern", "market"}

#: the two temporary tables, and the row each mapping entry becomes (bound values only)
TABLES = (
    Statement("_ad_market_accounts", "CREATE OR REPLACE TEMP TABLE _ad_market_accounts "
              "(account_id VARCHAR, market VARCHAR)"),
    Statement("_ad_market_campaigns", "CREATE OR REPLACE TEMP TABLE _ad_market_campaigns "
              "(position INTEGER, pattern VARCHAR, market VARCHAR)"),
)
ACCOUNT_ROW = Statement("_ad_market_accounts row",
                        "INSERT INTO _ad_market_accounts VALUES (?, ?)", ("account_id", "market"))
CAMPAIGN_ROW = Statement("_ad_market_campaigns row",
                         "INSERT INTO _ad_market_campaigns VALUES (?, ?, ?)",
                         ("position", "pattern", "market"))


def markets_key(markets: AdMarkets) -> str:
    """A short fingerprint of the mapping, kept in ``_builds`` so a change rebuilds."""
    return hashlib.sha256(repr(markets).encode()).hexdigest()[:16]


def ad_markets_from_toml(text: str) -> AdMarkets:
    """The ``[ad_markets]`` table of a TOML file (other tables are ignored, so the tenant's
    file may hold its channel rules too); ConfigError names what is wrong."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"ad markets: not valid TOML: {exc}") from None
    section = data.get("ad_markets")
    if not isinstance(section, dict):
        raise ConfigError("ad markets: the file needs an [ad_markets] table "
                          "([ad_markets.accounts] and/or [[ad_markets.campaigns]])")
    unknown = set(section) - _SECTION_KEYS
    if unknown:
        raise ConfigError(f"ad markets: unknown keys {', '.join(sorted(unknown))} "
                          "(use accounts and campaigns)")
    return AdMarkets(_accounts(section.get("accounts", {})),
                     _campaigns(section.get("campaigns", [])))


def _accounts(table: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise ConfigError('ad markets: accounts must be a table like "act_123" = "SE"')
    out: dict[str, str] = {}
    for account, market in table.items():
        key = account.strip().lower()
        if not key:
            raise ConfigError("ad markets: an account id is empty")
        if key in out:
            raise ConfigError(f"ad markets: account {account!r} is mapped twice")
        out[key] = _market(market, f"account {account!r}")
    return tuple(out.items())


def _campaigns(items: Any) -> tuple[CampaignMarket, ...]:
    if not isinstance(items, list):
        raise ConfigError("ad markets: campaigns must be [[ad_markets.campaigns]] tables")
    out = []
    for number, item in enumerate(items, 1):
        where = f"campaign rule {number}"
        if not isinstance(item, dict):
            raise ConfigError(f"ad markets: {where} must be a table with pattern and market")
        unknown = set(item) - _CAMPAIGN_KEYS
        if unknown:
            raise ConfigError(f"ad markets: {where}: unknown keys {', '.join(sorted(unknown))}")
        pattern = item.get("pattern")
        if not isinstance(pattern, str) or not pattern.strip():
            raise ConfigError(f"ad markets: {where} needs a pattern such as \"SE_*\"")
        out.append(CampaignMarket(pattern.strip(), _market(item.get("market"), where)))
    return tuple(out)


def _market(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"ad markets: {where} needs a market name such as \"SE\"")
    return value.strip()


def like_pattern(pattern: str) -> str:
    """A wildcard pattern as a SQL LIKE pattern (escape ``\\``) over campaign keys: keyed like
    the campaigns (lowercase, trimmed, spaces as ``_``), ``*`` -> ``%``, ``?`` -> ``_``, and
    LIKE's own ``%``, ``_`` and ``\\`` taken literally."""
    key = re.sub(r"\s+", "_", pattern.strip().lower())
    special = {"*": "%", "?": "_", "%": "\\%", "_": "\\_", "\\": "\\\\"}
    return "".join(special.get(ch, ch) for ch in key)


def load(warehouse: Any, markets: AdMarkets) -> None:
    """Fill the two temporary tables the marketing and lead steps read (bound values only)."""
    for statement in TABLES:
        execute(warehouse, statement)
    for account, market in markets.accounts:
        execute(warehouse, ACCOUNT_ROW, {"account_id": account, "market": market})
    for position, rule in enumerate(markets.campaigns, 1):
        execute(warehouse, CAMPAIGN_ROW, {"position": position, "market": rule.market,
                                          "pattern": like_pattern(rule.pattern)})


def campaign_market_sql(campaign: str) -> str:
    """SQL: the market of the first campaign pattern matching the campaign key ``campaign``."""
    return (f"(SELECT arg_min(m.market, m.position) FROM _ad_market_campaigns m "
            f"WHERE {campaign} LIKE m.pattern ESCAPE '\\')")


def market_sql(campaign: str, account: str) -> str:
    """SQL: the market of an ad row: its campaign's pattern, else its account, else NULL."""
    by_account = (f"(SELECT m.market FROM _ad_market_accounts m "
                  f"WHERE m.account_id = lower(trim({account})))")
    return f"coalesce({campaign_market_sql(campaign)}, {by_account})"
