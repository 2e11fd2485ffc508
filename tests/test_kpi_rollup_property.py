"""Property: what the planner reads from the rollups equals the KPIs worked out in Python
straight from the synced canonical tables, for random ranges, breakdowns and filters.

Besides the simulated shop's orders, the warehouse holds seeded ad insights and CRM leads (in
SEK and EUR) and a tenant ad-markets mapping, worked out by hand in ``tests/property_ads.py``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ondigital_connect
from ondigital_connect.demo import run_demo
from ondigital_connect.kpi.channels import channel_of, touch_of
from ondigital_connect.transforms import build
from ondigital_connect.warehouse import DuckDBWarehouse
from tests import property_ads

METRICS = ("revenue", "orders", "units_sold", "returns", "new_customers",
           "returning_customers")
Key = tuple


class Synced:
    """The synced warehouse and the facts worked out by hand (with a short repr)."""

    def __init__(self, wh: DuckDBWarehouse, facts: dict) -> None:
        self.wh, self.facts = wh, facts

    def __repr__(self) -> str:
        return f"Synced({len(self.facts['orders'])} orders)"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Synced:
    folder: Path = tmp_path_factory.mktemp("kpi-property")
    run_demo(orders=1500, warehouse_path=folder / "shop.duckdb", lock_dir=folder / "locks")
    wh = DuckDBWarehouse(folder / "shop.duckdb")
    property_ads.load(wh)
    # the simulated shop sells in SEK: no conversion; ads and leads come in SEK and EUR
    build(wh, reporting_currency="SEK", markets=property_ads.MARKETS)
    facts = _facts_by_hand(wh)
    facts.update(property_ads.by_hand(wh))
    return Synced(wh, facts)


def _rows(wh: DuckDBWarehouse, sql: str) -> list[dict]:
    cur = wh._run(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _facts_by_hand(wh: DuckDBWarehouse) -> dict:
    """Per order and per refund: date, breakdowns and amounts, computed in Python."""
    orders = [o for o in _rows(wh, "SELECT * FROM orders") if not o["is_test"]]
    lines = defaultdict(list)
    for line in _rows(wh, "SELECT * FROM order_lines"):
        lines[line["order_key"]].append(line)
    seq: dict[str, int] = {}
    kind = {}
    for o in sorted(orders, key=lambda o: (o["created_at"], o["order_key"])):
        if o["customer_key"] is None:
            kind[o["order_key"]] = "guest"
            continue
        seq[o["customer_key"]] = seq.get(o["customer_key"], 0) + 1
        kind[o["order_key"]] = "new" if seq[o["customer_key"]] == 1 else "returning"
    facts = {}
    for o in orders:
        net = units = Decimal(0)
        for line in lines[o["order_key"]]:
            price = line["unit_price"] * line["quantity"]
            vat = line["tax"] if o["taxes_included"] else 0
            net += price - line["discount"] - vat
            units += line["quantity"]
        channel = channel_of(touch_of(o["utm_source"], o["utm_medium"], o["utm_campaign"],
                                      o["landing_page"], o["referrer"]))
        facts[o["order_key"]] = {"date": o["order_date"], "market": o["market"],
                                 "channel": channel, "customer_type": kind[o["order_key"]],
                                 "customer": o["customer_key"], "net": net, "units": units}
    refund_tax = defaultdict(Decimal)
    refund_units = defaultdict(int)
    for rl in _rows(wh, "SELECT * FROM refund_lines"):
        refund_tax[rl["refund_key"]] += rl["tax"]
        refund_units[rl["refund_key"]] += rl["quantity"]
    taxes_included = {o["order_key"]: o["taxes_included"] for o in orders}
    refunds = []
    for r in _rows(wh, "SELECT * FROM refunds"):
        if r["order_key"] not in facts:
            continue
        goods = r["goods_amount"] - (refund_tax[r["refund_key"]]
                                     if taxes_included[r["order_key"]] else 0)
        refunds.append({**facts[r["order_key"]], "date": r["refund_date"], "returns": goods,
                        "units": refund_units[r["refund_key"]]})
    return {"orders": facts, "refunds": refunds}


def _expected(facts: dict, start: dt.date, end: dt.date, by: tuple[str, ...],
              markets: list[str] | None) -> dict[Key, dict]:
    out: dict[Key, dict] = defaultdict(lambda: {
        "orders": 0, "net": Decimal(0), "units": Decimal(0), "returns": Decimal(0),
        "new": 0, "returning": set()})
    def keep(f: dict) -> bool:
        return start <= f["date"] <= end and (markets is None or f["market"] in markets)
    for f in facts["orders"].values():
        if keep(f):
            agg = out[tuple(f[d] for d in by)]
            agg["orders"] += 1
            agg["net"] += f["net"]
            agg["units"] += f["units"]
            agg["new"] += f["customer_type"] == "new"
            if f["customer_type"] == "returning":
                agg["returning"].add(f["customer"])
    for f in facts["refunds"]:
        if keep(f):
            agg = out[tuple(f[d] for d in by)]
            agg["net"] -= f["returns"]
            agg["returns"] += f["returns"]
            agg["units"] -= f["units"]
    return out


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, 120), length=st.integers(0, 120),
       by=st.lists(st.sampled_from(["market", "channel", "customer_type"]), unique=True,
                   max_size=2),
       markets=st.one_of(st.none(), st.lists(st.sampled_from(["SE", "NO", "DK", "FI"]),
                                             min_size=1, unique=True)))
def test_rollups_equal_kpis_from_the_raw_tables(synced: Synced, start: int, length: int,
                                                by: list[str], markets: list[str] | None) -> None:
    wh, facts = synced.wh, synced.facts
    first = min(f["date"] for f in facts["orders"].values())
    date_from = first + dt.timedelta(days=start)
    date_to = date_from + dt.timedelta(days=length)
    frame = ondigital_connect.kpis(wh, METRICS, by=by, date_from=date_from, date_to=date_to,
                                   filters={"market": markets} if markets else None)
    expected = _expected(facts, date_from, date_to, tuple(by), markets)
    if not by:
        expected[()]  # no breakdown: one total row, zeros when nothing matched
    got = {tuple(row[d] for d in by): row for row in frame.to_dict(orient="records")}
    assert got.keys() == expected.keys()
    for key, e in expected.items():
        g = got[key]
        assert (g["orders"], g["revenue"], g["units_sold"], g["returns"], g["new_customers"],
                g["returning_customers"]) == (e["orders"], e["net"], e["units"], e["returns"],
                                              e["new"], len(e["returning"])), key


BLENDED = ("revenue", "marketing_cost", "clicks", "leads", "won_leads", "won_value")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, 120), length=st.integers(0, 120),
       by=st.lists(st.sampled_from(["market", "channel"]), unique=True, max_size=2),
       markets=st.one_of(st.none(), st.lists(st.sampled_from(["SE", "NO", "DK", "FI"]),
                                             min_size=1, unique=True)))
def test_spend_and_leads_by_market_equal_the_raw_tables(
    synced: Synced, start: int, length: int, by: list[str], markets: list[str] | None,
) -> None:
    wh, facts = synced.wh, synced.facts
    date_from = min(f["date"] for f in facts["orders"].values()) + dt.timedelta(days=start)
    date_to = date_from + dt.timedelta(days=length)
    frame = ondigital_connect.kpis(wh, BLENDED, by=by, date_from=date_from, date_to=date_to,
                                   filters={"market": markets} if markets else None)
    got = {tuple(row[d] for d in by): tuple(row[m] for m in BLENDED)
           for row in frame.to_dict(orient="records")}
    sales = _expected(facts, date_from, date_to, tuple(by), markets)
    rest = property_ads.expected(facts, date_from, date_to, tuple(by), markets)
    keys = sales.keys() | rest.keys() | ({()} if not by else set())
    zero = dict.fromkeys(BLENDED[1:], Decimal(0))
    assert got == {k: (sales[k]["net"] if k in sales else 0,
                       *(rest.get(k, zero)[m] for m in BLENDED[1:])) for k in keys}
    if by == ["market"] and markets is None:  # nothing lost, nothing spread: it adds up
        assert sum(v[1] for v in got.values()) == property_ads.total_spend(
            facts, date_from, date_to)
