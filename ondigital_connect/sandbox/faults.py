"""Scripted faults and per-order overrides for the sandbox (what the failure tests script).

``sandbox.faults.add(kind, after=N, times=T, match=None, ...)`` arms one fault: counting the
GraphQL requests that *match* (``match`` = a root field name such as ``"orders"``; ``None`` =
all) from the moment it was added, the first ``after`` pass untouched and the next ``times``
(``None`` = forever) get the fault.  When two faults are due on the same request the older one
fires and the younger one waits for the next matching request.

Kinds:
  ``http_429``   429 with ``Retry-After`` (``retry_after``, default 2.0) and Shopify's REST body
  ``http_500`` / ``http_502`` / ``http_503``   server errors (502 is an HTML gateway page)
  ``throttled``  HTTP 200 THROTTLED body whose ``currentlyAvailable`` is below the request's cost
                 (``available`` overrides it)
  ``truncated_json``  the real answer cut in half (Content-Length matches the cut)
  ``html_200``   an HTML maintenance page with status 200 and ``Content-Type: text/html``
  ``auth_401``   401 with Shopify's invalid-token body
  ``slow``       sleep ``seconds`` (default 5.0) and then answer normally
  ``drop``       close the connection without answering
  ``duplicate_across_pages``  a root connection page requested with ``after`` starts with the
                 cursor's own node, i.e. repeats the previous page's last node

``sandbox.overrides`` changes what is served for one order id:
  ``patch(order_id, {"giftMessage": "hi"})``  deep-merges a dict into every rendered GraphQL
      Order node (``Overrides.REMOVE`` as a value deletes that key); a callable
      ``patch(order_id, fn)`` gets the node and returns the new one (or None after editing it)
  ``stale_version(order_id, updated_at=..., factor=0.5)``  serves an older version everywhere
      (GraphQL and REST): that ``updated_at``, money amounts times ``factor`` and, unless
      ``keep_refunds``, no refunds yet
  ``times=N`` on either limits it to the next N servings; ``clear(order_id=None)`` removes them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ondigital_connect.simulate.model import SimOrder

KINDS = frozenset({
    "http_429", "http_500", "http_502", "http_503", "throttled", "truncated_json", "html_200",
    "auth_401", "slow", "drop", "duplicate_across_pages",
})

RATE_LIMIT_BODY = (
    b'{"errors":"Exceeded 2 calls per second for api client. '
    b'Reduce request rates to resume uninterrupted service."}'
)
AUTH_BODY = (
    b'{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}'
)
MAINTENANCE_HTML = (
    b"<!DOCTYPE html><html><head><title>Shopify - Down for maintenance</title></head>"
    b"<body><h1>We'll be right back</h1><p>This store is down for scheduled maintenance."
    b"</p></body></html>"
)
BAD_GATEWAY_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)
SERVER_ERROR_BODY = b'{"errors":"Internal Server Error"}'
UNAVAILABLE_BODY = b'{"errors":"Service Unavailable"}'


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One armed fault as the caller described it."""

    kind: str
    after: int = 0
    times: int | None = 1
    match: str | None = None
    retry_after: float | None = None
    seconds: float = 5.0
    available: int | None = None


@dataclass(slots=True)
class _Armed:
    spec: FaultSpec
    seen: int = 0
    fired: int = 0

    def due(self) -> bool:
        return self.seen >= self.spec.after and (
            self.spec.times is None or self.fired < self.spec.times
        )

    def spent(self) -> bool:
        return self.spec.times is not None and self.fired >= self.spec.times


