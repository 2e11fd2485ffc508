"""The connector service under real gunicorn (2 worker processes, threads): the same answers
as the Flask test client, one rate limit across all workers, and the body size limit (with a
Content-Length and chunked).

The rate-limit test is the one that needs gunicorn: each worker is a process, so a limiter kept
in memory would let every worker allow the whole minute. It checks, from gunicorn's access log,
that the burst really reached more than one worker, so it fails for a per-process limiter.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from connector_service.app import create_app
from ondigital_connect.control import plan
from ondigital_connect.control.ratelimit import WINDOW_SECONDS
from tests.service_env import ADMIN_TOKEN, Env, auth, clause, data_body, make_env
from tests.service_gunicorn import gunicorn_service, worker_pids, worker_stats

WORKERS = 2
BURST = 90  # requests fired at once at alpha's shopify subscription (starter: 60 a minute)
BURST_THREADS = 10
BURST_BUDGET = 15.0  # seconds the burst may take; it starts at least this long before a minute
ACCESS_FORMAT = "%(p)s %(m)s %(U)s %(s)s"  # pid, method, path, status


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    return make_env(tmp_path_factory.mktemp("gunicorn"))


@pytest.fixture(scope="module")
def access_log(env: Env) -> Path:
    return env.root / "access.log"


@pytest.fixture(scope="module")
def service(env: Env, access_log: Path) -> Iterator[str]:
    """gunicorn with the service's own config, 2 workers, an access log naming the worker."""
    args = ("--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT)
    with gunicorn_service(env.settings, workers=WORKERS, threads=4, extra_args=args) as url:
        worker_pids(url, ADMIN_TOKEN, WORKERS)  # every worker has loaded the app
        yield url


BODIES = {
    "by date": data_body("revenue", "date", "orders"),
    "by week, filtered": data_body("week", "channel", "revenue", "aov",
                                   filters=[[clause("channel", "IN_LIST", "Email", "Direct")]]),
    "dimension only": data_body("channel"),
    "bad field": data_body("revenue", "nonsense"),
}


@pytest.mark.parametrize("name", BODIES)
@pytest.mark.parametrize("tenant", ["alpha", "beta"])
def test_get_data_answers_as_the_test_client_does(service: str, env: Env, name: str,
                                                  tenant: str) -> None:
    key = env.alpha_key if tenant == "alpha" else env.beta_key
    url = f"{service}/v1/connectors/control_tower/data"
    served = requests.post(url, json=BODIES[name], headers=auth(key), timeout=30)
    local = create_app(env.settings).test_client().post(
        "/v1/connectors/control_tower/data", json=BODIES[name], headers=auth(key))
    assert served.status_code == local.status_code == (400 if name == "bad field" else 200)
    assert served.content == local.data
    assert served.headers["Content-Type"] == local.headers["Content-Type"]
    assert served.headers["Cache-Control"] == "private, no-store"


def test_get_data_under_gunicorn_is_alphas_february(service: str, env: Env) -> None:
    served = requests.post(f"{service}/v1/connectors/control_tower/data",
                           json=data_body("revenue", "date", "orders"),
                           headers=auth(env.alpha_key), timeout=30)
    assert [r["values"] for r in served.json()["rows"]] == [
        ["172", "20260201", "2"], ["40", "20260205", "1"], ["40", "20260210", "1"],
        ["-90", "20260220", "0"]]


def _start_well_inside_a_minute() -> None:
    """Sleep, if needed, so at least BURST_BUDGET seconds remain in the limiter's minute.

    The limiter counts fixed minutes and weighs the previous one by its overlap with the last
    60 s; a burst inside one minute on a fresh bucket is allowed exactly the plan's limit.
    """
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < BURST_BUDGET:
        time.sleep(left + 0.05)


def _fire(url: str, key: str, body: dict) -> list[requests.Response]:
    """BURST posts at once from BURST_THREADS threads, each on its own connection."""
    barrier = threading.Barrier(BURST_THREADS)

    def one_thread(n: int) -> list[requests.Response]:
        barrier.wait()
        headers = {**auth(key), "Connection": "close"}
        return [requests.post(url, json=body, headers=headers, timeout=60) for _ in range(n)]

    share = [BURST // BURST_THREADS + (i < BURST % BURST_THREADS) for i in range(BURST_THREADS)]
    with ThreadPoolExecutor(BURST_THREADS) as pool:
        return [r for rs in pool.map(one_thread, share) for r in rs]


def _access(log: Path, path: str, expected: int, timeout: float = 10.0) -> list[tuple[int, int]]:
    """(pid, status) of the access log's lines for ``path``, once there are ``expected``
    (a worker writes its line just after sending the response)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line.split() for line in log.read_text().splitlines()]
        hits = [(int(pid.strip("<>")), int(status)) for pid, method, p, status in lines
                if method == "POST" and p == path]
        if len(hits) >= expected or time.monotonic() > deadline:
            return hits
        time.sleep(0.05)


def test_rate_limit_holds_across_workers(service: str, env: Env, access_log: Path) -> None:
    limit = plan("starter").requests_per_minute
    assert limit == 60 and limit < BURST
    path = "/v1/connectors/shopify/data"  # alpha's starter subscription, used by no other test
    pids = worker_pids(service, ADMIN_TOKEN, WORKERS)
    before = worker_stats(service, ADMIN_TOKEN, pids)
    _start_well_inside_a_minute()
    started = time.time()
    responses = _fire(service + path, env.alpha_key, data_body("orders", "net_sales"))
    ended = time.time()
    assert ended - started < BURST_BUDGET, "the burst was too slow to fit in one minute"
    assert math.floor(started / WINDOW_SECONDS) == math.floor(ended / WINDOW_SECONDS)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: limit, 429: BURST - limit}
    ok = [r for r in responses if r.status_code == 200]
    assert len({r.content for r in ok}) == 1  # one answer, cached or not
    assert ok[0].json()["rows"] == [{"values": [4, "252"]}]  # 4 orders, 212 + 40 net
    next_minute = (math.floor(started / WINDOW_SECONDS) + 1) * WINDOW_SECONDS
    for refused in (r for r in responses if r.status_code == 429):
        assert refused.json()["error"] == "rate_limited"
        # One more fits once this minute's 60 weigh 59: one second into the next minute,
        # i.e. next_minute - t + 1 s for a refusal at t (rounded to whole seconds).
        retry = int(refused.headers["Retry-After"])
        assert next_minute - ended <= retry <= next_minute - started + 2

    # Which worker answered what: the burst must have reached more than one, or a limiter
    # kept per process would pass too (each worker would allow its own 60).
    answered = _access(access_log, path, BURST)
    assert len(answered) == BURST
    by_worker = Counter(pid for pid, _ in answered)
    assert len(by_worker) >= 2, f"the burst reached one worker only: {by_worker}"
    assert set(by_worker) <= pids
    # and each worker's cache served exactly the 200s the access log gives it
    after = worker_stats(service, ADMIN_TOKEN, pids)
    served = {pid: sum(after[pid][k] - before[pid][k] for k in ("hits", "misses", "coalesced"))
              for pid in pids}
    assert served == {pid: sum(1 for p, s in answered if p == pid and s == 200) for pid in pids}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_gets_413(service: str, env: Env, chunked: bool) -> None:
    limit = env.settings.max_body_bytes
    url = f"{service}/v1/connectors/control_tower/data"
    headers = {**auth(env.alpha_key), "Content-Type": "application/json"}

    def post(size: int) -> requests.Response:
        payload = padded(size)
        chunks = (payload[i:i + 8192] for i in range(0, len(payload), 8192))
        return requests.post(url, data=chunks if chunked else payload, headers=headers,
                             timeout=30)

    too_large = post(limit + 1)
    assert too_large.status_code == 413
    assert too_large.json() == {"error": "request_entity_too_large",
                                "message": "the request body is too large"}
    assert post(limit).status_code == 200  # exactly the limit is read and answered


def padded(size: int) -> bytes:
    """A valid getData body of exactly ``size`` bytes (padded in ``configParams``)."""
    empty = json.dumps(data_body("revenue", configParams={"pad": ""})).encode()
    payload = json.dumps(data_body("revenue", configParams={"pad": "x" * (size - len(empty))}))
    assert len(payload) == size
    return payload.encode()
