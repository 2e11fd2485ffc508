"""Shared fixtures: a DuckDB warehouse per test, a fixed clock, and a loopback-only network."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from ondigital_connect.sync import SyncEngine
from ondigital_connect.warehouse import DuckDBWarehouse

NOW = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach a host other than the loopback interface."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1", "::1", "localhost"
        ):
            raise AssertionError(f"test tried to reach {host!r}; only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """A pytest-httpserver on 127.0.0.1, shared by a module's tests."""
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    """The loopback server, strict: every expected request must come, nothing unexpected."""
    server.clear()
    yield server
    server.check_assertions()
    server.check_handler_errors()
    assert not server.ordered_handlers, "a queued reply was never requested"
    assert not server.oneshot_handlers, "a one-shot reply was never requested"
    server.clear()


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(tmp_path / "tenant.duckdb")
    yield wh
    wh.close()


@pytest.fixture
def clock() -> list[dt.datetime]:
    """A settable clock: ``clock[0]`` is "now"."""
    return [NOW]


@pytest.fixture
def engine(warehouse: DuckDBWarehouse, tmp_path: Path, clock: list[dt.datetime]) -> SyncEngine:
    return SyncEngine(warehouse, tenant="t1", lock_dir=tmp_path / "locks", clock=lambda: clock[0])
