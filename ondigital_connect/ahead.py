"""Iterate on a worker thread, a bounded number of items ahead of the consumer.

The sync engine reads (fetches and maps) the next batch while the warehouse loads the current
one, and the Shopify client fetches the next page while its pages are mapped. The database and
the network release the GIL, so the two overlap; memory stays bounded by ``depth`` items.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterable[T], depth: int, *, name: str = "read-ahead") -> Iterator[T]:
    """Every item of ``items``, produced by a worker thread up to ``depth`` items ahead.

    The worker starts with the first ``next()``. An error reaches the consumer where it
    happened, after the items before it. Closing the returned iterator early stops the worker
    after the item it is producing; the source iterator is closed on the worker thread.
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    produced: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    worker = threading.Thread(target=_work, args=(items, produced, stop), name=name, daemon=True)
    worker.start()
    try:
        while True:
            item, error = produced.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let a worker blocked on a full queue see the stop
            _drain(produced)
            worker.join(timeout=0.05)


def _work(items: Iterable[Any], produced: queue.Queue[tuple[Any, BaseException | None]],
          stop: threading.Event) -> None:
    iterator = iter(items)
    try:
        for item in iterator:
            if stop.is_set():
                break
            produced.put((item, None))
        produced.put((_DONE, None))
    except BaseException as exc:  # handed to the consumer, raised there
        produced.put((_DONE, exc))
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _drain(produced: queue.Queue[Any]) -> None:
    try:
        while True:
            produced.get_nowait()
    except queue.Empty:
        pass
