"""The shop a mapper works for: keys, pseudonyms, local dates, and shared decimal amounts."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ondigital_connect.errors import ConfigError
from ondigital_connect.models.canonical import make_key
from ondigital_connect.privacy import pseudonymise

SOURCE = "shopify"
UTC = dt.UTC
#: (instant from which the shop's date is ``after``, ``before``, ``after``) of a UTC day
#: whose UTC offset does not change, else None.
Day = tuple[dt.datetime, dt.date, dt.date] | None
_CACHE_MAX = 50_000
_UNSEEN: Any = object()


class AmountError(ValueError):
    """An amount string that is not a finite decimal (pydantic gives the path-named reason)."""


class _Amounts(dict[Any, Decimal]):
    """``Decimal`` of each amount string seen, shared (a ``Decimal`` is immutable).

    Pages validated with ``amounts_as_text`` carry amounts as strings; a string gets in as
    pydantic's ``Amount`` would read it (``Decimal(text)``, finite) or raises AmountError.
    A ``Decimal`` (a node validated strictly) stands for itself.
    """

    def __missing__(self, text: Any) -> Decimal:
        if isinstance(text, Decimal):
            return text
        if type(text) is not str:
            raise AmountError(f"an amount is not a string: {type(text).__name__}")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise AmountError(f"not a decimal amount: {text!r}") from None
        if not value.is_finite():
            raise AmountError(f"not a finite amount: {text!r}")
        if len(self) >= _CACHE_MAX:
            self.clear()
        self[text] = value
        return value


#: ``AMOUNTS[text]``: the ``Decimal`` of an amount as validated (string or ``Decimal``).
AMOUNTS = _Amounts()


def numeric_id(gid: str) -> str:
    """``gid://shopify/Order/5501`` -> ``5501``."""
    return gid.rpartition("/")[2]


@dataclass(frozen=True, slots=True)
class ShopContext:
    """What every mapped row needs to know about the shop: domain, time zone, currency, key.

    Customer pseudonyms and the local date of each UTC day are remembered (bounded).
    """

    shop: str
    timezone: str
    currency: str
    pseudonym_key: bytes = field(repr=False)
    zone: ZoneInfo = field(init=False, repr=False)
    prefix: str = field(init=False)
    _pseudonym: Callable[[str], str] = field(init=False, repr=False, compare=False)
    _customers: dict[str, str] = field(init=False, repr=False, compare=False)
    _days: dict[dt.date, Day] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"shopify: shop time zone {self.timezone!r} is unknown") from None
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "prefix", make_key(SOURCE, self.shop, ""))
        object.__setattr__(self, "_pseudonym",
                           pseudonymiser(self.pseudonym_key, f"{SOURCE}:{self.shop}"))
        object.__setattr__(self, "_customers", {})
        object.__setattr__(self, "_days", {})

    def key(self, gid: str) -> str:
        """Warehouse key of a Shopify global id (``make_key("shopify", shop, numeric id)``)."""
        return self.prefix + numeric_id(gid)

    def customer_key(self, gid: str) -> str:
        """Keyed hash of the customer's numeric id (the same in orders and customers)."""
        key = self._customers.get(gid)
        if key is None:
            key = self._pseudonym(numeric_id(gid))
            if len(self._customers) >= _CACHE_MAX:
                self._customers.clear()
            self._customers[gid] = key
        return key

    def local_date(self, when: dt.datetime) -> dt.date:
        """The calendar date of ``when`` in the shop's time zone.

        Looked up per UTC day rather than converted: a day whose UTC offset does not change
        has one instant at which the local date turns over (see :meth:`_day`).
        """
        if when.tzinfo is not UTC:
            when = when.astimezone(UTC)
        key = when.date()
        day = self._days.get(key, _UNSEEN)
        if day is _UNSEEN:
            day = self._day(key)
        if day is None:
            return when.astimezone(self.zone).date()
        return day[1] if when < day[0] else day[2]

    def _day(self, key: dt.date) -> Day:
        """(local turn-over instant, date before, date from) of a UTC day; None if it shifts."""
        start = dt.datetime(key.year, key.month, key.day, tzinfo=UTC)
        offsets = {(start + dt.timedelta(hours=h)).astimezone(self.zone).utcoffset()
                   for h in range(24)}
        offsets.add((start + dt.timedelta(seconds=86399)).astimezone(self.zone).utcoffset())
        offset = offsets.pop() if len(offsets) == 1 else None
        day: Day = None
        if offset is not None:
            before = (start + offset).date()
            after = before + dt.timedelta(days=1)
            day = (dt.datetime.combine(after, dt.time(), UTC) - offset, before, after)
        if len(self._days) >= _CACHE_MAX:
            self._days.clear()
        self._days[key] = day
        return day


def pseudonymiser(key: bytes, namespace: str) -> Callable[[str], str]:
    """``privacy.pseudonymise(key, namespace, value)`` as a function of ``value``, faster.

    HMAC-SHA256 with the padded key and ``namespace:`` hashed once; checked against
    ``pseudonymise`` on a probe value (and replaced by it should the two ever differ).
    """
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    inner.update(f"{namespace}:".encode())
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def pseudonym(value: str) -> str:
        digest = inner.copy()
        digest.update(value.encode())
        final = outer.copy()
        final.update(digest.digest())
        return f"c_{final.hexdigest()[:32]}"

    if pseudonym("0") == pseudonymise(key, namespace, "0"):
        return pseudonym
    return lambda value: pseudonymise(key, namespace, value)  # pragma: no cover
