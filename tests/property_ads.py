"""Seeded ad insights, CRM leads and EUR rates for the rollup property test, and the same
numbers worked out in Python from those rows (independently of the transforms' SQL).

Ad accounts: g-se (SEK) mapped to SE, g-no (SEK) to NO, ``G-DK `` (EUR; ids are matched
trimmed and lowercased) to DK, m-1 (EUR) unmapped. Campaign patterns: NO_* -> NO, then
*shop* -> DK, before the accounts. EUR rates start ten days in, so the earliest EUR spend and
won values have no rate and stay out of the sums. Leads' utm_campaign may hold a campaign id
(cmp-4), which resolves to the campaign's name.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter, defaultdict
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any
from zoneinfo import ZoneInfo

from ondigital_connect.kpi.channels import Touch, channel_of, touch_of
from ondigital_connect.models.canonical import AdInsight, FxRate
from ondigital_connect.models.tables import get_table
from ondigital_connect.transforms.ad_markets import AdMarkets, CampaignMarket
from ondigital_connect.warehouse import DuckDBWarehouse

MARKETS = AdMarkets((("g-se", "SE"), ("g-no", "NO"), ("g-dk", "DK")),
                    (CampaignMarket("NO_*", "NO"), CampaignMarket("*shop*", "DK")))
ACCOUNTS = (("google_ads", "g-se", "SEK"), ("google_ads", "g-no", "SEK"),
            ("google_ads", "G-DK ", "EUR"), ("meta_ads", "m-1", "EUR"))
PLATFORMS = {"google_ads": ("google", "cpc"), "meta_ads": ("facebook", "paid_social")}
CAMPAIGNS = (("cmp-1", "SE Brand"), ("cmp-2", "NO_Brand"), ("cmp-3", "Spring Sale"),
             ("cmp-4", "DK Shop  Search"), ("cmp-5", "nox brand"), ("cmp-6", "Black Friday"))
TOUCHES = ((None, None, None), ("google", "cpc", "SE Brand"), ("facebook", "paid_social",
           "Spring Sale"), ("newsletter", "email", "NO_Brand"), ("google", "cpc", "cmp-4"),
           ("google", "cpc", "Black Friday"), ("bing", "cpc", "nox brand"))
D = Decimal


def _first_day(wh: DuckDBWarehouse) -> dt.date:
    return wh.fetch("SELECT min(order_date) FROM orders")[0][0]


def load(wh: DuckDBWarehouse, seed: int = 20260301) -> None:
    """Write the seeded ads, leads and rates into ``wh``."""
    rng, first = random.Random(seed), _first_day(wh)
    rates = [FxRate(rate_date=first + dt.timedelta(days=d), base_currency="EUR",
                    quote_currency="SEK", rate=D(rng.randint(105000, 125000)) / 10000,
                    rate_source="test") for d in range(10, 260, 7)]
    ads = []
    for i in range(240):
        platform, account, currency = rng.choice(ACCOUNTS)
        campaign_id, name = rng.choice(CAMPAIGNS)
        ads.append(AdInsight(
            source=platform, account_id=account, date=first + dt.timedelta(rng.randint(0, 240)),
            account_timezone="Europe/Stockholm", currency=currency, campaign_id=campaign_id,
            campaign_name=name, ad_group_id="g", ad_id=str(i),
            spend=D(rng.randint(0, 50000)) / 100, impressions=rng.randint(0, 5000),
            clicks=rng.randint(0, 200), conversions=D(0), conversion_value=D(0)))
    leads = [_lead(rng, i, first) for i in range(300)]
    with wh.transaction():
        wh._insert_models("fx_rates", rates)
        wh._insert_models("ad_insights", ads)
        wh.merge_entities(get_table("leads"), {"leads": leads}, run_id="property")


def _lead(rng: random.Random, i: int, first: dt.date) -> dict[str, Any]:
    created = (dt.datetime.combine(first, dt.time(), dt.UTC)
               + dt.timedelta(days=rng.randint(-1, 240), seconds=rng.randint(0, 86399)))
    source, medium, campaign = rng.choice(TOUCHES)
    won = rng.random() < 0.4
    value = D(rng.randint(0, 900000)) / 100 if rng.random() < 0.8 else None
    return {"source": "crm", "account_id": "crm1", "lead_key": f"L{i}", "created_at": created,
            "updated_at": created, "utm_source": source, "utm_medium": medium,
            "utm_campaign": campaign, "won_at": created + dt.timedelta(days=3) if won else None,
            "value": value, "currency": rng.choice(["SEK", "EUR", None])}


def _key(name: str | None) -> str:
    text = (name or "").strip().lower()
    if not text:
        return "(not set)"
    return text if text.startswith("(") else re.sub(r"\s+", "_", text)


def _by_pattern(campaign: str) -> str | None:
    for rule in MARKETS.campaigns:
        if fnmatchcase(campaign, _key(rule.pattern)):
            return rule.market
    return None


def _rate(rates: list[tuple[dt.date, Decimal]], currency: str | None,
          day: dt.date) -> Decimal | None:
    if currency == "SEK":
        return D(1)
    earlier = [r for d, r in rates if d <= day] if currency == "EUR" else []
    return earlier[-1] if earlier else None


def by_hand(wh: DuckDBWarehouse) -> dict[str, list[dict[str, Any]]]:
    """Each ad row and lead with its date, market, channel and amounts in SEK."""
    rates = sorted(wh.fetch("SELECT rate_date, rate FROM fx_rates WHERE base_currency = 'EUR' "
                            "AND quote_currency = 'SEK'"))
    accounts = dict(MARKETS.accounts)
    ads, placed, names = [], defaultdict(set), {}
    for a in wh.table_rows("ad_insights"):
        campaign = names[a["campaign_id"]] = _key(a["campaign_name"])  # one name per id
        account_market = accounts.get(a["account_id"].strip().lower())
        placed[campaign].add(account_market)
        rate = _rate(rates, a["currency"], a["date"])
        source, medium = PLATFORMS[a["source"]]
        ads.append({"date": a["date"], "clicks": a["clicks"],
                    "market": _by_pattern(campaign) or account_market,
                    "channel": channel_of(Touch(source, medium, a["campaign_name"].lower())),
                    "spend": a["spend"] * rate if rate is not None else None})
    one_market = {c: next(iter(m)) for c, m in placed.items() if len(m) == 1 and None not in m}
    zone = ZoneInfo(Counter(o["timezone"] for o in wh.table_rows("orders")
                            if not o["is_test"]).most_common(1)[0][0])
    leads = []
    for lead in wh.table_rows("leads"):
        day = lead["created_at"].astimezone(zone).date()
        completed = (lead["utm_campaign"] or "").strip().lower() or "(not set)"
        campaign = names.get(completed, _key(completed))
        rate = _rate(rates, lead["currency"], day)
        won = lead["won_at"] is not None
        leads.append({"date": day, "won": won,
                      "market": _by_pattern(campaign) or one_market.get(campaign),
                      "channel": channel_of(touch_of(lead["utm_source"], lead["utm_medium"],
                                                     lead["utm_campaign"], None, None)),
                      "won_value": lead["value"] * rate if won and lead["value"] is not None
                      and rate is not None else D(0)})
    return {"ads": ads, "leads": leads}


def expected(facts: dict, start: dt.date, end: dt.date, by: tuple[str, ...],
             markets: list[str] | None) -> dict[tuple, dict[str, Decimal]]:
    """Spend, clicks, leads, won leads and won value by the breakdowns ``by``."""
    out: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(
        ("marketing_cost", "clicks", "leads", "won_leads", "won_value"), D(0)))

    def keep(f: dict) -> bool:
        return start <= f["date"] <= end and (markets is None or f["market"] in markets)
    for ad in filter(keep, facts["ads"]):
        agg = out[tuple(ad[d] for d in by)]
        agg["marketing_cost"] += ad["spend"] if ad["spend"] is not None else 0
        agg["clicks"] += ad["clicks"]
    for lead in filter(keep, facts["leads"]):
        agg = out[tuple(lead[d] for d in by)]
        agg["leads"] += 1
        agg["won_leads"] += lead["won"]
        agg["won_value"] += lead["won_value"]
    return out


def total_spend(facts: dict, start: dt.date, end: dt.date) -> Decimal:
    """All spend in the range, whatever its market."""
    return sum((a["spend"] for a in facts["ads"]
                if start <= a["date"] <= end and a["spend"] is not None), D(0))
