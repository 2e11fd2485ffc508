"""Breakdown filters beyond "one of these values": Looker Studio's operators as SQL templates.

A filter is an AND of OR-groups of :class:`Condition`. Each operator maps to one fixed SQL
template whose operands are bound parameters; the column comes from the planner's allow-list,
never from the request. Regular expressions run in the warehouse's RE2 engine (linear time),
and are checked there before the query is planned, so a bad pattern is a 400, not a 500.

Semantics: INCLUDE keeps rows where the condition is true; EXCLUDE keeps every other row,
including rows whose breakdown is empty (NULL), as Looker Studio does.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import duckdb

from ondigital_connect.errors import QueryError

Operator = Literal[
    "EQUALS", "CONTAINS", "REGEXP_PARTIAL_MATCH", "REGEXP_EXACT_MATCH", "IN_LIST", "IS_NULL",
    "BETWEEN", "NUMERIC_GREATER_THAN", "NUMERIC_GREATER_THAN_OR_EQUAL", "NUMERIC_LESS_THAN",
    "NUMERIC_LESS_THAN_OR_EQUAL",
]
Kind = Literal["text", "date"]
OPERATORS: tuple[str, ...] = Operator.__args__  # type: ignore[attr-defined]
#: operator -> (SQL template over {c}, number of operands: -1 = a list)
_TEMPLATES: dict[str, tuple[str, int]] = {
    "EQUALS": ("{c} = ?", 1),
    "CONTAINS": ("strpos({c}, ?) > 0", 1),
    "REGEXP_PARTIAL_MATCH": ("regexp_matches({c}, ?)", 1),
    "REGEXP_EXACT_MATCH": ("regexp_full_match({c}, ?)", 1),
    "IN_LIST": ("{c} IN ({marks})", -1),
    "IS_NULL": ("{c} IS NULL", 0),
    "BETWEEN": ("{c} BETWEEN ? AND ?", 2),
    "NUMERIC_GREATER_THAN": ("{c} > ?", 1),
    "NUMERIC_GREATER_THAN_OR_EQUAL": ("{c} >= ?", 1),
    "NUMERIC_LESS_THAN": ("{c} < ?", 1),
    "NUMERIC_LESS_THAN_OR_EQUAL": ("{c} <= ?", 1),
}
_TEXT_ONLY = {"CONTAINS", "REGEXP_PARTIAL_MATCH", "REGEXP_EXACT_MATCH"}
_NUMERIC = {o for o in _TEMPLATES if o.startswith("NUMERIC_")}
MAX_VALUES = 500
MAX_PATTERN = 1000


@dataclass(frozen=True, slots=True)
class Condition:
    """``field operator values``; ``exclude`` negates it (keeping NULLs)."""

    field: str
    operator: str
    values: tuple[Any, ...] = ()
    exclude: bool = False


Where = tuple[tuple[Condition, ...], ...]


def supported(condition: Condition, kind: Kind) -> bool:
    """Whether the condition can be pushed into SQL for a breakdown of this kind (text
    breakdowns have no numeric order; dates have no text matching)."""
    if condition.operator not in _TEMPLATES:
        return False
    if kind == "text":
        return condition.operator not in _NUMERIC
    return condition.operator not in _TEXT_ONLY


def compile_where(where: Where, column: dict[str, str], kinds: dict[str, Kind]
                  ) -> tuple[list[str], list[Any]]:
    """SQL predicates (one per AND group) and their parameters, for the given columns."""
    predicates: list[str] = []
    params: list[Any] = []
    for group in where:
        if not group:
            raise QueryError("a filter group is empty")
        parts = []
        for condition in group:
            sql, values = _predicate(condition, column[condition.field],
                                     kinds[condition.field])
            parts.append(sql)
            params += values
        predicates.append("(" + " OR ".join(parts) + ")")
    return predicates, params


def _predicate(condition: Condition, column: str, kind: Kind) -> tuple[str, list[Any]]:
    name = f"filter on {condition.field!r} ({condition.operator})"
    if not supported(condition, kind):
        raise QueryError(f"{name} is not supported for a {kind} field")
    template, arity = _TEMPLATES[condition.operator]
    values = [_operand(v, kind, name) for v in condition.values]
    if condition.operator == "IS_NULL":
        values = []
    elif arity == -1 and not 1 <= len(values) <= MAX_VALUES:
        raise QueryError(f"{name} needs 1 to {MAX_VALUES} values")
    elif arity != -1 and len(values) != arity:
        raise QueryError(f"{name} needs {arity} value{'s' if arity > 1 else ''}")
    if condition.operator.startswith("REGEXP"):
        check_pattern(values[0], name)
    sql = template.format(c=column, marks=", ".join("?" for _ in values))
    if condition.exclude:
        sql = f"NOT coalesce({sql}, false)"
    return sql, values


def _operand(value: Any, kind: Kind, name: str) -> Any:
    if kind == "date":
        return _date(value, name)
    if not isinstance(value, str):
        raise QueryError(f"{name}: values must be strings")
    return value


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    text = str(value)
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise QueryError(f"{name}: {text[:40]!r} is not a date (YYYYMMDD)")


_RE2: list[duckdb.DuckDBPyConnection] = []  # one in-memory connection, opened on first use
_RE2_LOCK = threading.Lock()


def check_pattern(pattern: str, name: str = "regular expression") -> None:
    """QueryError unless the warehouse's RE2 engine accepts the pattern."""
    if len(pattern) > MAX_PATTERN:
        raise QueryError(f"{name}: the pattern is longer than {MAX_PATTERN} characters")
    with _RE2_LOCK:
        if not _RE2:
            _RE2.append(duckdb.connect())
        try:
            _RE2[0].execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
            raise QueryError(f"{name}: invalid pattern ({reason[:80]})") from None


def fields_of(where: Where) -> Sequence[str]:
    """Every field the filter reads, once each, in order."""
    return list(dict.fromkeys(c.field for group in where for c in group))
