"""ResponseCache: hits and misses, TTL, the byte bound, single-flight, errors, tenant isolation."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable, Hashable

import pytest

from connector_service.cache import CacheKey, ResponseCache, request_digest
from ondigital_connect.errors import ConfigError
from tests.defects import expect

THREADS = 16


def key(tenant: str = "t1", version: str = "v1", digest: str = "d1") -> CacheKey:
    return CacheKey(tenant_id=tenant, connector="kpi", request_digest=digest, data_version=version)


class Clock:
    """A settable monotonic clock for the TTL."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Computer:
    """A compute function that counts its calls and returns ``value``."""

    def __init__(self, value: bytes = b"answer") -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.value


# --- request_digest and the key ---------------------------------------------------------------

def test_digest_is_canonical_json_sha256() -> None:
    a = request_digest({"fields": ["revenue", "orders"], "range": {"from": "2026-01-01"}})
    b = request_digest({"range": {"from": "2026-01-01"}, "fields": ["revenue", "orders"]})
    assert a == b
    assert len(a) == 64
    assert int(a, 16) >= 0
    assert a != request_digest({"fields": ["orders", "revenue"], "range": {"from": "2026-01-01"}})
    assert request_digest({"x": "é"}) != request_digest({"x": "e"})


def test_digest_refuses_non_json() -> None:
    with pytest.raises(TypeError):
        request_digest({"when": object()})


def test_key_is_frozen_and_hashable() -> None:
    k = key()
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.tenant_id = "t2"  # type: ignore[misc]
    assert {k: 1}[key()] == 1


@pytest.mark.parametrize(("max_bytes", "ttl"), [(0, 60), (-1, 60), (100, 0), (100, -5), (True, 1)])
def test_bad_configuration_is_a_config_error(max_bytes: int, ttl: float) -> None:
    with pytest.raises(ConfigError):
        ResponseCache(max_bytes, ttl)


# --- hits, misses, TTL --------------------------------------------------------------------------

def test_miss_then_hit() -> None:
    cache = ResponseCache(1000, 60)
    compute = Computer()
    assert cache.get_or_compute(key(), compute) == (b"answer", "miss")
    assert cache.get_or_compute(key(), compute) == (b"answer", "hit")
    assert compute.calls == 1
    stats = cache.stats()
    assert (stats["hits"], stats["misses"], stats["entries"], stats["bytes"]) == (1, 1, 1, 6)
    assert stats["max_bytes"] == 1000


def test_empty_response_is_cached_too() -> None:
    cache = ResponseCache(1000, 60)
    compute = Computer(b"")
    cache.get_or_compute(key(), compute)
    assert cache.get_or_compute(key(), compute) == (b"", "hit")
    assert compute.calls == 1


def test_entry_expires_after_ttl() -> None:
    clock = Clock()
    cache = ResponseCache(1000, 60, timer=clock)
    compute = Computer()
    cache.get_or_compute(key(), compute)
    clock.now += 59.9
    assert cache.get_or_compute(key(), compute)[1] == "hit"
    clock.now += 0.1
    assert cache.get_or_compute(key(), compute)[1] == "miss"
    assert compute.calls == 2
    assert cache.stats()["expirations"] == 1


def test_clear_drops_entries() -> None:
    cache = ResponseCache(1000, 60)
    compute = Computer()
    cache.get_or_compute(key(), compute)
    cache.clear()
    assert cache.stats()["entries"] == 0
    assert cache.get_or_compute(key(), compute)[1] == "miss"


# --- the byte bound -----------------------------------------------------------------------------

def test_byte_bound_evicts_least_recently_used() -> None:
    cache = ResponseCache(100, 60)
    for digest in ("a", "b"):
        cache.get_or_compute(key(digest=digest), Computer(b"x" * 40))
    cache.get_or_compute(key(digest="a"), Computer())  # touch "a": "b" is now the oldest
    cache.get_or_compute(key(digest="c"), Computer(b"y" * 40))
    stats = cache.stats()
    assert (stats["entries"], stats["bytes"], stats["evictions"]) == (2, 80, 1)
    assert cache.get_or_compute(key(digest="a"), Computer())[1] == "hit"
    assert cache.get_or_compute(key(digest="b"), Computer(b"x" * 40))[1] == "miss"


def test_value_larger_than_bound_is_returned_but_not_cached() -> None:
    cache = ResponseCache(100, 60)
    cache.get_or_compute(key(digest="small"), Computer(b"s" * 60))
    big = Computer(b"B" * 101)
    assert cache.get_or_compute(key(digest="big"), big) == (b"B" * 101, "miss")
    assert cache.get_or_compute(key(digest="big"), big)[1] == "miss"
    assert big.calls == 2
    stats = cache.stats()
    assert (stats["entries"], stats["bytes"], stats["evictions"]) == (1, 60, 0)


