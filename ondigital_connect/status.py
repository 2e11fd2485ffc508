"""What the warehouse says about its syncs: last runs, counts, rejects and freshness."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ondigital_connect.warehouse.base import Warehouse
from ondigital_connect.warehouse.ddl import quote


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """The latest state of one (source, account, stream)."""

    source: str
    account_id: str
    stream: str
    last_status: str
    last_finished_at: dt.datetime | None
    last_success_at: dt.datetime | None
    cursor: dt.datetime | None
    runs: int
    fetched: int
    loaded: int
    rejected: int
    last_error: str | None

    def freshness(self, now: dt.datetime) -> dt.timedelta | None:
        """Time since the last successful run finished (None if it never succeeded)."""
        return now - self.last_success_at if self.last_success_at else None


_STATUS_SQL = """
WITH ranked AS (
  SELECT *, row_number() OVER (PARTITION BY source, account_id, stream
                               ORDER BY started_at DESC) AS rn
  FROM _sync_runs
)
SELECT r.source, r.account_id, r.stream, r.status, r.finished_at,
       (SELECT max(finished_at) FROM _sync_runs s WHERE s.source = r.source
          AND s.account_id = r.account_id AND s.stream = r.stream
          AND s.status = 'succeeded') AS last_success_at,
       st.cursor,
       (SELECT count(*) FROM _sync_runs s WHERE s.source = r.source
          AND s.account_id = r.account_id AND s.stream = r.stream) AS runs,
       r.fetched, r.loaded, r.rejected, r.error
FROM ranked r
LEFT JOIN _sync_state st USING (source, account_id, stream)
WHERE r.rn = 1
ORDER BY r.source, r.account_id, r.stream
"""


def stream_statuses(warehouse: Warehouse) -> list[StreamStatus]:
    """One StreamStatus per synced stream, from the run log and the state table."""
    return [StreamStatus(*row) for row in warehouse.fetch(_STATUS_SQL)]


def reject_reasons(warehouse: Warehouse, *, limit: int = 10) -> list[tuple[str, str, int]]:
    """The most frequent reject reasons: (source/stream, reason, count)."""
    rows = warehouse.fetch(
        "SELECT source || '/' || stream, reason, count(*) AS n FROM _rejects "
        "GROUP BY ALL ORDER BY n DESC, 1, 2 LIMIT ?", [limit],
    )
    return [(str(a), str(b), int(c)) for a, b, c in rows]


def table_counts(warehouse: Warehouse, tables: tuple[str, ...]) -> dict[str, int]:
    """Row counts of the named canonical tables (names come from the table registry)."""
    return {t: int(warehouse.fetch(f"SELECT count(*) FROM {quote(t)}")[0][0]) for t in tables}
