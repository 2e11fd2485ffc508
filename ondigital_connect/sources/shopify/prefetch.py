"""Pages fetched ahead of their consumer on one worker thread, a bounded number at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from ondigital_connect.ahead import read_ahead

P = TypeVar("P")
#: ``fetch(cursor)`` -> (page, cursor of the next page or None after the last one).
Fetch = Callable[[str | None], tuple[P, str | None]]


def sequential(fetch: Fetch[P]) -> Iterator[P]:
    """Every page, each fetched when the previous one has been consumed."""
    page, cursor = fetch(None)
    yield page
    while cursor is not None:
        page, cursor = fetch(cursor)
        yield page


def ahead(fetch: Fetch[P], depth: int) -> Iterator[P]:
    """Every page, fetched by a worker thread up to ``depth`` pages ahead of the consumer.

    The shop keeps working while the consumer maps and loads (see ``ondigital_connect.ahead``).
    """
    return read_ahead(sequential(fetch), depth, name="shopify-pages")
