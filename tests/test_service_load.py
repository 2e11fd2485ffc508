"""A bounded load test: a few hundred getData calls at gunicorn (2 workers) from a handful of
threads, mixing one repeated request (answered from each worker's cache) with distinct ones
(other date ranges and filters, computed by DuckDB). Every answer must be a 200, and the workers'
cache counters must add up. Latency and throughput are printed (``pytest -s``) and recorded as
properties; they are not asserted, since the machine is shared (see bench/service_load.py).
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from tests.service_env import ADMIN_TOKEN, auth, clause, data_body, make_env
from tests.service_gunicorn import gunicorn_service, worker_pids, worker_stats

pytestmark = pytest.mark.load

WORKERS = 2
CLIENT_THREADS = 4
CACHED = 240  # the same body again and again
UNCACHED = 120  # each body different: shifted date range, one of a few channel filters
CHANNELS = ("Email", "Direct", "Organic Search", "Paid Search")


@dataclass(frozen=True)
class Service:
    url: str
    key: str


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """gunicorn over alpha's warehouse, for a tenant on the enterprise plan (1,200 a minute,
    above this test's few hundred requests)."""
    env = make_env(tmp_path_factory.mktemp("load"))
    env.store.create_tenant("gamma", "Gamma AS", f"duckdb:///{env.alpha_db}", "SEK")
    env.store.create_subscription("gamma", "control_tower", "enterprise", dt.date(2099, 12, 31))
    key, _ = env.store.create_key("gamma", "load test")
    with gunicorn_service(env.settings, workers=WORKERS) as url:
        worker_pids(url, ADMIN_TOKEN, WORKERS)
        yield Service(url, key)


def cached_body() -> dict:
    return data_body("date", "channel", "revenue", "orders", "aov", "units_sold",
                     start="2026-01-01", end="2026-03-31")


def uncached_body(i: int) -> dict:
    """The i-th distinct request: a 30-day window shifted by i days, filtered on a channel."""
    start = dt.date(2025, 12, 1) + dt.timedelta(days=i)
    filters = [[clause("channel", "EQUALS", CHANNELS[i % len(CHANNELS)])]]
    return data_body("date", "revenue", "orders", start=start.isoformat(),
                     end=(start + dt.timedelta(days=29)).isoformat(), filters=filters,
                     filter_only=("channel",))


def workload() -> list[dict]:
    """Cached and uncached requests interleaved (deterministic order)."""
    bodies = [uncached_body(i) for i in range(UNCACHED)]
    per_uncached = CACHED // UNCACHED
    out: list[dict] = []
    for body in bodies:
        out.append(body)
        out.extend(cached_body() for _ in range(per_uncached))
    return out


def drive(service: Service, bodies: list[dict]) -> tuple[list[float], list[int], float]:
    """Post ``bodies`` from CLIENT_THREADS threads with keep-alive sessions; latencies (s),
    statuses and the wall time of the whole run."""
    url = f"{service.url}/v1/connectors/control_tower/data"
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: list[int] = []
    start_line = threading.Barrier(CLIENT_THREADS + 1)

    def client(share: list[dict]) -> None:
        with requests.Session() as session:
            session.headers.update(auth(service.key))
            start_line.wait()
            for body in share:
                started = time.perf_counter()
                response = session.post(url, json=body, timeout=30)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    statuses.append(response.status_code)

    shares = [bodies[i::CLIENT_THREADS] for i in range(CLIENT_THREADS)]
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        futures = [pool.submit(client, share) for share in shares]
        start_line.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        wall = time.perf_counter() - began
    return latencies, statuses, wall


def p50_p99(values: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile (inclusive method, interpolated)."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def test_mixed_load_is_all_200(service: Service, record_property) -> None:  # noqa: ANN001
    pids = worker_pids(service.url, ADMIN_TOKEN, WORKERS)
    before = worker_stats(service.url, ADMIN_TOKEN, pids)
    bodies = workload()
    latencies, statuses, wall = drive(service, bodies)

    assert statuses == [200] * len(bodies)
    p50, p99 = (seconds * 1000 for seconds in p50_p99(latencies))
    rate = len(bodies) / wall
    record_property("requests", len(bodies))
    record_property("requests_per_second", round(rate, 1))
    record_property("p50_ms", round(p50, 2))
    record_property("p99_ms", round(p99, 2))
    print(f"\nload: {len(bodies)} getData ({UNCACHED} distinct, {len(bodies) - UNCACHED} "
          f"repeated) from {CLIENT_THREADS} threads on {WORKERS} gunicorn workers: "
          f"{rate:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")

    # Every distinct body is computed once, the repeated one at most once per worker; the
    # rest comes from the caches.
    after = worker_stats(service.url, ADMIN_TOKEN, pids)
    delta = {k: sum(after[p][k] - before[p][k] for p in pids)
             for k in ("hits", "misses", "coalesced", "errors")}
    assert delta["errors"] == 0
    assert UNCACHED + 1 <= delta["misses"] <= UNCACHED + WORKERS
    assert delta["hits"] + delta["coalesced"] + delta["misses"] == len(bodies)
