"""Connector service throughput under gunicorn: getData requests/s, p50 and p99, cached and not.

Usage: python bench/service_load.py [--dataset demo|large|both] [--demo-orders 20000]
           [--orders 1000000] [--duration 10] [--connections 8] [--client-processes 1]
           [--threads 4] [--profile DIR]

For each dataset it builds a tenant warehouse, a control database with one tenant, one
subscription and one key, starts the service under gunicorn (2 workers, the config's threads)
on 127.0.0.1 and drives two phases over keep-alive connections:

- cached: one control-tower request again and again (90 days, date x channel, 8 metrics, one
  market filter), answered from each worker's response cache after its first computation;
- uncached: a different request every time (the 90-day window shifted day by day, each market),
  so every answer is planned and computed by DuckDB on a freshly opened read-only connection.

Datasets: ``demo`` is ``ondigital_connect.demo`` (a simulated shop synced through the loopback
Shopify sandbox, then built); ``large`` is ``bench/kpi_query.py``'s generator (orders, lines,
refunds, ads and web traffic straight into DuckDB, then built).

The subscription is on a plan with a limit of 10 million requests a minute, so the rate limiter
runs (one SQLite write per request, as in production) without capping the benchmark; the
enterprise plan's 1,200 a minute would. The gunicorn app is ``bench_app()`` below: the service's
``connector_service.wsgi:app`` in a worker with that plan registered, nothing else changed.

The load generator is a selectors loop over raw sockets with pre-built requests (tens of µs a
request, far lighter than ``requests``), but it still shares the machine's cores with gunicorn:
on a 2-core machine the figures are for server and client together. Its connections are spread
evenly over the workers (see ``balanced``). Besides req/s, p50 and p99 it prints the CPU the
workers and the client spent per request, which depends less on the shared machine's moment,
and a *machine speed* line (a fixed pure-Python loop, best of 5) to compare runs by.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from flask import Flask

from connector_service.settings import ServiceSettings
from ondigital_connect.control import Plan, SQLiteControlStore
from ondigital_connect.control.plans import PLANS

ROOT = Path(__file__).resolve().parents[1]
BENCH_PLAN = Plan("bench", max_days=3700, max_rows=1_000_000, requests_per_minute=10_000_000)
ADMIN_TOKEN = "bench-admin-token"  # noqa: S105 (a loopback-only throwaway)
PEPPER = "bench-pepper"
CONTROL_TOWER = "/v1/connectors/control_tower/data"
WINDOW_DAYS = 90
WARMUP_SECONDS = 1.0
_FRAME = re.compile(r"^(.*) \((?:.*/)?([^/:]*)(?::\d+)?\)$")  # "fn (path/file.py:12)"
_SCAFFOLDING = re.compile(
    r"\((threading|thread|runpy|<frozen runpy>|arbiter|wsgiapp|base|__main__)(\.py)?\)$"
    r"|^(ThreadWorker\.(handle|run|init_process)|Flask\.(__call__|wsgi_app|full_dispatch_request|"
    r"dispatch_request)) ")


# -- the service --------------------------------------------------------------------------------

def register_bench_plan() -> None:
    """Add the bench plan (in this process: the control store and each gunicorn worker)."""
    PLANS.setdefault(BENCH_PLAN.name, BENCH_PLAN)


def bench_app() -> Flask:
    """The gunicorn app: ``connector_service.wsgi:app`` itself (settings from ODC_*, its
    logging), in a worker that knows the bench plan."""
    register_bench_plan()
    from connector_service import wsgi

    return wsgi.app


@dataclass(frozen=True)
class Dataset:
    """A built warehouse and what the requests need from it."""

    name: str
    path: Path
    orders: int
    first_day: dt.date
    last_day: dt.date
    markets: tuple[str, ...]

    @property
    def market(self) -> str:
        """The cached request's market: SE as in bench/kpi_query.py, else the largest."""
        return "SE" if "SE" in self.markets else self.markets[0]