def test_value_exactly_the_bound_is_cached() -> None:
    cache = ResponseCache(100, 60)
    cache.get_or_compute(key(), Computer(b"e" * 100))
    assert cache.get_or_compute(key(), Computer())[1] == "hit"


def test_compute_must_return_bytes() -> None:
    cache = ResponseCache(100, 60)
    with pytest.raises(TypeError, match="bytes"):
        cache.get_or_compute(key(), lambda: "text")  # type: ignore[arg-type,return-value]
    assert cache.stats()["entries"] == 0


# --- single-flight ------------------------------------------------------------------------------

class ObservedCache(ResponseCache):
    """Signals ``arrived`` once ``expected`` callers are waiting on another thread's compute."""

    def __init__(self, expected: int) -> None:
        super().__init__(10_000, 60)
        self.expected = expected
        self.waiting = 0
        self.arrived = threading.Event()
        self._guard = threading.Lock()

    def _follow(self, flight: object) -> bytes:
        with self._guard:
            self.waiting += 1
            if self.waiting == self.expected:
                self.arrived.set()
        return super()._follow(flight)  # type: ignore[arg-type]


def run_threads(cache: ResponseCache, compute: Callable[[], bytes]) -> list[object]:
    """Call ``get_or_compute`` for one key from THREADS threads at once; results or exceptions."""
    results: list[object] = [None] * THREADS
    start = threading.Barrier(THREADS)

    def worker(i: int) -> None:
        start.wait()
        try:
            results[i] = cache.get_or_compute(key(), compute)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    return results


def test_single_flight_computes_once_for_concurrent_callers() -> None:
    cache = ObservedCache(expected=THREADS - 1)
    calls: list[int] = []

    def slow() -> bytes:
        calls.append(1)
        assert cache.arrived.wait(timeout=5), "the other callers never came to wait"
        return b"shared"

    results = run_threads(cache, slow)
    assert len(calls) == 1
    assert sorted(r[1] for r in results) == ["coalesced"] * (THREADS - 1) + ["miss"]  # type: ignore[index]
    assert all(r[0] == b"shared" for r in results)  # type: ignore[index]
    stats = cache.stats()
    assert (stats["misses"], stats["coalesced"], stats["entries"]) == (1, THREADS - 1, 1)


def test_error_reaches_every_waiter_and_is_not_cached() -> None:
    cache = ObservedCache(expected=THREADS - 1)
    boom = RuntimeError("warehouse down")
    calls: list[int] = []

    def failing() -> bytes:
        calls.append(1)
        assert cache.arrived.wait(timeout=5)
        raise boom

    results = run_threads(cache, failing)
    assert len(calls) == 1
    assert all(r is boom for r in results)
    stats = cache.stats()
    assert (stats["errors"], stats["entries"], stats["coalesced"]) == (1, 0, THREADS - 1)
    assert cache.get_or_compute(key(), Computer(b"recovered")) == (b"recovered", "miss")


def test_concurrent_mixed_keys_keep_the_invariants() -> None:
    cache = ResponseCache(2_000, 60)
    calls_per_thread = 300
    wrong: list[bytes] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(calls_per_thread):
            digest = str(rng.randrange(40))
            value, _ = cache.get_or_compute(key(digest=digest), lambda d=digest: d.encode() * 50)
            if value != digest.encode() * 50:
                wrong.append(value)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not wrong
    stats = cache.stats()
    assert stats["hits"] + stats["misses"] + stats["coalesced"] == 8 * calls_per_thread
    assert stats["bytes"] <= 2_000
    assert stats["errors"] == 0


# --- isolation: tenant and data version are part of the key -------------------------------------

class FieldBlindCache(ResponseCache):
    """Defect: stores entries under a key that leaves one CacheKey field out."""

    def __init__(self, dropped: str) -> None:
        super().__init__(10_000, 60)
        self.dropped = dropped

    def _storage_key(self, key: CacheKey) -> Hashable:
        kept = [f.name for f in dataclasses.fields(key) if f.name != self.dropped]
        return tuple(getattr(key, name) for name in kept)


def check_isolated(cache: ResponseCache, field: str) -> None:
    """Two keys equal except for ``field`` must each get their own response."""
    first = key()
    second = dataclasses.replace(first, **{field: "other"})
    cache.get_or_compute(first, Computer(b"first's rows"))
    value, outcome = cache.get_or_compute(second, Computer(b"second's rows"))
    assert (value, outcome) == (b"second's rows", "miss"), f"{field} leaked another's entry"


@pytest.mark.parametrize("field", ["tenant_id", "data_version", "connector", "request_digest"])
@pytest.mark.parametrize("defect", [False, True], ids=["sound", "defect"])
def test_keys_differing_in_one_field_do_not_share(field: str, defect: bool) -> None:
    cache = FieldBlindCache(field) if defect else ResponseCache(10_000, 60)
    expect(defect, lambda: check_isolated(cache, field))
