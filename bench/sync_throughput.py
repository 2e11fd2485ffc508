"""Shopify orders from a loopback sandbox into DuckDB: our client vs dlt, orders/s and peak RSS.

Usage: python bench/sync_throughput.py [--orders 50000 500000] [--skip-dlt] [--cold] [--repeat 3]

Each measured run is its own process (so peak RSS is that run's alone); the sandbox serving
the simulated shop runs in a third process (the machine's other core). Orders have 3 lines.
Our client reads the Admin GraphQL API; dlt's ``rest_api`` source reads the same data from the
sandbox's legacy REST ``orders.json`` (Link-header pagination), the way dlt's Shopify source does.
By default the sandbox renders every order once before the clock starts (``--warm`` of
serve_sandbox.py), so the shared two cores measure the client rather than the fake shop;
``--cold`` renders them while the clock runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _stat(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first); None where
    the process is gone or there is no /proc (not Linux)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _cpu_seconds(pid: int, *, reaped: bool = False) -> float | None:
    """CPU seconds (user + system) of process ``pid``, and with ``reaped`` those of the
    children it has waited for."""
    fields = _stat(pid)
    if fields is None:
        return None
    ticks = sum(int(f) for f in fields[11:13 + (2 if reaped else 0)])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _helpers_cpu_seconds() -> float | None:
    """CPU seconds of this process's child processes and the children they reaped: the page
    workers exit into the fork server, so its total holds theirs (and its own imports)."""
    if _stat("self") is None:
        return None
    me = str(os.getpid())
    children = [int(d.name) for d in Path("/proc").iterdir()
                if d.name.isdigit() and (_stat(d.name) or ["", ""])[1] == me]
    return sum(_cpu_seconds(pid, reaped=True) or 0.0 for pid in children)


def run_ours(url: str, token: str, shop: str, db: str, batch_size: int,
             page_workers: int = 0) -> dict:
    """Sync the orders stream with our client and engine; return seconds and counts.

    The clock runs from the engine's start to its end: the page workers' start (spawning
    them, their imports) is inside it.
    """
    from ondigital_connect.sources.shopify import ShopifySettings, ShopifySource
    from ondigital_connect.sync import SyncEngine
    from ondigital_connect.warehouse import DuckDBWarehouse

    settings = ShopifySettings(shop=shop, token=token, base_url=url, orders_page_size=250,
                               page_workers=page_workers)
    source = ShopifySource(settings, pseudonym_key=b"bench")
    wh = DuckDBWarehouse(db, memory_limit=os.environ.get("BENCH_DUCKDB_MEMORY", "2GB"),
                         checkpoint_threshold=os.environ.get("BENCH_DUCKDB_CHECKPOINT", "256MB"),
                         threads=int(os.environ.get("BENCH_DUCKDB_THREADS", "2")))
    engine = SyncEngine(wh, tenant="bench", lock_dir=Path(db).parent / "locks")
    start, cpu = time.perf_counter(), time.process_time()
    run = engine.run(source, "orders", batch_size=batch_size)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    time.sleep(0.2)  # let the fork server reap the workers, so their CPU is in its total
    helpers = _helpers_cpu_seconds()
    lines = wh.fetch("SELECT count(*) FROM order_lines")[0][0]
    wh.close()
    return {"seconds": seconds, "orders": run.loaded, "lines": lines, "status": run.status,
            "pages_in_workers": source.pages_in_workers, "cpu_sync": cpu,
            "cpu_workers": helpers}


def run_dlt(url: str, token: str, shop: str, db: str, batch_size: int) -> dict:
    """The same orders through dlt's rest_api source (merge on id) into DuckDB."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source({
        "client": {
            "base_url": f"{url}/admin/api/2026-10/",
            "auth": {"type": "api_key", "name": "X-Shopify-Access-Token", "api_key": token,
                     "location": "header"},
            "paginator": {"type": "header_link"},
        },
        "resources": [{
            "name": "orders", "primary_key": "id", "write_disposition": "merge",
            "endpoint": {"path": "orders.json", "data_selector": "orders",
                         "params": {"limit": 250, "status": "any"}},
        }],
    })
    pipeline = dlt.pipeline(
        pipeline_name="bench_shopify", destination=dlt.destinations.duckdb(db),
        dataset_name="shopify", pipelines_dir=str(Path(db).parent / "dlt"),
    )
    start = time.perf_counter()
    pipeline.run(source)
    seconds = time.perf_counter() - start
    with pipeline.sql_client() as client:
        orders = client.execute_sql("SELECT count(*) FROM orders")[0][0]
        lines = client.execute_sql("SELECT count(*) FROM orders__line_items")[0][0]
    return {"seconds": seconds, "orders": orders, "lines": lines, "status": "done"}


