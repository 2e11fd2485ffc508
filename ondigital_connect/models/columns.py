"""Rows of one table held column by column: what a page-at-a-time mapper builds.

Building one list per column costs about half of building one dict per row, and the warehouse
turns the lists into Arrow arrays as they are. ``Columns`` still reads as a sequence of row
dicts (tests, small sources), so code written for rows keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload


class Columns(Sequence[dict[str, Any]]):
    """Equal-length lists by column name; a column never set reads as all NULL."""

    __slots__ = ("data", "_length")

    def __init__(self, data: Mapping[str, list[Any]] | None = None) -> None:
        self.data: dict[str, list[Any]] = {}
        self._length = 0
        if data:
            self.extend(data)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Columns:
        """Columns of row dicts (a key missing from a row is NULL there)."""
        rows = list(rows)
        names = dict.fromkeys(name for row in rows for name in row)
        return cls({name: [row.get(name) for row in rows] for name in names})

    def extend(self, more: Mapping[str, list[Any]] | Columns) -> None:
        """Append rows given as columns; columns new to either side are NULL-padded."""
        data = more.data if isinstance(more, Columns) else more
        lengths = {len(values) for values in data.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal length: {sorted(lengths)}")
        added = lengths.pop() if lengths else 0
        for name, values in data.items():
            mine = self.data.get(name)
            if mine is None:
                self.data[name] = [None] * self._length + list(values)
            else:
                mine += values
        self._length += added
        for name, mine in self.data.items():
            if name not in data:
                mine += [None] * added

    def column(self, name: str) -> list[Any]:
        """The values of one column (a list of NULLs when never set)."""
        values = self.data.get(name)
        return values if values is not None else [None] * self._length

    def take(self, indexes: Sequence[int]) -> Columns:
        """The rows at ``indexes``, in that order."""
        return Columns({name: [values[i] for i in indexes] for name, values in self.data.items()})

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("row index out of range")
        return {name: values[index] for name, values in self.data.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names = list(self.data)
        for values in zip(*self.data.values(), strict=True):
            yield dict(zip(names, values, strict=True))

    def __repr__(self) -> str:
        return f"Columns({len(self)} rows: {', '.join(self.data)})"
