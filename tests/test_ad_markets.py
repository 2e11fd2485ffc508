"""Ad spend by market: the tenant's mapping, its TOML, the build and the planner.

On the hand-made shop (tests/kpi_shop.py) with AD_MARKETS: "Brand Search" (100.00 SEK on Feb 1)
is in the google_ads account 123-456-7890, mapped to SE; "NO Brand" (40.00 SEK on Mar 2) is in
the same account but matches the pattern NO_*, which wins: NO; "Spring Sale" (115.00 SEK on
Feb 1) is in act_9, unmapped: empty market. Spend Feb 1 - Mar 31: 255.00 in all. Net sales in
that range: 162.00 in February and 160.00 in March (order G), none of it with a market.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import ondigital_connect
from ondigital_connect.errors import ConfigError
from ondigital_connect.kpi import planner
from ondigital_connect.transforms import build, order_facts, rollups
from ondigital_connect.transforms.ad_markets import (
    AdMarkets,
    CampaignMarket,
    ad_markets_from_toml,
    campaign_market_sql,
    like_pattern,
    load,
)
from ondigital_connect.warehouse import DuckDBWarehouse
from tests.defects import SOUND_OR_DEFECT, expect
from tests.kpi_shop import AD_MARKETS, AD_MARKETS_TOML, load_shop

D = Decimal
FEB_1, MAR_31 = dt.date(2026, 2, 1), dt.date(2026, 3, 31)


def by_market(wh: DuckDBWarehouse, metrics: str = "marketing_cost") -> list[list[object]]:
    return ondigital_connect.kpis(wh, metrics, by="market", date_from=FEB_1,
                                  date_to=MAR_31).values.tolist()


def total(wh: DuckDBWarehouse, metric: str = "marketing_cost") -> object:
    return ondigital_connect.kpis(wh, metric, date_from=FEB_1, date_to=MAR_31)[metric][0]


# -- the mapping --------------------------------------------------------------------------


def test_the_toml_file_reads_into_the_mapping() -> None:
    assert ad_markets_from_toml(AD_MARKETS_TOML) == AD_MARKETS
    assert ad_markets_from_toml('[ad_markets.accounts]\n" ACT_1 " = " DK "\n'
                                "[[channel_rules]]\nchannel = 'x'\n") == AdMarkets(
        (("act_1", "DK"),))  # ids trimmed and lowercased; other tables are left alone


@pytest.mark.parametrize(("text", "message"), [
    ("[ad_markets", "not valid TOML"),
    ("[[channel_rules]]\nchannel = 'x'\n", r"needs an \[ad_markets\] table"),
    ("[ad_markets]\ncampaign = []\n", "unknown keys campaign"),
    ("[ad_markets]\naccounts = ['act_1']\n", "accounts must be a table"),
    ('[ad_markets.accounts]\n"act_1" = 5\n', "account 'act_1' needs a market name"),
    ('[ad_markets.accounts]\n"act_1" = "SE"\n"ACT_1" = "NO"\n', "'ACT_1' is mapped twice"),
    ('[ad_markets.accounts]\n" " = "SE"\n', "an account id is empty"),
    ("[ad_markets]\ncampaigns = 'SE_*'\n", "campaigns must be"),
    ("[[ad_markets.campaigns]]\nmarket = 'SE'\n", "campaign rule 1 needs a pattern"),
    ("[[ad_markets.campaigns]]\npattern = 'SE_*'\nmarket = 'SE'\n"
     "[[ad_markets.campaigns]]\npattern = 'NO_*'\nmarket = ''\n",
     "campaign rule 2 needs a market name"),
    ("[[ad_markets.campaigns]]\npattern = 'SE_*'\nmarket = 'SE'\nregex = 'x'\n",
     "campaign rule 1: unknown keys regex"),
])
def test_a_bad_file_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ad_markets_from_toml(text)


def test_patterns_are_wildcards_over_campaign_keys() -> None:
    assert like_pattern("SE_*") == "se\\_%"
    assert like_pattern(" Black  Friday ? ") == "black\\_friday\\__"
    assert like_pattern("100%\\") == "100\\%\\\\"


def test_the_first_matching_pattern_wins(warehouse: DuckDBWarehouse) -> None:
    load(warehouse, AdMarkets(campaigns=(CampaignMarket("NO_*", "NO"),
                                         CampaignMarket("*sale*", "DK"),
                                         CampaignMarket("*", "SE"))))
    rows = warehouse.fetch(f"SELECT c, {campaign_market_sql('c')} FROM (VALUES ('no_brand'), "
                           "('nox_brand'), ('spring_sale'), ('no_sale')) t(c) ORDER BY c")
    # "_" in NO_* is a literal underscore, not LIKE's any-character: nox_brand is not NO
    assert rows == [("no_brand", "NO"), ("no_sale", "NO"), ("nox_brand", "SE"),
                    ("spring_sale", "DK")]


# -- spend by market ------------------------------------------------------------------------


@pytest.fixture
def shop(warehouse: DuckDBWarehouse) -> DuckDBWarehouse:
    return load_shop(warehouse)


def check_spend_by_market(wh: DuckDBWarehouse) -> None:
    """Pattern over account, unmapped spend in its own empty-market row, nothing lost."""
    rows = by_market(wh)
    assert rows == [["NO", D("40")], ["SE", D("100")], [None, D("115")]]
    assert sum(r[1] for r in rows) == total(wh) == D("255")


def drop_unmapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect: spend without a market is left out of the marketing rollup."""
    real = order_facts.rollup_marketing
    monkeypatch.setattr(order_facts, "rollup_marketing", lambda case: real(case).replace(
        "FROM placed", "FROM placed WHERE market IS NOT NULL"))