def calibrate(url: str, token: str, shop: str, db: str, batch_size: int) -> dict:
    """Machine speed now: µs per order to validate and map one 250-order page on one core.

    The shared machine's speed drifts by a third from hour to hour; this figure, printed
    beside each table, says how fast it was while the table was measured.
    """
    import gc

    from ondigital_connect.http import HttpClient
    from ondigital_connect.sources.shopify import mapping, queries
    from ondigital_connect.sources.shopify.source import _ENVELOPES

    http = HttpClient("shopify", base_url=url, headers={"X-Shopify-Access-Token": token})
    body = http.post_json("admin/api/2026-10/graphql.json", {"query": queries.ORDERS, "variables": {
        "first": 250, "lines": 10, "refunds": 2, "refundLines": 5, "query": None,
        "after": None}}, decode=lambda content: content)
    ctx = mapping.ShopContext(shop, "Europe/Stockholm", "SEK", b"bench")
    gc.disable()
    best = float("inf")
    for _ in range(15):
        start = time.perf_counter()
        nodes = _ENVELOPES["orders"].validate_json(body)["data"]["orders"]["nodes"]
        mapping.map_orders(ctx, nodes)
        best = min(best, (time.perf_counter() - start) / len(nodes))
    return {"seconds": best, "orders": 1, "lines": 0, "status": "done"}


def child(kind: str, url: str, token: str, shop: str, db: str, batch_size: int) -> None:
    """Run one measurement in this process and print it as JSON."""
    if kind.startswith("ours"):  # "ours" (one process) or "ours+2w" (two page workers)
        workers = int(kind.partition("+")[2].rstrip("w") or 0)
        result = run_ours(url, token, shop, db, batch_size, workers)
    else:
        runner = {"dlt": run_dlt, "calibrate": calibrate}[kind]
        result = runner(url, token, shop, db, batch_size)
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    print(json.dumps(result))


def measure(kind: str, n: int, sandbox: tuple[str, str, str], batch_size: int,
            server_pid: int | None = None) -> dict:
    """Spawn a child for one measurement and collect its JSON line (with the CPU the
    sandbox process spent meanwhile, when ``server_pid`` is given)."""
    before = _cpu_seconds(server_pid) if server_pid else None
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, __file__, "--child", kind, *sandbox, f"{tmp}/bench.duckdb",
               str(batch_size)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=3600)
    after = _cpu_seconds(server_pid) if server_pid else None
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["orders_per_s"] = round(result["orders"] / result["seconds"])
    result["cpu_sandbox"] = after - before if before is not None and after is not None else None
    return result


def cpu_note(r: dict) -> str:
    """``CPU µs/order sync+workers+sandbox=total, x% of the cores``: where the CPU went.

    The sync process counts from the engine's start to its end; the workers (and their
    fork server's start) and the sandbox count whole, which the clock nearly covers.
    """
    parts = [r.get("cpu_sync"), r.get("cpu_workers"), r.get("cpu_sandbox")]
    if any(p is None for p in parts):
        return ""
    per_order = [p / r["orders"] * 1e6 for p in parts]
    busy = sum(parts) / (r["seconds"] * (os.cpu_count() or 1))
    return (f"  CPU µs/order {'+'.join(f'{p:.0f}' for p in per_order)}="
            f"{sum(per_order):.0f}, {busy:.0%} of {os.cpu_count()} cores")


def main() -> None:
    """Parse arguments, serve each N, measure ours (and dlt), print a table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, nargs="+", default=[50_000, 500_000])
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--skip-dlt", action="store_true")
    parser.add_argument("--skip-ours", action="store_true", help="Measure dlt only.")
    parser.add_argument("--page-workers", type=int, nargs="+", default=[0, 2],
                        help="Measure ours with each of these page_workers settings.")
    parser.add_argument("--dlt-max", type=int, default=500_000,
                        help="Skip dlt above this many orders (it is slow).")
    parser.add_argument("--cold", action="store_true",
                        help="Let the sandbox render each order while the clock runs "
                             "(default: it renders them all before, see serve_sandbox.py).")
    parser.add_argument("--repeat", type=int, default=1,
                        help="Measure ours this many times per N (the median is marked).")
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, url, token, shop, db, batch = args.child
        child(kind, url, token, shop, db, int(batch))
        return
    print(f"{'orders':>9} {'client':>7} {'seconds':>8} {'orders/s':>9} {'lines':>9} "
          f"{'peak RSS MB':>11}")
    for n in args.orders:
        serve = [sys.executable, str(HERE / "serve_sandbox.py"), "--orders", str(n)]
        server = subprocess.Popen([*serve, *([] if args.cold else ["--warm"])],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            url, token, shop = server.stdout.readline().split()
            ours = [f"ours+{w}w" if w else "ours" for w in args.page_workers]
            kinds = ([] if args.skip_ours else ours) + (
                [] if args.skip_dlt or n > args.dlt_max else ["dlt"])
            speed = measure("calibrate", n, (url, token, shop), args.batch_size)["seconds"]
            print(f"{'':>9} machine speed: {speed * 1e6:.1f} µs/order to validate and map a "
                  "page on one core (lower is faster)", flush=True)
            for kind in kinds:
                runs = [measure(kind, n, (url, token, shop), args.batch_size, server.pid)
                        for _ in range(args.repeat if kind.startswith("ours") else 1)]
                median = sorted(runs, key=lambda r: r["orders_per_s"])[len(runs) // 2]
                for r in runs:
                    mark = " (median)" if len(runs) > 1 and r is median else ""
                    print(f"{n:>9,} {kind:>7} {r['seconds']:>8.1f} {r['orders_per_s']:>9,} "
                          f"{r['lines']:>9,} {r['peak_rss_mb']:>11,.0f}{mark}"
                          f"{cpu_note(r) if kind.startswith('ours') else ''}", flush=True)
        finally:
            server.stdin.close()
            server.wait(30)


if __name__ == "__main__":
    main()
