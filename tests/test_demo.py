"""The main job end to end: simulate, serve, sync through the real client, summarise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from ondigital_connect.demo import run_demo
from ondigital_connect.simulate import SimulatedBusiness


def test_demo_syncs_everything_and_its_summary_matches_the_simulation(tmp_path: Path) -> None:
    runs, summary, (start, end) = run_demo(orders=1500, warehouse_path=tmp_path / "d.duckdb")
    by_stream = {run.stream: run for run in runs}
    assert all(run.status == "succeeded" for run in runs)
    assert by_stream["orders"].loaded == 1500
    assert by_stream["orders"].rejected == 0

    # The same numbers straight from the simulator, for the same shop-local dates.
    zone = ZoneInfo("Europe/Stockholm")
    business = SimulatedBusiness(seed=7, orders=1500, end=end, timezone=zone.key)
    expected: dict[str, int] = {}
    for order in business.orders():
        day = order.created_at.astimezone(zone).date()
        if start <= day <= end and not order.test and order.cancelled_at is None:
            expected[order.market] = expected.get(order.market, 0) + 1
    assert {m.market: m.orders for m in summary} == expected
    assert end - start == dt.timedelta(days=29)
    for market in summary:
        assert market.currency == "SEK"
        assert market.net_sales > 0
        assert market.aov is not None
