"""Connector fields and how Looker Studio sees them: concept, semantic type, aggregation.

A field is defined once here (or derived from the metric registry) and rendered per tenant:
money fields become ``CURRENCY_<reporting currency>``. Ratio, distinct and snapshot metrics are
declared non-reaggregatable, because the service computes them at exactly the breakdown Looker
Studio asks for; only additive metrics let Looker Studio sum them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

Concept = Literal["DIMENSION", "METRIC"]
#: our date breakdowns -> (Looker semantic type, planner grain)
DATE_FIELDS = {
    "date": ("YEAR_MONTH_DAY", "day"), "week": ("YEAR_WEEK", "week"),
    "month": ("YEAR_MONTH", "month"), "quarter": ("YEAR_QUARTER", "quarter"),
    "year": ("YEAR", "year"),
}
# Looker Studio's CURRENCY_* types (the rest fall back to NUMBER).
_CURRENCY_CODES = (
    "AED ALL ARS AUD BDT BGN BOB BRL CAD CDF CHF CLP CNY COP CRC CZK DKK DOP EGP ETB EUR GBP "
    "HKD HRK HUF IDR ILS INR IRR ISK JMD JPY KRW LKR LTL MAD MXN MYR NOK NZD PAB PEN PHP PKR "
    "PLN RON RSD RUB SAR SEK SGD THB TRY TWD TZS UAH USD UYU VEF VND YER ZAR")
LOOKER_CURRENCIES = frozenset(_CURRENCY_CODES.split(" "))
_GROUPS = {"YEAR_MONTH_DAY": "DATETIME", "YEAR_WEEK": "DATETIME", "YEAR_MONTH": "DATETIME",
           "YEAR_QUARTER": "DATETIME", "YEAR": "DATETIME", "COUNTRY_CODE": "GEO",
           "TEXT": "TEXT", "NUMBER": "NUMERIC", "PERCENT": "NUMERIC", "BOOLEAN": "BOOLEAN"}


@dataclass(frozen=True, slots=True)
class Field:
    """One connector field. ``semantic_type`` is a Looker type, or ``CURRENCY`` for money in
    the tenant's reporting currency; ``reaggregatable`` metrics may be summed by Looker."""

    id: str
    label: str
    description: str
    concept: Concept
    semantic_type: str = "TEXT"
    group: str = ""
    reaggregatable: bool = True

    @property
    def is_dimension(self) -> bool:
        return self.concept == "DIMENSION"

    def looker_type(self, currency: str) -> str:
        """The semantic type for a tenant reporting in ``currency``."""
        if self.semantic_type != "CURRENCY":
            return self.semantic_type
        return f"CURRENCY_{currency}" if currency in LOOKER_CURRENCIES else "NUMBER"

    def looker(self, currency: str) -> dict[str, Any]:
        """The field as Looker Studio's getSchema JSON."""
        semantic = self.looker_type(currency)
        out: dict[str, Any] = {
            "name": self.id, "label": self.label, "description": self.description,
            "dataType": "STRING" if self.is_dimension else "NUMBER",
            "semantics": {"conceptType": self.concept, "semanticType": semantic,
                          "semanticGroup": _GROUPS.get(semantic, "CURRENCY")},
        }
        if self.group:
            out["group"] = self.group
        if not self.is_dimension:
            out["semantics"]["isReaggregatable"] = self.reaggregatable
            out["defaultAggregationType"] = "SUM" if self.reaggregatable else "AUTO"
        return out


def looker_value(field: Field, value: Any) -> Any:
    """A value as Looker Studio reads it: dates in the field's format, numbers as exact
    decimal strings (money never passes through float), None as null.
    Counts stay JSON integers, which are exact."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return _date(field.semantic_type, value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, bool | int | str):
        return value
    return str(value)


def _date(semantic_type: str, day: dt.date) -> str:
    if semantic_type == "YEAR_WEEK":
        year, week, _ = day.isocalendar()
        return f"{year}{week:02d}"
    if semantic_type == "YEAR_MONTH":
        return f"{day.year}{day.month:02d}"
    if semantic_type == "YEAR_QUARTER":
        return f"{day.year}{(day.month - 1) // 3 + 1}"
    if semantic_type == "YEAR":
        return f"{day.year}"
    return day.strftime("%Y%m%d")


def _decimal(value: Decimal) -> str | None:
    if not value.is_finite():
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
