"""A loopback Shopify Admin API (GraphQL + REST orders.json) serving a simulated business.

    with ShopifySandbox(SimulatedBusiness(orders=5_000), plan="unlimited") as shop:
        requests.post(shop.graphql_url("2026-10"), json={"query": "{ shop { name } }"},
                      headers={"X-Shopify-Access-Token": shop.token})

``.as_of`` (settable) is the instant the shop is seen at (None = the business's ``now``);
``.faults`` and ``.overrides`` script failures (see :mod:`ondigital_connect.sandbox.faults`);
``.requests`` logs what was served; ``.bucket`` is the GraphQL cost bucket.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from ondigital_connect.gcpause import gc_paused
from ondigital_connect.sandbox import faults as fault_bodies
from ondigital_connect.sandbox.faults import FaultPlan, FaultSpec, Overrides
from ondigital_connect.sandbox.shopify_cost import CostBucket, RestBucket
from ondigital_connect.sandbox.shopify_data import Store
from ondigital_connect.sandbox.shopify_execute import requested_or_zero, run_query, throttled
from ondigital_connect.sandbox.shopify_graphql import QueryFailure, compile_query
from ondigital_connect.sandbox.shopify_memo import NodeMemo
from ondigital_connect.sandbox.shopify_rest import RestRequestError, orders_page
from ondigital_connect.sandbox.shopify_values import Env, ShopInfo

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
_BAD_BODY = b'{"errors":{"query":"Required parameter missing or invalid"}}'
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer (or a dropped connection)."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True, slots=True)
class ServedRequest:
    """What the sandbox did with one request (never the token)."""

    api: str  # "graphql" | "rest" | "other"
    method: str
    path: str
    operation: str | None
    root_fields: tuple[str, ...]
    status: int
    fault: str | None = None
    cost: int | None = None  # actual query cost (GraphQL)


class RequestLog:
    """The requests served, newest last (keeps the latest ``maxlen``; ``total`` counts all)."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._items: deque[ServedRequest] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.total = 0

    def record(self, item: ServedRequest) -> None:
        with self._lock:
            self._items.append(item)
            self.total += 1

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[ServedRequest]:
        with self._lock:
            return iter(list(self._items))

    def __getitem__(self, index: int) -> ServedRequest:
        with self._lock:
            return self._items[index]

    def count(self, **match: Any) -> int:
        """How many kept requests have all these attribute values (e.g. ``status=429``)."""
        return sum(all(getattr(r, k) == v for k, v in match.items()) for r in self)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.total = 0


def _json(status: int, payload: object, **kw: Any) -> Reply:
    return Reply(status, orjson.dumps(payload), **kw)


