"""Live progress for long syncs: records fetched, loaded, rejected and the rate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from ondigital_connect.models.canonical import SyncRun


class RunProgress:
    """A callback for ``SyncEngine(progress=...)`` that redraws one status line per stream."""

    def __init__(self, live: Live) -> None:
        self._live = live
        self._started: dict[str, float] = {}

    def __call__(self, run: SyncRun) -> None:
        start = self._started.setdefault(run.run_id, time.perf_counter())
        elapsed = max(time.perf_counter() - start, 1e-9)
        line = (f"{run.source}/{run.stream}: {run.received:,} received, {run.loaded:,} loaded, "
                f"{run.rejected:,} rejected, {run.received / elapsed:,.0f}/s  [{run.status}]")
        self._live.update(Text(line))


@contextmanager
def live_progress(console: Console) -> Iterator[RunProgress]:
    """Show progress while the block runs (plain lines when output is not a terminal)."""
    with Live(Text(""), console=console, refresh_per_second=4, transient=True) as live:
        yield RunProgress(live)


def describe_run(run: SyncRun) -> dict[str, Any]:
    """The fields of a finished run worth printing."""
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    return {
        "stream": f"{run.source}/{run.stream}", "status": run.status, "fetched": run.fetched,
        "loaded": run.loaded, "rejected": run.rejected, "duplicates": run.duplicates,
        "seconds": round(seconds, 2),
    }
