"""Pause Python's cyclic garbage collector around allocation-heavy work (JSON pages, batches).

Decoding a page or converting a batch allocates hundreds of thousands of acyclic containers;
with the collector on, each burst triggers full collections over the whole heap and costs
2-4x the work itself. Pauses nest and are shared across threads; the collector is restored
to its previous state when the outermost pause ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_restore = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (re-entrant, thread-safe)."""
    global _depth, _restore
    with _lock:
        if _depth == 0:
            _restore = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restore:
                gc.enable()
