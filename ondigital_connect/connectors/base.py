"""What a connector is: a named set of fields and a way to answer a data request over them.

The service turns Looker Studio's getData body into a :class:`DataQuery`; a connector answers
with a :class:`Result` whose columns follow the request order. Filters are pushed down whole or
not at all (Looker Studio's rule): :func:`split_filters` decides, and when they are not pushed
the filter-only fields come back as ordinary columns so Looker Studio can filter itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ondigital_connect.connectors.fields import DATE_FIELDS, Field
from ondigital_connect.errors import LimitExceeded, QueryError
from ondigital_connect.kpi.filters import Where, fields_of, supported

SAMPLE_ROWS = 10


@dataclass(frozen=True, slots=True)
class DataQuery:
    """A getData request in our terms. ``filter_only`` names fields wanted only for filters;
    ``max_rows`` is the plan's cap (more rows is an error, never a silent cut)."""

    fields: tuple[str, ...]
    date_from: dt.date
    date_to: dt.date
    where: Where = ()
    filter_only: frozenset[str] = field(default_factory=frozenset)
    sample: bool = False
    max_rows: int = 10_000


@dataclass(frozen=True, slots=True)
class Result:
    """Rows with their columns (field ids, request order) and whether filters were applied."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    filters_applied: bool


class Connector(Protocol):
    """A Looker Studio data source: its fields and how to query them."""

    id: str
    label: str
    description: str

    def fields(self) -> tuple[Field, ...]: ...

    def run(self, warehouse: Any, query: DataQuery) -> Result: ...


@dataclass(frozen=True, slots=True)
class Resolved:
    """The resolved request: breakdowns and metrics to compute, the filter to push down, and
    the columns to return (in request order)."""

    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    where: Where
    columns: tuple[str, ...]
    filters_applied: bool


def resolve(fields: Sequence[Field], query: DataQuery) -> Resolved:
    """Check the requested fields and decide on filter push-down."""
    by_id = {f.id: f for f in fields}
    unknown = [name for name in (*query.fields, *fields_of(query.where)) if name not in by_id]
    if unknown:
        raise QueryError(f"unknown field {unknown[0][:60]!r} for this connector")
    if not query.fields:
        raise QueryError("ask for at least one field")
    if len(set(query.fields)) != len(query.fields):
        raise QueryError("a field is asked twice")
    pushed = split_filters(by_id, query.where)
    columns = tuple(f for f in query.fields if not (pushed and f in query.filter_only))
    dims = tuple(f for f in columns if by_id[f].is_dimension)
    metrics = tuple(f for f in columns if not by_id[f].is_dimension)
    return Resolved(dims, metrics, query.where if pushed else (), columns, pushed)


def split_filters(by_id: dict[str, Field], where: Where) -> bool:
    """True when every condition can be pushed down (dimension fields, supported operators)."""
    for name in fields_of(where):
        f = by_id[name]
        if not f.is_dimension or (name in DATE_FIELDS and name != "date"):
            return False
    kinds = {name: "date" if name == "date" else "text" for name in fields_of(where)}
    return all(supported(c, kinds[c.field]) for group in where  # type: ignore[arg-type]
               for c in group)


def cap(rows: list[tuple[Any, ...]], query: DataQuery) -> list[tuple[Any, ...]]:
    """Rows within the plan: a sample is cut to a few rows; otherwise too many is an error."""
    if query.sample:
        return rows[:SAMPLE_ROWS]
    if len(rows) > query.max_rows:
        raise LimitExceeded(
            f"the answer has more than {query.max_rows:,} rows, the plan's limit; "
            "narrow the date range or use fewer breakdowns")
    return rows
