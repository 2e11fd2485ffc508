"""Sync: windows, locks and the engine that moves a source's streams into a warehouse."""

from ondigital_connect.sync.engine import SyncEngine, utc_now
from ondigital_connect.sync.lock import stream_lock
from ondigital_connect.sync.windows import plan_window

__all__ = ["SyncEngine", "plan_window", "stream_lock", "utc_now"]
