"""An in-process response cache for the connector service, bounded by bytes and by time.

Looker Studio asks the same question many times in a row (every chart on a report page, every
viewer, every refresh), and a KPI answer only changes when the warehouse does. So rendered
responses are cached by *who asked what of which data*: :class:`CacheKey` carries the tenant,
the connector, a digest of the normalised request and the warehouse's data version.

Per process, on purpose: each gunicorn worker holds its own cache. That is fine because

* entries are keyed by ``data_version``, so a worker can never serve data older than the version
  it was asked about; a new sync simply produces new keys and the old entries age out (TTL) or
  are pushed out (byte bound);
* the cost of not sharing is at most one computation per worker for the same request, and
  single-flight (below) keeps it at one per worker even under a burst of identical requests.

Memory is bounded by the bytes of the stored responses (``getsizeof=len``), not by the number of
entries; a response larger than the whole bound is returned but not stored. Errors are never
cached: the next request computes again.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from cachetools import TTLCache

from ondigital_connect.errors import ConfigError

Outcome = Literal["hit", "miss", "coalesced"]


@dataclass(frozen=True, slots=True)
class CacheKey:
    """Everything a cached response depends on; two requests share an entry only if all match.

    ``tenant_id`` keeps tenants apart (cross-tenant isolation), ``data_version`` makes a new sync
    produce new keys instead of serving stale rows, ``request_digest`` is
    :func:`request_digest` of the normalised request.
    """

    tenant_id: str
    connector: str
    request_digest: str
    data_version: str


def request_digest(normalised: object) -> str:
    """SHA-256 (hex) of ``normalised`` as canonical JSON: sorted keys, no spaces, UTF-8.

    The caller normalises first (defaults filled in, lists in a fixed order) so that requests that
    mean the same thing produce the same digest. Raises ``TypeError`` if the value is not JSON.
    """
    canonical = json.dumps(normalised, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _CountingTTLCache(TTLCache):
    """A ``TTLCache`` that counts what it removes: evictions (size) apart from expirations."""

    def __init__(self, maxsize: int, ttl: float, timer: Callable[[], float]) -> None:
        super().__init__(maxsize, ttl, timer=timer, getsizeof=len)
        self.evictions = 0
        self.expirations = 0

    def popitem(self) -> tuple[Any, Any]:
        """Remove the least recently used live entry to make room (called by ``__setitem__``)."""
        item = super().popitem()
        self.evictions += 1
        return item

    def expire(self, time: float | None = None) -> list[tuple[Any, Any]]:
        """Drop the entries whose TTL has run out, counting them."""
        expired = super().expire(time)
        self.expirations += len(expired)
        return expired


@dataclass(slots=True)
class _Flight:
    """One computation in progress; the threads that asked for the same key wait on ``done``."""

    done: threading.Event = field(default_factory=threading.Event)
    value: bytes | None = None
    error: BaseException | None = None


class ResponseCache:
    """Bytes-bounded TTL cache of rendered responses with single-flight computation.

    ``get_or_compute(key, compute)`` returns the cached bytes ("hit"), or runs ``compute`` once
    ("miss") while every other thread asking for the same key meanwhile waits for that result
    ("coalesced"). If ``compute`` raises, the leader and every waiter get that exception and
    nothing is stored. One lock guards the ``TTLCache`` and the in-flight table; it is never held
    while computing. Per process: see the module docstring for why that is fine.
    """

    def __init__(
        self, max_bytes: int, ttl_seconds: float, *, timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ConfigError(f"cache max_bytes must be a positive integer, got {max_bytes!r}")
        if not ttl_seconds > 0:
            raise ConfigError(f"cache ttl_seconds must be positive, got {ttl_seconds!r}")
        self._cache = _CountingTTLCache(max_bytes, ttl_seconds, timer)
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, _Flight] = {}
        self._hits = self._misses = self._coalesced = self._errors = 0

    def _storage_key(self, key: CacheKey) -> Hashable:
        """The key the entry is stored under: the whole :class:`CacheKey`, every field counts."""
        return key

    def get_or_compute(self, key: CacheKey, compute: Callable[[], bytes]) -> tuple[bytes, Outcome]:
        """Return ``(response, outcome)`` for ``key``, computing it at most once at a time.

        ``outcome`` is "hit", "miss" (this call ran ``compute``) or "coalesced" (this call waited
        for another thread's ``compute``). Exceptions from ``compute`` propagate to every caller
        that waited for it and are not cached. ``compute`` must return ``bytes``.
        """
        skey = self._storage_key(key)
        with self._lock:
            value = self._cache.get(skey)
            if value is not None:
                self._hits += 1
                return value, "hit"
            flight = self._inflight.get(skey)
            leader = flight is None
            if flight is None:
                flight = self._inflight[skey] = _Flight()
        if leader:
            return self._lead(skey, flight, compute), "miss"
        return self._follow(flight), "coalesced"

    def _lead(self, skey: Hashable, flight: _Flight, compute: Callable[[], bytes]) -> bytes:
        """Run ``compute`` for everyone waiting on ``flight``, store a success, release them."""
        try:
            value = compute()
            if not isinstance(value, bytes):
                raise TypeError(f"cache compute must return bytes, got {type(value).__name__}")
        except BaseException as exc:
            flight.error = exc
            with self._lock:
                self._misses += 1
                self._errors += 1
                del self._inflight[skey]
            flight.done.set()
            raise
        flight.value = value
        with self._lock:
            self._misses += 1
            if len(value) <= self._cache.maxsize:
                self._cache[skey] = value
            del self._inflight[skey]
        flight.done.set()
        return value

    def _follow(self, flight: _Flight) -> bytes:
        """Wait for the leader of ``flight``; return its value or raise its exception."""
        flight.done.wait()
        with self._lock:
            self._coalesced += 1
        if flight.error is not None:
            raise flight.error
        return cast(bytes, flight.value)

    def stats(self) -> dict[str, int]:
        """Counters and occupancy, for the service's status endpoint and for tests.

        ``misses`` counts computations (including failed ones, also counted in ``errors``);
        ``evictions`` counts entries pushed out by the byte bound, ``expirations`` those whose
        TTL ran out (counted when the cache notices, i.e. lazily).
        """
        with self._lock:
            return {
                "hits": self._hits,
                "misses": self._misses,
                "coalesced": self._coalesced,
                "errors": self._errors,
                "entries": len(self._cache),
                "bytes": self._cache.currsize,
                "max_bytes": self._cache.maxsize,
                "evictions": self._cache.evictions,
                "expirations": self._cache.expirations,
            }

    def clear(self) -> None:
        """Drop every stored entry (counters are kept; computations in flight finish normally)."""
        with self._lock:
            self._cache.clear()