def demo_dataset(folder: Path, orders: int) -> Dataset:
    """``ondigital_connect.demo``'s shop (simulate, serve, sync), then facts and rollups."""
    from ondigital_connect.demo import run_demo

    path = folder / "demo.duckdb"
    started = time.perf_counter()
    run_demo(orders=orders, warehouse_path=path, lock_dir=folder / "locks")  # builds too
    print(f"demo: {orders:,} orders simulated, synced and built in "
          f"{time.perf_counter() - started:.1f} s")
    return describe("demo", path)


def large_dataset(folder: Path, orders: int) -> Dataset:
    """``bench/kpi_query.py``'s generated orders, ads and traffic, then facts and rollups."""
    sys.path.insert(0, str(ROOT / "bench"))
    from kpi_query import generate

    from ondigital_connect.transforms import build
    from ondigital_connect.warehouse import DuckDBWarehouse

    path = folder / "large.duckdb"
    wh = DuckDBWarehouse(path, memory_limit="8GB")
    seconds = generate(wh, orders)
    started = time.perf_counter()
    build(wh, reporting_currency="SEK")
    wh.close()
    print(f"large: {orders:,} orders generated in {seconds:.1f} s, built in "
          f"{time.perf_counter() - started:.1f} s")
    return describe("large", path)


def describe(name: str, path: Path) -> Dataset:
    """Order count, last order day and markets (most orders first) of a built warehouse."""
    from ondigital_connect.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(path, read_only=True)
    try:
        ((count, first, last),) = wh.fetch(
            "SELECT count(*), min(order_date), max(order_date) FROM orders")
        markets = [m for (m,) in wh.fetch("SELECT market FROM orders WHERE market IS NOT NULL "
                                          "GROUP BY market ORDER BY count(*) DESC, market")]
    finally:
        wh.close()
    return Dataset(name, path, int(count), first, last, tuple(markets))


def control(folder: Path, dataset: Dataset) -> tuple[ServiceSettings, str]:
    """Settings for the service and an API key of a tenant on the bench plan."""
    register_bench_plan()
    db = folder / f"control-{dataset.name}.sqlite3"
    store = SQLiteControlStore(db, PEPPER.encode())
    store.create_tenant("bench", "Bench AB", f"duckdb:///{dataset.path}", "SEK")
    store.create_subscription("bench", "control_tower", BENCH_PLAN.name, dt.date(2099, 12, 31))
    key, _ = store.create_key("bench", "bench")
    store.close()
    settings = ServiceSettings(control_db=db, key_pepper=PEPPER, admin_token=ADMIN_TOKEN)
    return settings, key


# -- the requests -------------------------------------------------------------------------------

METRICS = ("revenue", "orders", "aov", "units_sold", "returns", "new_customers", "sessions",
           "cr")  # bench/kpi_query.py's control-tower query


def body(last_day: dt.date, market: str) -> dict:
    """Looker Studio's getData for 90 days to ``last_day``, date x channel, 8 metrics, one
    market (filter-only field, pushed down)."""
    start = last_day - dt.timedelta(days=WINDOW_DAYS - 1)
    return {
        "configParams": {}, "scriptParams": {"lastRefresh": "1700000000000"},
        "dateRange": {"startDate": start.isoformat(), "endDate": last_day.isoformat()},
        "fields": [{"name": "date"}, {"name": "channel"}, *({"name": m} for m in METRICS),
                   {"name": "market", "forFilterOnly": True}],
        "dimensionsFilters": [[{"fieldName": "market", "values": [market],
                                "operator": "EQUALS", "type": "INCLUDE"}]],
    }


def uncached_bodies(dataset: Dataset, limit: int) -> list[dict]:
    """Distinct requests: the window shifted back a day at a time while it stays within the
    data, for each market; the cached phase's request (no shift) is left out."""
    out: list[dict] = []
    for shift in range(1, (dataset.last_day - dataset.first_day).days - WINDOW_DAYS + 2):
        for market in dataset.markets:
            out.append(body(dataset.last_day - dt.timedelta(days=shift), market))
            if len(out) == limit:
                return out
    return out


def http_post(port: int, key: str, payload: dict) -> bytes:
    """A complete keep-alive HTTP/1.1 request, ready to send as is."""
    data = json.dumps(payload, separators=(",", ":")).encode()
    head = (f"POST {CONTROL_TOWER} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n")
    return head.encode() + data