def spread_unmapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect: unmapped spend is booked to a market (SE) instead of an empty one."""
    real = rollups.market_sql
    monkeypatch.setattr(rollups, "market_sql", lambda c, a: f"coalesce({real(c, a)}, 'SE')")


@SOUND_OR_DEFECT
@pytest.mark.parametrize("injected", [drop_unmapped, spread_unmapped])
def test_spend_by_market_keeps_unmapped_spend_in_an_empty_market(
    defect: bool, injected: object, shop: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if defect:
        injected(monkeypatch)  # type: ignore[operator]
    build(shop, reporting_currency="SEK", markets=AD_MARKETS)
    expect(defect, lambda: check_spend_by_market(shop))


def using_join(parts: list[tuple[str, str]], dims: list[str]) -> tuple[str, list[str]]:
    """Defect: the planner's old join, where a NULL market never meets a NULL market."""
    body = f"({parts[0][1]}) AS {parts[0][0]}"
    for name, sql in parts[1:]:
        body += (f" FULL OUTER JOIN ({sql}) AS {name} USING ({', '.join(dims)})" if dims
                 else f" CROSS JOIN ({sql}) AS {name}")
    return body, list(dims)


@SOUND_OR_DEFECT
def test_cos_by_market_blends_the_empty_markets_in_one_row(
    defect: bool, shop: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if defect:
        monkeypatch.setattr(planner, "_joined", using_join)
    build(shop, reporting_currency="SEK", markets=AD_MARKETS)

    def check() -> None:
        assert by_market(shop, "marketing_cost,revenue,cos") == [
            ["NO", D("40"), D(0), None], ["SE", D("100"), D(0), None],
            [None, D("115"), D("322"), D("115") / D("322")]]
    expect(defect, check)


def test_a_market_filter_keeps_that_markets_spend(shop: DuckDBWarehouse) -> None:
    build(shop, reporting_currency="SEK", markets=AD_MARKETS)
    got = ondigital_connect.kpis(shop, "marketing_cost,clicks", date_from=FEB_1,
                                 date_to=MAR_31, filters={"market": ["SE", "NO"]})
    assert got.values.tolist() == [[D("140"), D(58)]]


# -- rebuilds ------------------------------------------------------------------------------


def test_a_changed_mapping_rebuilds_marketing_and_the_same_one_is_idempotent(
    shop: DuckDBWarehouse,
) -> None:
    def marketing() -> list[tuple]:
        return sorted(shop.fetch("SELECT * FROM rollup_marketing"), key=repr)

    assert build(shop, reporting_currency="SEK").mode == "full"
    assert by_market(shop) == [[None, D("255")]]  # no mapping: all spend unmapped
    assert build(shop, reporting_currency="SEK", markets=AD_MARKETS).mode == "full"
    check_spend_by_market(shop)
    first = marketing()
    assert build(shop, reporting_currency="SEK", markets=AD_MARKETS).mode == "incremental"
    assert marketing() == first
    only_accounts = AdMarkets(AD_MARKETS.accounts)
    assert build(shop, reporting_currency="SEK", markets=only_accounts).mode == "full"
    assert by_market(shop) == [["SE", D("140")], [None, D("115")]]


def test_cli_build_takes_the_ad_markets_file(shop: DuckDBWarehouse, tmp_path) -> None:
    from click.testing import CliRunner

    from ondigital_connect.cli import cli

    mapping, broken = tmp_path / "markets.toml", tmp_path / "broken.toml"
    mapping.write_text(AD_MARKETS_TOML)
    broken.write_text("[ad_markets]\naccount = {}\n")
    path = shop.path
    shop.close()
    base = ["build", "--warehouse", f"duckdb:///{path}", "--currency", "SEK"]
    ok = CliRunner().invoke(cli, [*base, "--ad-markets", str(mapping)])
    assert ok.exit_code == 0, ok.output
    assert "lead_facts: 4 leads" in ok.output
    bad = CliRunner().invoke(cli, [*base, "--ad-markets", str(broken)])
    assert bad.exit_code == 1 and "unknown keys account" in bad.output
    wh = DuckDBWarehouse(path, read_only=True)
    check_spend_by_market(wh)
    wh.close()
