"""Which slice of time a run reads: ``[cursor - lookback, now frozen at start]``."""

from __future__ import annotations

import datetime as dt

from ondigital_connect.sources.base import Window


def plan_window(
    cursor: dt.datetime | None, *, now: dt.datetime, lookback: dt.timedelta,
    start_at: dt.datetime | None = None,
) -> Window:
    """The window of the next run.

    A first run (no cursor) reads from ``start_at`` (None = everything the vendor has).
    Later runs re-read ``lookback`` before the cursor so late changes are picked up. The
    upper bound is ``now`` at the start of the run, so records changing during the run are
    left for the next one instead of moving the cursor past unseen data.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if cursor is None:
        return Window(start=start_at, end=now)
    return Window(start=cursor - lookback, end=now)