# -- the load generator -------------------------------------------------------------------------

@dataclass
class Tally:
    """What one client process measured."""

    latencies: list[float] = field(default_factory=list)  # seconds, 200s only
    statuses: Counter[int] = field(default_factory=Counter)
    response_bytes: int = 0
    exhausted: bool = False  # ran out of distinct requests before the end
    responses: int = 0  # every response, warm-up included
    cpu_seconds: float = 0.0  # the client's own CPU time, warm-up included


@dataclass
class _Conn:
    sock: socket.socket
    buf: bytearray = field(default_factory=bytearray)
    sent_at: float = 0.0
    need: int | None = None
    status: int = 0
    close: bool = False


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def balanced(port: int, connections: int, workers: int) -> list[socket.socket]:
    """``connections`` keep-alive connections spread evenly over the gunicorn workers.

    A worker keeps the connections it accepted, and which one accepts is up to the kernel:
    left alone, 8 connections can land 7 to 1 and the bench would measure one worker. So each
    new connection asks ``/v1/admin/stats`` which worker it reached, and one that reached a
    worker with its share already is closed and opened again.
    """
    share = -(-connections // workers)
    kept: dict[int, list[socket.socket]] = {}
    for _ in range(50 * connections):
        if sum(map(len, kept.values())) == connections:
            break
        sock = _connect(port)
        conn = _Conn(sock)
        sock.sendall(f"GET /v1/admin/stats HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Authorization: Bearer {ADMIN_TOKEN}\r\n\r\n".encode())
        while not _receive(conn):
            pass
        pid = json.loads(conn.buf[conn.buf.find(b"\r\n\r\n") + 4:])["worker"]
        if len(kept.setdefault(pid, [])) < share:
            kept[pid].append(sock)
        else:
            sock.close()
    socks = [sock for group in kept.values() for sock in group]
    while len(socks) < connections:  # could not balance: take what comes
        socks.append(_connect(port))
    return socks


def drive(port: int, requests: Sequence[bytes], repeat: bool, connections: int,
          workers: int, start_at: float, measure_from: float, stop_at: float) -> Tally:
    """Keep ``connections`` requests in flight from ``start_at`` to ``stop_at`` (time.time()):
    ``requests`` in turn (cycling when ``repeat``); responses completed after ``measure_from``
    are counted. One thread, one selector; sockets stay blocking (requests are small)."""
    tally = Tally()
    feed: Iterator[bytes] = _cycle(requests) if repeat else iter(requests)
    sel = selectors.DefaultSelector()
    conns = [_Conn(sock) for sock in balanced(port, connections, workers)]
    time.sleep(max(0.0, start_at - time.time()))
    cpu_started = time.process_time()

    def send(conn: _Conn) -> bool:
        request = next(feed, None)
        if request is None:
            tally.exhausted = True
            return False
        conn.sent_at = time.time()
        conn.sock.sendall(request)
        return True

    for conn in conns:
        sel.register(conn.sock, selectors.EVENT_READ, conn)
        send(conn)
    active = len(conns)
    while active and time.time() < stop_at:
        for key, _ in sel.select(timeout=0.2):
            conn: _Conn = key.data
            if not _receive(conn):
                continue
            done = time.time()
            tally.responses += 1
            if measure_from <= done < stop_at:
                tally.statuses[conn.status] += 1
                tally.response_bytes += len(conn.buf)
                if conn.status == 200:
                    tally.latencies.append(done - conn.sent_at)
            conn.buf.clear()
            if conn.close:  # the server ended the connection: open another
                sel.unregister(conn.sock)
                conn.sock.close()
                conn.sock, conn.close = _connect(port), False
                sel.register(conn.sock, selectors.EVENT_READ, conn)
            if done >= stop_at or not send(conn):
                sel.unregister(conn.sock)
                active -= 1
    tally.cpu_seconds = time.process_time() - cpu_started
    for conn in conns:
        conn.sock.close()
    sel.close()
    return tally


def _receive(conn: _Conn) -> bool:
    """Read what arrived on ``conn``; True once its whole response is in ``conn.buf``."""
    chunk = conn.sock.recv(1 << 20)
    if not chunk:
        raise ConnectionError("the service closed a keep-alive connection mid-response")
    conn.buf += chunk
    if conn.need is None and not _parse_head(conn):
        return False
    assert conn.need is not None
    if len(conn.buf) < conn.need:
        return False
    conn.need = None
    return True


def _cycle(items: Sequence[bytes]) -> Iterator[bytes]:
    while True:
        yield from items


def _parse_head(conn: _Conn) -> bool:
    """Read status, Content-Length and Connection once the headers are in."""
    end = conn.buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    lines = bytes(conn.buf[:end]).decode("latin-1").split("\r\n")
    conn.status = int(lines[0].split(" ", 2)[1])
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines[1:])}
    conn.need = end + 4 + int(headers.get("content-length", "0"))
    conn.close = headers.get("connection", "").lower() == "close"
    return True


