"""Requests per minute per bucket, counted in SQLite so the limit holds across processes.

Gunicorn workers are separate processes, so an in-memory counter would let each worker
allow the full limit. Counts live in one SQLite table of fixed 60 s windows; a hit weighs
the previous window by how much of it still overlaps the last 60 s (the sliding-window
approximation), which avoids the double burst fixed windows allow at a boundary. Each hit
is one ``BEGIN IMMEDIATE`` transaction, so two processes cannot both take the last slot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ondigital_connect.control._sqlite import SQLiteConnections, init_database
from ondigital_connect.errors import ConfigError

WINDOW_SECONDS = 60
MAX_BUCKET = 200
# Float slack, so a retry at exactly ``retry_after`` is not refused by a rounding error; with
# whole counts it never admits one hit over the limit.
_SLACK = 1e-9

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_hits (
    bucket TEXT NOT NULL, minute INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (bucket, minute)) WITHOUT ROWID
"""


@dataclass(frozen=True)
class RateDecision:
    """Whether a hit is allowed, how many more fit now, and when to retry if refused."""

    allowed: bool
    remaining: int
    retry_after: float


class SQLiteRateLimiter:
    """A cross-process rate limiter; may share the control database file or have its own.

    Refused hits are not counted, so a client that keeps retrying is not locked out longer.
    """

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        init_database(self.path, _SCHEMA, None, "rate-limit database")
        self._db = SQLiteConnections(self.path)
        self._pruned_before = -1

    def __repr__(self) -> str:
        """The path of the counts."""
        return f"SQLiteRateLimiter({str(self.path)!r})"

    def close(self) -> None:
        """Close this process's connections (a later hit reopens them)."""
        self._db.close()

    def hit(self, bucket: str, limit_per_minute: int, now: float | None = None) -> RateDecision:
        """Count one request on ``bucket`` if it fits in ``limit_per_minute``; say if it did."""
        _check(bucket, limit_per_minute)
        now = self._clock() if now is None else now
        minute = math.floor(now / WINDOW_SECONDS)
        elapsed = (now - minute * WINDOW_SECONDS) / WINDOW_SECONDS  # of this window, gone
        with self._db.transaction(write=True) as conn:
            if minute - 1 > self._pruned_before:
                conn.execute("DELETE FROM rate_hits WHERE minute < ?", (minute - 1,))
                self._pruned_before = minute - 1
            counts = dict(conn.execute(
                "SELECT minute, count FROM rate_hits WHERE bucket = ? AND minute >= ?",
                (bucket, minute - 1)).fetchall())
            previous, current = counts.get(minute - 1, 0), counts.get(minute, 0)
            used = previous * (1 - elapsed) + current
            if used + 1 > limit_per_minute + _SLACK:
                wait = _retry_after(previous, current, elapsed, limit_per_minute)
                return RateDecision(False, 0, wait)
            conn.execute("INSERT INTO rate_hits VALUES (?, ?, 1) ON CONFLICT (bucket, minute) "
                         "DO UPDATE SET count = count + 1", (bucket, minute))
        return RateDecision(True, max(0, math.floor(limit_per_minute - used - 1)), 0.0)


def _check(bucket: object, limit: object) -> None:
    """ConfigError for an empty or oversized bucket name or a limit below one."""
    if not isinstance(bucket, str) or not 0 < len(bucket) <= MAX_BUCKET:
        raise ConfigError(f"a rate-limit bucket is a name of 1-{MAX_BUCKET} characters")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigError(f"limit_per_minute must be a whole number >= 1; got {limit!r}")


def _retry_after(previous: int, current: int, elapsed: float, limit: int) -> float:
    """Seconds until one more hit fits, if no other hit is counted meanwhile (rounded up).

    While ``current + 1`` fits, the wait is for the previous window's weight to decay enough;
    otherwise for the next window, where the current count becomes the decaying one.
    """
    if current + 1 <= limit:  # previous > 0 here, or the hit would have fitted
        need = 1 - (limit - 1 - current) / previous
        wait = (need - elapsed) * WINDOW_SECONDS
    else:
        need = 1 - (limit - 1) / current
        wait = (1 - elapsed + need) * WINDOW_SECONDS
    return max(0.001, math.ceil(wait * 1000) / 1000)
