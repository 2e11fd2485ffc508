"""Shopify's calculated query cost (requested and actual) and the leaky buckets that spend it.

Rules (shopify.dev, "GraphQL Admin API rate limits"): scalars and enums cost 0, an object 1, a
connection ``2 + first * (1 + cost of the node's selection)`` (``edges``/``node``/``pageInfo``
add nothing of their own), a list field sized by ``first`` ``first * (1 + children)`` and an
unsized list of objects ``1 + children``.  The requested cost uses the ``first`` arguments; the
actual cost walks what was returned (null objects and empty lists cost nothing, connections and
sized lists count the items they returned, an unsized list costs as its first item).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: plan -> (bucket size, restore rate per second); ``unlimited`` never throttles.
PLANS: dict[str, tuple[float, float] | None] = {
    "standard": (2000.0, 100.0),
    "advanced": (4000.0, 200.0),
    "plus": (20000.0, 1000.0),
    "enterprise": (40000.0, 2000.0),
    "unlimited": None,
}
_UNLIMITED_STATUS = (1_000_000.0, 1_000_000.0)
REST_BUCKET = (40, 2.0)  # requests, leak per second


@dataclass(frozen=True, slots=True)
class CostNode:
    """A non-scalar field of a query: how it is sized and which of its children cost."""

    key: str  # response key (alias or name)
    kind: str  # "object" | "list" | "connection"
    first: Callable[[dict], object] | None  # reads ``first`` from the variables
    children: tuple[CostNode, ...]
    item_paths: tuple[tuple[str, ...], ...] = ()  # connection: ("nodes",) / ("edges", "node")
    fixed: bool = False  # object never null, list never empty (in an unpatched answer)


def requested_cost(nodes: tuple[CostNode, ...], variables: dict) -> int:
    """The cost Shopify computes before running the query."""
    total = 0
    for node in nodes:
        inner = 1 + requested_cost(node.children, variables)
        size = node.first(variables) if node.first is not None else None
        sized = isinstance(size, int) and not isinstance(size, bool) and size >= 0
        if node.kind == "object":
            total += inner
        elif node.kind == "connection":
            total += 2 + (size * inner if sized else 0)
        else:
            total += size * inner if sized else inner
    return total


def actual_cost(nodes: tuple[CostNode, ...], data: object) -> int:
    """The cost of what was returned in ``data`` (a response object for these nodes)."""
    if not isinstance(data, dict):
        return 0
    total = 0
    for node in nodes:
        value = data.get(node.key)
        if value is None:
            continue
        if node.kind == "object":
            total += _item_cost(node, value)
        elif node.kind == "list":
            if isinstance(value, list) and node.first is None:
                total += _item_cost(node, value[0]) if value else 0
            elif isinstance(value, list):
                total += sum(_item_cost(node, item) for item in value)
        else:
            items = _connection_items(value, node.item_paths)
            total += 2 + sum(_item_cost(node, item) for item in items)
    return total


def _item_cost(node: CostNode, item: object) -> int:
    if not isinstance(item, dict):
        return 0
    return 1 + actual_cost(node.children, item) if node.children else 1


def _connection_items(value: object, item_paths: tuple[tuple[str, ...], ...]) -> list:
    if not isinstance(value, dict):
        return []
    for path in item_paths:
        items = value.get(path[0])
        if isinstance(items, list):
            if len(path) == 1:
                return items
            return [e.get(path[1]) for e in items if isinstance(e, dict)]
    return []


def _constant(node: CostNode) -> int | None:
    """The cost of one present item of ``node`` when it cannot vary (fixed objects below)."""
    total = 1
    for child in node.children:
        inner = _constant(child)
        if inner is None or not child.fixed or child.kind == "connection" or (
                child.kind == "list" and child.first is not None):
            return None
        total += inner
    return total


class _ActualGen:
    """Generates a walker that computes :func:`actual_cost` without the generic recursion.

    It walks an answer exactly as the projections built it: a ``fixed`` object is always there,
    so a subtree of fixed objects costs a constant and is not visited.
    """

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"_items": _connection_items}
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def expr(self, nodes: tuple[CostNode, ...], var: str) -> str:
        parts = []
        for node in nodes:
            const = _constant(node)
            if const is not None and node.fixed and node.kind == "object":
                parts.append(str(const))
                continue
            temp = self.fresh("_t")
            got = f"({temp} := {var}.get({node.key!r})) is None"
            parts.append(f"(0 if {got} else {self.present(node, temp, const)})")
        return " + ".join(parts) or "0"

    def present(self, node: CostNode, temp: str, const: int | None) -> str:
        """The cost of a node whose value ``temp`` is not None."""
        if node.kind == "object":
            return str(const) if const is not None else f"1 + {self.expr(node.children, temp)}"
        if node.kind == "list" and node.first is None:  # unsized: costs as one object
            one = str(const) if const is not None else f"{self.item(node)}({temp}[0])"
            return f"({one} if {temp} else 0)"
        items = temp if node.kind == "list" else self.items(node, temp)
        fixed = "2 + " if node.kind == "connection" else ""
        if const is not None:
            return f"{fixed}{const} * len({items})"
        return f"{fixed}sum(map({self.item(node)}, {items}))"

    @staticmethod
    def items(node: CostNode, temp: str) -> str:
        if not node.item_paths:
            return "()"
        if len(node.item_paths) == 1 and len(node.item_paths[0]) == 1:
            return f"{temp}[{node.item_paths[0][0]!r}]"
        return f"_items({temp}, {node.item_paths!r})"

    def item(self, node: CostNode) -> str:
        name = self.fresh("_i")
        body = f"1 + {self.expr(node.children, 'd')}" if node.children else "1"
        self.define(name, f"0 if d is None else {body}")
        return name

    def define(self, name: str, expr: str) -> None:
        code = compile(f"def {name}(d):\n    return {expr}\n", "<sandbox-cost>", "exec")
        exec(code, self.ns)  # noqa: S102 - source built from response keys (GraphQL names)


def compile_actual(nodes: tuple[CostNode, ...]) -> Callable[[object], int]:
    """A fast ``actual_cost(nodes, data)`` for an unpatched answer of one query."""
    gen = _ActualGen()
    gen.define("_actual", gen.expr(nodes, "d"))
    fast = gen.ns["_actual"]

    def actual(data: object) -> int:
        try:
            return fast(data)
        except (AttributeError, TypeError, KeyError, IndexError):
            return actual_cost(nodes, data)
    return actual


class CostBucket:
    """The GraphQL leaky bucket of one app on one shop (thread-safe)."""

    def __init__(self, plan: str, clock: Callable[[], float]) -> None:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; expected one of {sorted(PLANS)}")
        self.plan = plan
        self._clock = clock
        limits = PLANS[plan]
        self.unlimited = limits is None
        self.maximum, self.restore_rate = limits or _UNLIMITED_STATUS
        self._available = self.maximum
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> float:
        now = self._clock()
        elapsed = max(0.0, now - self._at)
        self._available = min(self.maximum, self._available + elapsed * self.restore_rate)
        self._at = now
        return self._available

    def try_spend(self, cost: int) -> bool:
        """Take ``cost`` points if they are available now; False means THROTTLED."""
        if self.unlimited:
            return True
        with self._lock:
            if self._refill() < cost:
                return False
            self._available -= cost
            return True

    def refund(self, points: int) -> None:
        """Give back the difference between the requested and the actual cost."""
        if self.unlimited or points <= 0:
            return
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + points)

    def drain(self, points: float | None = None) -> None:
        """Empty the bucket (or take ``points`` out of it); for tests."""
        with self._lock:
            self._refill()
            self._available = 0.0 if points is None else max(0.0, self._available - points)

    def status(self, available: float | None = None) -> dict:
        """``throttleStatus`` as Shopify reports it."""
        if available is None:
            if self.unlimited:
                available = self.maximum
            else:
                with self._lock:
                    available = self._refill()
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": int(available + 1e-6),
            "restoreRate": self.restore_rate,
        }


class RestBucket:
    """The REST Admin API's request bucket: 40 requests leaking 2 per second."""

    def __init__(self, clock: Callable[[], float], *, unlimited: bool = False) -> None:
        self.size, self.leak = REST_BUCKET
        self.unlimited = unlimited
        self._clock = clock
        self._level = 0.0
        self._at = clock()
        self._lock = threading.Lock()

    def try_add(self) -> tuple[bool, int]:
        """Count one request; returns (accepted, requests now in the bucket)."""
        with self._lock:
            now = self._clock()
            self._level = max(0.0, self._level - max(0.0, now - self._at) * self.leak)
            self._at = now
            if self.unlimited:
                return True, int(round(self._level))
            if self._level + 1 > self.size:
                return False, self.size
            self._level += 1
            return True, int(-(-self._level // 1))