class ShopifySandbox:
    """The sandbox server; ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, business: Any, *, token: str = "shpat_sandbox",  # noqa: S107
                 api_versions: tuple[str, ...] = ("2026-07", "2026-10"), plan: str = "standard",
                 max_query_cost: int | None = 1000, as_of: dt.datetime | None = None,
                 clock: Callable[[], float] = time.monotonic, host: str = "127.0.0.1",
                 port: int = 0, memo: NodeMemo | None = None) -> None:
        """``memo`` keeps rendered orders for repeated reads (benchmarks warm it up)."""
        self.business = business
        self.memo = memo
        self.store = Store(business, keep_orders=memo is not None)
        self.shop = ShopInfo.of(business)
        self.token = token
        self.api_versions = tuple(api_versions)
        self.plan = plan
        self.max_query_cost = max_query_cost
        self.as_of = as_of
        self.bucket = CostBucket(plan, clock)
        self.rest_bucket = RestBucket(clock, unlimited=plan == "unlimited")
        self.faults = FaultPlan()
        self.overrides = Overrides()
        self.requests = RequestLog()
        self.server_errors: list[str] = []  # tracebacks of sandbox bugs (answered with 500)
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> ShopifySandbox:
        if self._server is None:
            self._server = _Server(self._address, _Handler)
            self._server.sandbox = self
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name="shopify-sandbox", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ShopifySandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def graphql_url(self, version: str = "2026-10") -> str:
        return f"{self.url}/admin/api/{version}/graphql.json"

    def rest_url(self, version: str = "2026-10", resource: str = "orders") -> str:
        return f"{self.url}/admin/api/{version}/{resource}.json"

    def env(self, *, variables: dict | None = None, repeat_cursor_row: bool = False) -> Env:
        """The resolver environment of one request at the current ``as_of``."""
        return Env(self.store, self.shop, self.as_of, variables or {}, self.overrides,
                   repeat_cursor_row, memo=self.memo)

    # -- dispatch -----------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """Answer one HTTP request (the handler thread calls this)."""
        parts = urlsplit(target)
        segments = parts.path.strip("/").split("/")
        if len(segments) != 4 or segments[:2] != ["admin", "api"]:
            return self._log(_json(404, {"errors": "Not Found"}), "other", method, parts.path)
        version, resource = segments[2], segments[3]
        api = {"graphql.json": "graphql", "orders.json": "rest"}.get(resource, "other")
        if version not in self.api_versions or api == "other":
            return self._log(_json(404, {"errors": "Not Found"}), api, method, parts.path)
        expected = "POST" if api == "graphql" else "GET"
        if method != expected:
            return self._log(_json(405, {"errors": f"{method} is not allowed; use {expected}"},
                                   headers=(("Allow", expected),)), api, method, parts.path)
        if headers.get("X-Shopify-Access-Token") != self.token:
            return self._log(Reply(401, fault_bodies.AUTH_BODY), api, method, parts.path)
        try:
            with gc_paused():  # rendering churns through acyclic dicts
                if api == "graphql":
                    return self._graphql(method, parts.path, version, headers, body)
                return self._rest(method, parts.path, parts.query, version)
        except Exception:  # noqa: BLE001 - a sandbox bug must not kill the connection
            self.server_errors.append(traceback.format_exc())
            return self._log(Reply(500, fault_bodies.SERVER_ERROR_BODY), api, method, parts.path)

    def _log(self, reply: Reply, api: str, method: str, path: str, operation: str | None = None,
             roots: tuple[str, ...] = (), fault: str | None = None,
             cost: int | None = None) -> Reply:
        self.requests.record(ServedRequest(api, method, path, operation, roots, reply.status,
                                           fault, cost))
        return reply

    # -- GraphQL ------------------------------------------------------------------------------
    def _graphql(self, method: str, path: str, version: str, headers: Any,
                 body: bytes) -> Reply:
        payload = _graphql_payload(headers, body)
        if payload is None:
            return self._log(Reply(400, _BAD_BODY), "graphql", method, path)
        operation = payload.get("operationName")
        try:
            compiled, failure = compile_query(payload["query"], operation), None
        except QueryFailure as exc:
            compiled, failure = None, exc
        roots = tuple(sorted(compiled.root_fields)) if compiled else ()
        name = (compiled.name if compiled else None) or operation
        fault = self.faults.take(frozenset(roots))
        early = self._early_fault(fault, compiled, payload) if fault else None
        if early is not None:
            return self._log(early, "graphql", method, path, name, roots, fault.kind)
        if failure is not None:
            reply = _json(200, {"errors": failure.errors})
            return self._log(reply, "graphql", method, path, name, roots)
        env = self.env(variables=None, repeat_cursor_row=bool(
            fault and fault.kind == "duplicate_across_pages"))
        result, cost = run_query(compiled, payload.get("variables"), env, self.bucket,
                                 self.max_query_cost)
        raw = orjson.dumps(result)
        reply = Reply(200, raw, headers=(("X-Shopify-API-Version", version),))
        reply = _late_fault(fault, reply) if fault else reply
        return self._log(reply, "graphql", method, path, name, roots,
                         fault.kind if fault else None, cost)

    def _early_fault(self, fault: FaultSpec, compiled: Any, payload: dict) -> Reply | None:
        kind = fault.kind
        if kind == "http_429":
            retry = fault.retry_after if fault.retry_after is not None else 2.0
            return Reply(429, fault_bodies.RATE_LIMIT_BODY, headers=(("Retry-After",
                                                                      str(float(retry))),))
        simple = {
            "http_500": (500, fault_bodies.SERVER_ERROR_BODY, JSON),
            "http_502": (502, fault_bodies.BAD_GATEWAY_HTML, HTML),
            "http_503": (503, fault_bodies.UNAVAILABLE_BODY, JSON),
            "html_200": (200, fault_bodies.MAINTENANCE_HTML, HTML),
            "auth_401": (401, fault_bodies.AUTH_BODY, JSON),
        }
        if kind in simple:
            status, body, ctype = simple[kind]
            extra = (("Retry-After", str(float(fault.retry_after))),) if (
                fault.retry_after is not None) else ()
            return Reply(status, body, ctype, headers=extra)
        if kind == "drop":
            return Reply(0, drop=True)
        if kind == "throttled":
            return _json(200, self._throttled_body(fault, compiled, payload))
        return None

    def _throttled_body(self, fault: FaultSpec, compiled: Any, payload: dict) -> dict:
        requested = requested_or_zero(compiled, payload.get("variables"))
        available = fault.available
        if available is None:
            available = max(0, min(requested - 1, int(requested - self.bucket.restore_rate / 2)))
        return throttled(requested, self.bucket.status(available))

    # -- REST ---------------------------------------------------------------------------------
    def _rest(self, method: str, path: str, query: str, version: str) -> Reply:
        ok, used = self.rest_bucket.try_add()
        limit_header = ("X-Shopify-Shop-Api-Call-Limit", f"{used}/{self.rest_bucket.size}")
        if not ok:
            reply = Reply(429, fault_bodies.RATE_LIMIT_BODY,
                          headers=(limit_header, ("Retry-After", "2.0")))
            return self._log(reply, "rest", method, path, "orders.json")
        params = dict(parse_qsl(query, keep_blank_values=True))
        try:
            payload, link = orders_page(self.env(), params, f"{self.url}{path}")
        except RestRequestError as exc:
            reply = _json(400, {"errors": str(exc)}, headers=(limit_header,))
            return self._log(reply, "rest", method, path, "orders.json")
        headers = (limit_header, ("X-Shopify-API-Version", version))
        headers += (("Link", link),) if link else ()
        return self._log(_json(200, payload, headers=headers), "rest", method, path,
                         "orders.json")


def _graphql_payload(headers: Any, body: bytes) -> dict | None:
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype == "application/graphql":
        return {"query": body.decode("utf-8", "replace")}
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return None
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return None
    return payload


def _late_fault(fault: FaultSpec, reply: Reply) -> Reply:
    if fault.kind == "slow":
        return Reply(reply.status, reply.body, reply.content_type, reply.headers,
                     delay=fault.seconds)
    if fault.kind == "truncated_json":
        cut = max(1, min(len(reply.body) - 1, len(reply.body) // 2))
        return Reply(reply.status, reply.body[:cut], reply.content_type, reply.headers)
    return reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    sandbox: ShopifySandbox

    def __init__(self, *args: Any, **kw: Any) -> None:
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(*args, **kw)

    def close_connections(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the sandbox keeps its own request log."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        reply = self.server.sandbox.handle(self.command, self.path, self.headers, body)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Unknown')}",
                f"Content-Type: {reply.content_type}", f"Content-Length: {len(reply.body)}"]
        head += [f"{name}: {value}" for name, value in reply.headers]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815
