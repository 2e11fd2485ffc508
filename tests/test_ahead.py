"""read_ahead: same items in the same order, errors in place, bounded, and closable early."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ondigital_connect.ahead import read_ahead


def test_items_arrive_in_order() -> None:
    assert list(read_ahead(iter(range(1000)), 3)) == list(range(1000))


def test_an_error_arrives_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 is broken")

    got = []
    with pytest.raises(ValueError, match="page 3 is broken"):
        for item in read_ahead(items(), 4):
            got.append(item)
    assert got == [1, 2]


def test_the_worker_stays_at_most_depth_items_ahead() -> None:
    made: list[int] = []

    def items() -> Iterator[int]:
        for i in range(100):
            made.append(i)
            yield i

    ahead = read_ahead(items(), 2)
    assert next(ahead) == 0
    time.sleep(0.2)
    # one taken, two queued, one made and waiting for room
    assert len(made) <= 4
    ahead.close()


def test_closing_early_stops_the_worker_and_closes_the_source() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    ahead = read_ahead(items(), 2, name="test-ahead")
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()
    assert closed.wait(5)
    assert not any(t.name == "test-ahead" for t in threading.enumerate())


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        next(read_ahead(iter([1]), 0))
