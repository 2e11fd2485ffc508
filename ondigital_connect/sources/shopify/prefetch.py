"""Pages fetched ahead of their consumer on one worker thread, a bounded number at a time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

P = TypeVar("P")
#: ``fetch(cursor)`` -> (page, cursor of the next page or None after the last one).
Fetch = Callable[[str | None], tuple[P, str | None]]
_DONE = object()


def sequential(fetch: Fetch[P]) -> Iterator[P]:
    """Every page, each fetched when the previous one has been consumed."""
    page, cursor = fetch(None)
    yield page
    while cursor is not None:
        page, cursor = fetch(cursor)
        yield page


def ahead(fetch: Fetch[P], depth: int) -> Iterator[P]:
    """Every page, fetched by a worker thread up to ``depth`` pages ahead of the consumer.

    The shop keeps working while the consumer maps and loads. An error reaches the consumer
    where it happened, after the pages before it; closing the iterator early stops the worker
    (after the request it may be in the middle of).
    """
    pages: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        cursor: str | None = None
        try:
            while not stop.is_set():
                page, cursor = fetch(cursor)
                pages.put((page, None))
                if cursor is None:
                    break
            pages.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            pages.put((_DONE, exc))

    worker = threading.Thread(target=work, name="shopify-pages", daemon=True)
    worker.start()
    try:
        while True:
            page, error = pages.get()
            if error is not None:
                raise error
            if page is _DONE:
                return
            yield page
    finally:
        stop.set()
        while worker.is_alive():  # let a worker blocked on a full queue see the stop
            _drain(pages)
            worker.join(timeout=0.05)


def _drain(pages: queue.Queue[Any]) -> None:
    try:
        while True:
            pages.get_nowait()
    except queue.Empty:
        pass
