"""Transform SQL written once, in DuckDB's dialect, and rendered per dialect.

DuckDB runs a statement as written. BigQuery gets it through :mod:`.bigquery`: sqlglot
generates the portable parts and explicit rules rewrite what the engines treat differently,
or a ConfigError names the statement and the construct no rule renders faithfully. A few
pieces are written here by hand for each dialect (a shop-local date, calendar buckets), and a
:class:`Statement` may carry hand-written SQL for a dialect where no rule can derive it.

sqlglot is imported only to render for BigQuery: builds on DuckDB never load it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ondigital_connect.errors import ConfigError

DIALECTS = ("duckdb", "bigquery")

_LOCAL_DATE = {"duckdb": "CAST(timezone({zone}, {ts}) AS DATE)", "bigquery": "DATE({ts}, {zone})"}
_BUCKET = {"duckdb": "CAST(date_trunc('{grain}', {column}) AS DATE)",
           "bigquery": "DATE_TRUNC({column}, {part})"}
_BIGQUERY_PARTS = {"week": "ISOWEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR"}


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a build: what it makes or does, its SQL (DuckDB's, where it is written
    once), the names of the values it binds in order, and SQL written by hand for a dialect
    where no rule can derive it (``explicit``: (dialect, SQL) pairs)."""

    name: str
    sql: str
    params: tuple[str, ...] = ()
    explicit: tuple[tuple[str, str], ...] = ()

    def render(self, dialect: str, *, pretty: bool = False) -> Statement:
        """This statement in ``dialect`` (see :func:`render`)."""
        written = dict(self.explicit)
        if dialect in written:
            sql = written[dialect]
            if dialect == "bigquery":
                from ondigital_connect.transforms import bigquery

                bigquery.check(sql, self.name)
        else:
            sql = render(self.sql, dialect, name=self.name, params=self.params, pretty=pretty)
        return replace(self, sql=sql, explicit=())


def execute(warehouse: Any, statement: Statement,
            values: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run ``statement`` rendered for the warehouse's dialect, binding ``values`` by name."""
    values = values or {}
    rendered = statement.render(warehouse.dialect)
    return warehouse.fetch(rendered.sql, [values[name] for name in statement.params])


def check_dialect(dialect: str) -> None:
    """A ConfigError unless ``dialect`` is one this module renders."""
    if dialect not in DIALECTS:
        raise ConfigError(f"unknown SQL dialect {dialect!r}; use one of {', '.join(DIALECTS)}")


def local_date(ts: str, zone: str, dialect: str) -> str:
    """SQL: the calendar date of timestamp ``ts`` in time zone ``zone`` (an IANA name)."""
    check_dialect(dialect)
    return _LOCAL_DATE[dialect].format(ts=ts, zone=zone)


def date_bucket(grain: str, column: str, dialect: str) -> str:
    """SQL: the first day of the ISO week (Monday), month, quarter or year of DATE ``column``,
    as a DATE on both engines (``day`` is the column itself)."""
    check_dialect(dialect)
    if grain == "day":
        return column
    if grain not in _BIGQUERY_PARTS:
        raise ConfigError(f"unknown date grain {grain!r}; use day, {', '.join(_BIGQUERY_PARTS)}")
    return _BUCKET[dialect].format(grain=grain, column=column, part=_BIGQUERY_PARTS[grain])


def render(sql: str, dialect: str, *, name: str, params: Sequence[str] = (),
           pretty: bool = False) -> str:
    """``sql`` (DuckDB, ``?`` parameters named by ``params`` in order) for ``dialect``.

    DuckDB gets the statement as written. BigQuery gets it rewritten by :mod:`.bigquery`, with
    ``@name`` parameters; a ConfigError naming ``name`` says what cannot be rendered.
    """
    check_dialect(dialect)
    if dialect == "duckdb":
        return sql
    from ondigital_connect.transforms import bigquery

    return bigquery.render(sql, name=name, params=params, pretty=pretty)
