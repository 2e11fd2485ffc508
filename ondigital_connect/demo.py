"""The main job: a simulated shop served by the loopback sandbox, synced for real, summarised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from ondigital_connect.models.canonical import SyncRun
from ondigital_connect.warehouse.base import Warehouse

# Catalogue first, so orders of a sync find their products and customers already there.
SHOPIFY_STREAMS = ("products", "customers", "orders", "inventory_levels")
DEMO_KEY = b"demo-tenant-pseudonym-key"


@dataclass(frozen=True, slots=True)
class MarketSummary:
    """Orders, net sales (ex VAT, ex shipping, returns on refund date) and AOV of one market."""

    market: str
    orders: int
    net_sales: Decimal
    returns: Decimal
    aov: Decimal | None
    currency: str


_SUMMARY_SQL = """
WITH sales AS (
  SELECT o.market, o.currency, count(DISTINCT o.order_key) AS orders,
         sum(l.unit_price * l.quantity - l.discount - l.tax) AS net_before_returns
  FROM orders o JOIN order_lines l USING (order_key)
  WHERE NOT o.is_test AND o.cancelled_at IS NULL AND o.order_date BETWEEN ? AND ?
  GROUP BY ALL
), returns AS (
  SELECT o.market, sum(rl.subtotal - rl.tax) AS returns
  FROM refunds r
  JOIN refund_lines rl USING (refund_key)
  JOIN orders o ON o.order_key = r.order_key
  WHERE NOT o.is_test AND r.refund_date BETWEEN ? AND ?
  GROUP BY ALL
)
SELECT s.market, s.orders, s.net_before_returns - coalesce(r.returns, 0),
       coalesce(r.returns, 0), s.net_before_returns / nullif(s.orders, 0), s.currency
FROM sales s LEFT JOIN returns r USING (market)
ORDER BY 3 DESC
"""


def market_summary(warehouse: Warehouse, start: dt.date, end: dt.date) -> list[MarketSummary]:
    """Per market: orders and net sales booked in ``[start, end]`` (shop-local dates).

    Net sales = line price x quantity - discounts - VAT, minus returns (ex VAT) booked on
    their refund date; test and cancelled orders are excluded; AOV = net sales before
    returns / orders. Amounts are in the shop currency.
    """
    rows = warehouse.fetch(_SUMMARY_SQL, [start, end, start, end])
    return [
        MarketSummary(m, int(n), _money(net), _money(ret), _money(aov) if aov else None, cur)
        for m, n, net, ret, aov, cur in rows
    ]


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def run_demo(
    *, orders: int, warehouse_path: Path, seed: int = 7,
    progress: Callable[[SyncRun], None] | None = None, lock_dir: Path | None = None,
) -> tuple[list[SyncRun], list[MarketSummary], tuple[dt.date, dt.date]]:
    """Simulate, serve, sync every Shopify stream into DuckDB, build the KPI rollups and
    summarise the last 30 days."""
    from ondigital_connect.sandbox import ShopifySandbox
    from ondigital_connect.simulate import SimulatedBusiness
    from ondigital_connect.sources.shopify import ShopifySettings, ShopifySource
    from ondigital_connect.sync import SyncEngine
    from ondigital_connect.transforms import build
    from ondigital_connect.warehouse import DuckDBWarehouse

    zone = ZoneInfo("Europe/Stockholm")
    end = dt.datetime.now(zone).date() - dt.timedelta(days=1)
    business = SimulatedBusiness(seed=seed, orders=orders, end=end, timezone=zone.key)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    runs = []
    with ShopifySandbox(business, plan="unlimited") as sandbox:
        settings = ShopifySettings(shop=business.shop_domain, token=sandbox.token,
                                   base_url=sandbox.url)
        source = ShopifySource(settings, pseudonym_key=DEMO_KEY)
        wh = DuckDBWarehouse(warehouse_path)
        try:
            engine = SyncEngine(wh, tenant="demo", progress=progress,
                                lock_dir=lock_dir or warehouse_path.parent / ".locks")
            runs = [engine.run(source, stream) for stream in SHOPIFY_STREAMS]
            build(wh, reporting_currency=business.shop_currency)
            window = (end - dt.timedelta(days=29), end)
            summary = market_summary(wh, *window)
        finally:
            wh.close()
            source.close()
    return runs, summary, window