def _drive_args(args: tuple) -> Tally:
    return drive(*args)


def run_phase(port: int, requests: Sequence[bytes], repeat: bool, connections: int,
              processes: int, seconds: float, workers: int = 2) -> tuple[Tally, float]:
    """The phase's combined tally and its measured seconds (after a warm-up second)."""
    start_at = time.time() + 0.5 + 0.5 * processes  # time for the client processes to start
    measure_from = start_at + WARMUP_SECONDS
    stop_at = measure_from + seconds
    per = [connections // processes + (i < connections % processes) for i in range(processes)]
    jobs = [(port, requests if repeat else requests[i::processes], repeat, per[i], workers,
             start_at, measure_from, stop_at) for i in range(processes)]
    if processes == 1:
        tallies = [drive(*jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            tallies = pool.map(_drive_args, jobs)
    total = Tally()
    for t in tallies:
        total.latencies += t.latencies
        total.statuses += t.statuses
        total.response_bytes += t.response_bytes
        total.exhausted |= t.exhausted
        total.responses += t.responses
        total.cpu_seconds += t.cpu_seconds
    return total, seconds


# -- reporting ----------------------------------------------------------------------------------

def summary(phase: str, tally: Tally, seconds: float) -> str:
    """requests/s, p50 and p99 of the 200s, errors (any other status), response size."""
    ok = tally.statuses.get(200, 0)
    errors = sum(tally.statuses.values()) - ok
    if len(tally.latencies) >= 2:
        cuts = statistics.quantiles(tally.latencies, n=100, method="inclusive")
        p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    else:
        p50 = p99 = float("nan")
    size = tally.response_bytes / max(1, sum(tally.statuses.values())) / 1024
    note = " (ran out of distinct requests)" if tally.exhausted else ""
    others = {s: n for s, n in tally.statuses.items() if s != 200}
    return (f"  {phase:<9} {ok / seconds:8.1f} req/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
            f"errors {errors}{' ' + str(others) if others else ''}  "
            f"({ok:,} answers of {size:.0f} KiB){note}")


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far."""
    times = {pid: psutil.Process(pid).cpu_times() for pid in pids}
    return {pid: t.user + t.system for pid, t in times.items()}


def worker_split(url: str, pids: set[int], before: dict, cpu_before: dict[int, float],
                 tally: Tally) -> str:
    """Answers per worker (cache counters) and CPU per answer: workers' and client's."""
    from tests.service_gunicorn import worker_stats

    after = worker_stats(url, ADMIN_TOKEN, pids)
    cpu = {pid: used - cpu_before[pid] for pid, used in cpu_seconds(pids).items()}
    counts = {pid: sum(after[pid][k] - before[pid][k] for k in ("hits", "misses", "coalesced"))
              for pid in sorted(pids)}
    answers = max(1, sum(counts.values()))
    split = ", ".join(f"worker {pid}: {n:,} answers, {cpu[pid]:.1f} s CPU"
                      for pid, n in counts.items())
    return (f"{split}; CPU a request: workers {1000 * sum(cpu.values()) / answers:.2f} ms, "
            f"client {1000 * tally.cpu_seconds / max(1, tally.responses):.2f} ms")


def profile_worker(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on one worker for the measured part of a phase (collapsed stacks, GIL holders
    only, i.e. where that worker's Python time goes)."""
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--duration",
                             str(int(seconds)), "--rate", "200", "--gil", "--nonblocking",
                             "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def top_frames(collapsed: Path, n: int = 14) -> str:
    """The functions most often on the stack (inclusive share of samples), from py-spy's raw
    output (one ``frame;frame;... count`` line per stack), without the frames every request
    passes through (threads, gunicorn's worker loop, Flask's dispatch)."""
    total, inclusive = 0, Counter[str]()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in {_FRAME.sub(r"\1 (\2)", f) for f in stack.split(";")}:
            if not _SCAFFOLDING.search(frame):
                inclusive[frame] += int(count)
    return "\n".join(f"    {100 * c / total:5.1f} %  {frame}"
                     for frame, c in inclusive.most_common(n)) if total else "    (no samples)"


def machine_speed() -> float:
    """Milliseconds for a fixed pure-Python loop, best of 5 (lower is a faster moment)."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(i * i for i in range(200_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


# -- main ---------------------------------------------------------------------------------------

def bench(dataset: Dataset, folder: Path, args: argparse.Namespace) -> None:
    """Start gunicorn over ``dataset`` and run both phases."""
    from tests.service_gunicorn import gunicorn_service, worker_pids, worker_stats

    settings, key = control(folder, dataset)
    bench_args = ["--pythonpath", str(ROOT), "bench.service_load:bench_app()"]
    with gunicorn_service(settings, workers=2, threads=args.threads, extra_args=bench_args,
                          extra_env={"ODC_SERVICE_LOGLEVEL": "warning"}) as url:
        port = int(url.rsplit(":", 1)[1])
        pids = worker_pids(url, ADMIN_TOKEN, 2)
        print(f"\n{dataset.name}: {dataset.orders:,} orders to {dataset.last_day}, markets "
              f"{', '.join(dataset.markets)}; gunicorn workers {sorted(pids)}, "
              f"{args.connections} keep-alive connections from {args.client_processes} "
              f"client process(es), {args.duration:.0f} s a phase; machine speed "
              f"{machine_speed():.1f} ms")
        cached = [http_post(port, key, body(dataset.last_day, dataset.market))]
        distinct = max(2000, int(args.duration * 1000))
        uncached = [http_post(port, key, b)
                    for b in uncached_bodies(dataset, distinct)]
        for phase, requests, repeat in (("cached", cached, True), ("uncached", uncached, False)):
            before = worker_stats(url, ADMIN_TOKEN, pids)
            cpu_before = cpu_seconds(pids)
            spy = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                out = args.profile / f"{dataset.name}-{phase}.txt"
                spy = profile_worker(min(pids), args.duration + WARMUP_SECONDS + 1, out)
            tally, seconds = run_phase(port, requests, repeat, args.connections,
                                       args.client_processes, args.duration)
            print(summary(phase, tally, seconds))
            print(f"            {worker_split(url, pids, before, cpu_before, tally)}")
            if spy is not None:
                spy.wait()
                print(f"    py-spy, worker {min(pids)} ({out}):\n{top_frames(out)}")


def main() -> None:
    """Build the datasets asked for and benchmark the service over each."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=("demo", "large", "both"), default="both")
    parser.add_argument("--demo-orders", type=int, default=20_000,
                        help="orders in the demo shop (the demo's default)")
    parser.add_argument("--orders", type=int, default=1_000_000,
                        help="orders in the large dataset (10,000,000 takes several minutes)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds a phase")
    parser.add_argument("--connections", type=int, default=8,
                        help="keep-alive connections (2 workers x 4 threads by default)")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker (default: gunicorn.conf.py's, 4)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="folder for py-spy profiles of one worker per phase")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # tests.service_gunicorn: the same gunicorn runner as tests
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="odc-service-bench-") as tmp:
        folder = Path(tmp)
        if args.dataset in ("demo", "both"):
            bench(demo_dataset(folder, args.demo_orders), folder, args)
        if args.dataset in ("large", "both"):
            bench(large_dataset(folder, args.orders), folder, args)


if __name__ == "__main__":
    main()
