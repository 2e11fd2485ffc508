"""A small in-memory source for engine tests: vendor-like records -> canonical order rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from ondigital_connect.models.canonical import make_key
from ondigital_connect.sources.base import Batch, Reject, StreamSpec, Window

UTC = dt.UTC
T0 = dt.datetime(2026, 10, 1, tzinfo=UTC)


def record(i: int, *, hours: float = 0.0, amount: str = "100.00", lines: int = 2) -> dict[str, Any]:
    """A vendor-shaped order record with ``lines`` lines, updated ``hours`` after T0."""
    return {
        "id": i, "updated_at": (T0 + dt.timedelta(hours=hours)).isoformat(), "amount": amount,
        "lines": [{"id": i * 100 + n, "qty": 1, "price": amount} for n in range(lines)],
    }


class ListSource:
    """Serves ``records`` sorted by updated_at within the window, ``page`` records per batch.

    ``hook(batch_number)`` runs before each batch is yielded (to inject crashes or pauses).
    """

    name: ClassVar[str] = "fake"
    streams: ClassVar[dict[str, StreamSpec]] = {
        "orders": StreamSpec("orders", ("orders", "order_lines"), "entity",
                             default_lookback=dt.timedelta(hours=2)),
    }

    def __init__(self, records: list[dict[str, Any]], *, page: int = 3,
                 hook: Callable[[int], None] | None = None, sort: bool = True) -> None:
        self.records = records
        self.page = page
        self.hook = hook
        self.sort = sort
        self.windows: list[Window] = []
        self.account_id = "acct"

    def read(self, stream: str, window: Window, *, batch_size: int) -> Iterator[Batch]:
        self.windows.append(window)
        chosen = [r for r in self.records if _in(window, r)]
        if self.sort:
            chosen.sort(key=lambda r: r["updated_at"])
        for n, start in enumerate(range(0, len(chosen), self.page)):
            if self.hook:
                self.hook(n)
            yield self._batch(chosen[start:start + self.page])

    def _batch(self, records: list[dict[str, Any]]) -> Batch:
        batch = Batch(rows={"orders": [], "order_lines": []}, received=len(records))
        for rec in records:
            updated = dt.datetime.fromisoformat(rec["updated_at"])
            batch.cursor = max(batch.cursor or updated, updated)
            try:
                amount = Decimal(rec["amount"])
            except (InvalidOperation, TypeError):
                batch.rejects.append(Reject(f"amount: not a decimal: {rec['amount']!r}", rec,
                                            make_key("fake", "acct", rec["id"])))
                continue
            seq = len(batch.rows["orders"])
            batch.rows["orders"].append(order_row(rec["id"], updated, amount))
            for line in rec["lines"]:
                batch.rows["order_lines"].append({
                    "_parent_seq": seq, "source": "fake", "account_id": "acct",
                    "line_key": make_key("fake", "acct", line["id"]),
                    "order_key": make_key("fake", "acct", rec["id"]), "line_id": str(line["id"]),
                    "quantity": line["qty"], "unit_price": Decimal(line["price"]),
                    "discount": Decimal(0), "tax": Decimal(0), "currency": "SEK",
                })
        return batch

    def close(self) -> None:
        pass


def _in(window: Window, rec: dict[str, Any]) -> bool:
    updated = dt.datetime.fromisoformat(rec["updated_at"])
    return (window.start is None or updated >= window.start) and updated <= window.end


def order_row(i: int, updated: dt.datetime, amount: Decimal) -> dict[str, Any]:
    """A minimal canonical order row."""
    zero = Decimal(0)
    return {
        "source": "fake", "account_id": "acct", "order_key": make_key("fake", "acct", i),
        "order_id": str(i), "created_at": T0, "order_date": T0.date(), "timezone": "UTC",
        "updated_at": updated, "is_test": False, "currency": "SEK", "gross_sales": amount,
        "discounts": zero, "shipping": zero, "tax": zero, "total": amount,
        "total_refunded": zero, "presentment_currency": "SEK", "presentment_gross_sales": amount,
        "presentment_discounts": zero, "presentment_shipping": zero, "presentment_tax": zero,
        "presentment_total": amount, "line_count": 2, "refund_count": 0,
    }
