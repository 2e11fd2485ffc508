"""Looker Studio's getData body, validated, and turned into the library's ``DataQuery``.

The body is what the Apps Script connector receives from Looker Studio, forwarded unchanged:
``fields`` (with ``forFilterOnly``), ``dateRange``, ``dimensionsFilters`` (an AND of OR-groups),
``configParams`` and ``scriptParams`` (``sampleExtraction``, ``lastRefresh``). Everything in it
is untrusted: names go through the connector's allow-list, values are bound parameters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ondigital_connect.connectors import Connector, DataQuery, Result, looker_value
from ondigital_connect.errors import LimitExceeded, QueryError
from ondigital_connect.kpi.filters import MAX_VALUES, OPERATORS, Condition

MAX_FIELDS = 200
MAX_FILTER_GROUPS = 50


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class LookerField(_Model):
    name: str = Field(min_length=1, max_length=100)
    forFilterOnly: bool = False  # noqa: N815 (Looker Studio's spelling)


class DateRange(_Model):
    startDate: str = Field(default="", max_length=10)  # noqa: N815
    endDate: str = Field(default="", max_length=10)  # noqa: N815


class FilterClause(_Model):
    fieldName: str = Field(min_length=1, max_length=100)  # noqa: N815
    values: list[str] = Field(default_factory=list, max_length=MAX_VALUES)
    type: Literal["INCLUDE", "EXCLUDE"] = "INCLUDE"
    operator: str = Field(max_length=40)


class ScriptParams(_Model):
    sampleExtraction: bool = False  # noqa: N815
    lastRefresh: str | None = Field(default=None, max_length=40)  # noqa: N815


class DataRequest(_Model):
    """A getData request (``fields`` required; the rest as Looker Studio sends them)."""

    fields: list[LookerField] = Field(max_length=MAX_FIELDS)
    dateRange: DateRange | None = None  # noqa: N815
    dimensionsFilters: list[list[FilterClause]] = Field(  # noqa: N815
        default_factory=list, max_length=MAX_FILTER_GROUPS)
    configParams: dict[str, Any] = Field(default_factory=dict)  # noqa: N815
    scriptParams: ScriptParams = Field(default_factory=ScriptParams)  # noqa: N815


def parse_data_request(body: Any) -> DataRequest:
    """The validated request, or QueryError naming the first problem (never echoing values)."""
    if not isinstance(body, dict):
        raise QueryError("the body must be a JSON object (Looker Studio's getData request)")
    try:
        return DataRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise QueryError(f"invalid request at {where}: {first['msg']}") from None


def date_range(request: DataRequest, max_days: int) -> tuple[dt.date, dt.date]:
    """The inclusive date range; QueryError when missing or malformed, LimitExceeded when
    longer than the plan allows."""
    rng = request.dateRange
    if rng is None or not rng.startDate or not rng.endDate:
        raise QueryError("dateRange with startDate and endDate (YYYY-MM-DD) is required")
    start, end = _iso(rng.startDate, "startDate"), _iso(rng.endDate, "endDate")
    if start > end:
        raise QueryError(f"dateRange is reversed: {start} is after {end}")
    days = (end - start).days + 1
    if days > max_days:
        raise LimitExceeded(f"the date range spans {days} days; the plan allows {max_days}")
    return start, end


def _iso(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"dateRange.{name} is not a date (YYYY-MM-DD)") from None


def to_query(request: DataRequest, start: dt.date, end: dt.date, max_rows: int) -> DataQuery:
    """The library's query for this request."""
    where = tuple(tuple(_condition(c) for c in group) for group in request.dimensionsFilters)
    return DataQuery(
        fields=tuple(f.name for f in request.fields), date_from=start, date_to=end,
        where=where, filter_only=frozenset(f.name for f in request.fields if f.forFilterOnly),
        sample=request.scriptParams.sampleExtraction, max_rows=max_rows)


def _condition(clause: FilterClause) -> Condition:
    if clause.operator not in OPERATORS:
        raise QueryError(f"unknown filter operator {clause.operator!r}; "
                         f"known: {', '.join(OPERATORS)}")
    return Condition(clause.fieldName, clause.operator, tuple(clause.values),
                     clause.type == "EXCLUDE")


def normalised(request: DataRequest, max_rows: int) -> dict[str, Any]:
    """What the answer depends on (``lastRefresh`` and ``configParams`` do not change it)."""
    body = request.model_dump(exclude={"configParams", "scriptParams"})
    body["sample"] = request.scriptParams.sampleExtraction
    body["max_rows"] = max_rows
    return body


def schema(connector: Connector, currency: str, names: tuple[str, ...] | None = None
           ) -> list[dict[str, Any]]:
    """Looker Studio fields: all of the connector's, or ``names`` in that order."""
    by_id = {f.id: f for f in connector.fields()}
    wanted = names if names is not None else tuple(by_id)
    return [by_id[name].looker(currency) for name in wanted]


def data_response(connector: Connector, result: Result, currency: str) -> dict[str, Any]:
    """``{schema, rows, filtersApplied}`` in request order, values in Looker's formats."""
    by_id = {f.id: f for f in connector.fields()}
    fields = [by_id[c] for c in result.columns]
    rows = [{"values": [looker_value(f, v) for f, v in zip(fields, row, strict=True)]}
            for row in result.rows]
    return {"schema": schema(connector, currency, result.columns), "rows": rows,
            "filtersApplied": result.filters_applied}
