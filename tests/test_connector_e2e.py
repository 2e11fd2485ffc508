"""End to end: the Apps Script connector, run by Node in its vm sandbox with real HTTP, against
the real service on 127.0.0.1 over the demo warehouse; its numbers must be the library's.

The chain: ``run_demo`` (simulated shop -> Shopify sandbox -> real client -> DuckDB -> rollups),
``prepare_demo_service`` (tenant, subscriptions, key), the Flask app served on a loopback port,
``appsscript/test/run_connector.js`` (setCredentials -> getConfig -> getSchema -> getData with
filters), and ``ondigital_connect.kpis(...)`` for the same question.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from connector_service.app import create_app
from connector_service.settings import ServiceSettings
from ondigital_connect import kpis
from ondigital_connect.demo import run_demo
from ondigital_connect.demo_service import DEMO_PEPPER, prepare_demo_service
from ondigital_connect.warehouse import DuckDBWarehouse

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "appsscript" / "test" / "run_connector.js"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("e2e")
    warehouse = root / "demo.duckdb"
    _, _, (start, end) = run_demo(orders=1500, warehouse_path=warehouse)
    service = prepare_demo_service(warehouse, root / ".odc-demo")
    settings = ServiceSettings(control_db=service.control_db, key_pepper=DEMO_PEPPER,
                               rate_limit_db=root / "ratelimit.sqlite3")
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "key": service.key,
               "warehouse": warehouse, "start": start, "end": end}
    finally:
        server.shutdown()
        thread.join(timeout=10)


def run_connector(spec: dict) -> dict:
    node = shutil.which("node")
    assert node, "node is needed for the Apps Script tests"
    done = subprocess.run([node, str(RUNNER)], input=json.dumps(spec), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def results(answer: dict) -> dict[str, object]:
    out = {}
    for step in answer["results"]:
        assert step["ok"], step
        out[step["call"]] = step["result"]
    return out


def test_looker_flow_returns_the_librarys_numbers(demo: dict) -> None:
    start, end = demo["start"], demo["end"]
    request = {
        "configParams": {"connector": "control_tower"},
        "scriptParams": {"lastRefresh": "1764000000000"},
        "dateRange": {"startDate": start.isoformat(), "endDate": end.isoformat()},
        "fields": [{"name": "channel"}, {"name": "revenue"}, {"name": "orders"},
                   {"name": "aov"}, {"name": "market", "forFilterOnly": True}],
        "dimensionsFilters": [[{"fieldName": "market", "values": ["SE", "NO"],
                                "type": "INCLUDE", "operator": "IN_LIST"}]],
    }
    answer = run_connector({"serviceUrl": demo["url"], "steps": [
        {"call": "setCredentials", "request": {"key": demo["key"]}},
        {"call": "isAuthValid"},
        {"call": "getConfig", "request": {"languageCode": "en"}},
        {"call": "getSchema", "request": {"configParams": {"connector": "control_tower"}}},
        {"call": "getData", "request": request},
    ]})
    got = results(answer)
    assert got["setCredentials"] == {"errorCode": "NONE"}
    assert got["isAuthValid"] is True
    config = json.dumps(got["getConfig"])
    assert "control_tower" in config and "dateRangeRequired" in config
    schema = {f["name"]: f for f in got["getSchema"]["schema"]}
    assert schema["revenue"]["semantics"]["semanticType"] == "CURRENCY_SEK"
    data = got["getData"]
    assert data["filtersApplied"] is True
    assert [f["name"] for f in data["schema"]] == ["channel", "revenue", "orders", "aov"]

    warehouse = DuckDBWarehouse(demo["warehouse"], read_only=True)
    try:
        expected = kpis(warehouse, "revenue,orders,aov", date_from=start, date_to=end,
                        by="channel", filters={"market": ["SE", "NO"]})
    finally:
        warehouse.close()
    assert len(expected) > 3  # a real breakdown, not a trivial one
    rows = {r["values"][0]: r["values"][1:] for r in data["rows"]}
    assert set(rows) == set(expected["channel"])
    for row in expected.itertuples(index=False):
        revenue, orders, aov = rows[row.channel]
        assert Decimal(revenue) == row.revenue
        assert Decimal(orders) == row.orders
        assert (None if aov is None else Decimal(aov)) == row.aov
    # every call carried the key, and nothing went into Apps Script caches
    assert answer["cacheCalls"] == []
    assert all(f["url"].startswith(demo["url"]) for f in answer["fetches"])


def test_a_wrong_key_and_a_long_range_become_user_errors(demo: dict) -> None:
    too_long = {"configParams": {"connector": "control_tower"},
                "dateRange": {"startDate": "2010-01-01", "endDate": dt.date.today().isoformat()},
                "fields": [{"name": "revenue"}]}
    answer = run_connector({"serviceUrl": demo["url"], "key": demo["key"], "steps": [
        {"call": "getData", "request": too_long}]})
    [step] = answer["results"]
    assert not step["ok"] and step["error"]["userError"]
    assert "plan" in (step["error"]["text"] + step["error"]["debugText"]).lower()
    wrong = run_connector({"serviceUrl": demo["url"], "steps": [
        {"call": "setCredentials", "request": {"key": "odc_deadbeef_" + "x" * 43}},
        {"call": "isAuthValid"}]})
    assert [s.get("result") for s in wrong["results"]] == [
        {"errorCode": "INVALID_CREDENTIALS"}, False]