@dataclass
class FaultPlan:
    """The faults armed on one sandbox; thread-safe."""

    _armed: list[_Armed] = field(default_factory=list)
    _fired: list[FaultSpec] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        kind: str,
        *,
        after: int = 0,
        times: int | None = 1,
        match: str | None = None,
        retry_after: float | None = None,
        seconds: float = 5.0,
        available: int | None = None,
    ) -> FaultSpec:
        """Arm a fault (see the module docstring) and return its spec."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        if after < 0 or (times is not None and times < 1):
            raise ValueError("after must be >= 0 and times >= 1 (or None for forever)")
        spec = FaultSpec(kind, after, times, match, retry_after, seconds, available)
        with self._lock:
            self._armed.append(_Armed(spec))
        return spec

    def clear(self) -> None:
        """Disarm every fault and forget the ones that fired."""
        with self._lock:
            self._armed.clear()
            self._fired.clear()

    @property
    def pending(self) -> list[FaultSpec]:
        """Faults that may still fire."""
        with self._lock:
            return [a.spec for a in self._armed if not a.spent()]

    @property
    def fired(self) -> list[FaultSpec]:
        """Faults in the order they fired (one entry per firing)."""
        with self._lock:
            return list(self._fired)

    def take(self, root_fields: frozenset[str]) -> FaultSpec | None:
        """Count one GraphQL request with these root fields; return the fault it gets, if any."""
        with self._lock:
            if not self._armed:
                return None
            chosen: _Armed | None = None
            for armed in self._armed:
                if armed.spec.match is not None and armed.spec.match not in root_fields:
                    continue
                if armed.due():
                    if chosen is None:
                        chosen = armed
                        armed.seen += 1
                        armed.fired += 1
                else:
                    armed.seen += 1
            if chosen is None:
                return None
            self._fired.append(chosen.spec)
            self._armed = [a for a in self._armed if not a.spent()]
            return chosen.spec


class _Remove:
    def __repr__(self) -> str:
        return "Overrides.REMOVE"


_ORDER_MONEY = ("subtotal", "discounts", "shipping", "tax", "total")
_LINE_MONEY = ("unit_price", "discount", "tax")
_CENT = Decimal("0.01")


@dataclass(slots=True)
class _Counted:
    value: Any
    left: int | None


class Overrides:
    """Per-order patches and stale versions (see the module docstring); thread-safe."""

    REMOVE = _Remove()

    def __init__(self) -> None:
        self._patches: dict[int, list[_Counted]] = {}
        self._stale: dict[int, _Counted] = {}
        self._lock = threading.Lock()

    def patch(
        self, order_id: int, patch: dict | Callable[[dict], dict | None], *,
        times: int | None = None,
    ) -> None:
        """Change every rendered GraphQL node of this order (dict deep-merge or callable)."""
        with self._lock:
            self._patches.setdefault(int(order_id), []).append(_Counted(patch, times))

    def stale_version(
        self, order_id: int, *, updated_at: dt.datetime, factor: Decimal | float = Decimal("0.5"),
        keep_refunds: bool = False, times: int | None = None,
    ) -> None:
        """Serve an older version of this order: ``updated_at``, amounts x ``factor``."""
        spec = (updated_at, Decimal(str(factor)), keep_refunds)
        with self._lock:
            self._stale[int(order_id)] = _Counted(spec, times)

    def clear(self, order_id: int | None = None) -> None:
        """Remove the overrides of one order, or all."""
        with self._lock:
            if order_id is None:
                self._patches.clear()
                self._stale.clear()
            else:
                self._patches.pop(int(order_id), None)
                self._stale.pop(int(order_id), None)

    @property
    def active(self) -> bool:
        return bool(self._patches or self._stale)

    @property
    def patching(self) -> bool:
        """Are patches armed (rendered nodes may then differ from the projections)?"""
        return bool(self._patches)

    def has_patch(self, order_id: int) -> bool:
        return order_id in self._patches

    def serve(self, order: SimOrder | None) -> SimOrder | None:
        """The version of ``order`` to serve (the stale one while it is armed)."""
        if order is None or not self._stale or order.order_id not in self._stale:
            return order
        with self._lock:
            counted = self._stale.get(order.order_id)
            if counted is None:
                return order
            _take(self._stale, order.order_id, counted)
        return _stale(order, *counted.value)

    def apply(self, order_id: int, node: dict) -> dict:
        """Apply this order's patches to a rendered GraphQL node."""
        with self._lock:
            patches = list(self._patches.get(order_id, ()))
            for counted in patches:
                _take_patch(self._patches, order_id, counted)
        for counted in patches:
            if callable(counted.value):
                result = counted.value(node)
                node = node if result is None else result
            else:
                node = _merge(node, counted.value)
        return node


def _take(table: dict[int, _Counted], key: int, counted: _Counted) -> None:
    if counted.left is not None:
        counted.left -= 1
        if counted.left <= 0:
            table.pop(key, None)


def _take_patch(table: dict[int, list[_Counted]], key: int, counted: _Counted) -> None:
    if counted.left is None:
        return
    counted.left -= 1
    if counted.left <= 0:
        remaining = [c for c in table.get(key, ()) if c is not counted]
        if remaining:
            table[key] = remaining
        else:
            table.pop(key, None)


def _merge(node: dict, patch: dict) -> dict:
    out = dict(node)
    for key, value in patch.items():
        if value is Overrides.REMOVE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _scaled(obj: Any, stems: tuple[str, ...], factor: Decimal) -> dict[str, Decimal]:
    changes = {}
    for stem in stems:
        for suffix in ("_shop", "_presentment"):
            name = stem + suffix
            changes[name] = (getattr(obj, name) * factor).quantize(_CENT)
    return changes


def _stale(order: SimOrder, updated_at: dt.datetime, factor: Decimal, keep: bool) -> SimOrder:
    lines = tuple(
        dataclasses.replace(line, **_scaled(line, _LINE_MONEY, factor)) for line in order.lines
    )
    changes: dict[str, Any] = _scaled(order, _ORDER_MONEY, factor)
    changes.update(updated_at=updated_at, lines=lines)
    if not keep:
        zero = Decimal("0.00")
        changes.update(refunds=(), refunded_shop=zero, refunded_presentment=zero)
        if order.financial_status in ("PARTIALLY_REFUNDED", "REFUNDED"):
            changes["financial_status"] = "PAID"
    return dataclasses.replace(order, **changes)

