"""SQLite plumbing shared by the control store and the rate limiter.

One autocommit connection per (process, thread), opened lazily with a busy timeout, so
connections are never shared across threads or carried over a ``fork`` (gunicorn forks its
workers); schema creation in WAL mode with an optional version check.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ondigital_connect.errors import ConfigError

BUSY_TIMEOUT_MS = 10_000

# Connections a forked child inherited: kept referenced (never closed or collected) because
# closing a parent's SQLite connection in a child can drop the parent's file locks.
_INHERITED: list[sqlite3.Connection] = []


def utc_now() -> dt.datetime:
    """The current time in UTC (the default clock)."""
    return dt.datetime.now(dt.UTC)


class _Connection(sqlite3.Connection):
    """A plain connection that can be weakly referenced (the C type cannot)."""


class SQLiteConnections:
    """One autocommit connection per (process, thread) to one SQLite file.

    A thread's connection closes when the thread ends (it is garbage collected); ``close``
    closes the live ones of this process. Shared by the store and the rate limiter.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and again after a fork)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        conn = connect(self.path)
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours
                _INHERITED.extend(self._open)
                self._open = weakref.WeakSet()
                self._pid = os.getpid()
            self._open.add(conn)
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A transaction on this thread's connection; ``write`` takes the write lock up front."""
        conn = self.get()
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close this process's connections; the next ``get`` opens a new one."""
        with self._lock:
            if self._pid == os.getpid():
                for conn in list(self._open):
                    conn.close()
            self._open = weakref.WeakSet()
            self._local = threading.local()


def connect(path: Path) -> _Connection:
    """A new autocommit connection with a busy timeout, foreign keys and WAL-friendly sync."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False, factory=_Connection)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def init_database(path: Path, schema: str, version: int | None, name: str) -> None:
    """Create the parent folder, switch to WAL and create ``schema`` (idempotent).

    Uses its own short-lived connection, so nothing stays open in a process that forks later.
    With a ``version``, the file's ``user_version`` is set to it, and a database from newer
    code (a higher one) is refused rather than guessed at.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        if version is not None and found > version:
            conn.execute("ROLLBACK")
            raise ConfigError(f"{name} {path} has schema version {found}, newer than this "
                              f"code's {version}; upgrade ondigital-connect")
        for statement in filter(str.strip, schema.split(";")):
            conn.execute(statement)
        if version is not None:
            conn.execute(f"PRAGMA user_version = {max(found, version)}")
        conn.execute("COMMIT")
    finally:
        conn.close()
