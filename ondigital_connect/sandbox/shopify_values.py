"""Values the Shopify sandbox renders with: field definitions, the request Env, and Shopify's
formats for money and timestamps."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_UTC = dt.UTC


@dataclass(frozen=True, slots=True)
class FieldDef:
    """How one field is resolved: kind, GraphQL type of its value or items, and either a
    Python expression template (``$`` = the source, ``e`` = the Env; compiled inline) or a
    resolver ``(source, env[, args])``."""

    kind: str  # "scalar" | "object" | "list" | "connection"
    type: str  # scalar/enum name, or the object type of the value / of the items
    resolve: Callable[..., Any] | None = None
    expr: str | None = None
    nullable: bool = True  # objects: may the source be None
    parts: tuple[str, ...] | None = None  # a tuple source, element by element (inlined)
    args: tuple[str, ...] = ()
    takes_args: bool = False
    key: Callable[[Any], int] | None = None  # connection: an item's id for its cursor
    memo: bool = False  # object: render once per (long-lived, catalogue) source object


@dataclass(frozen=True, slots=True)
class ShopInfo:
    """The shop's identity as ``shop { ... }`` reports it."""

    shop_id: int
    name: str
    domain: str
    timezone: str
    currency: str
    taxes_included: bool = True  # prices include VAT (the simulated Nordic shops do)

    @classmethod
    def of(cls, business: Any) -> ShopInfo:
        domain = business.shop_domain
        return cls(zlib.crc32(domain.encode()) % 10**11, business.shop_name, domain,
                   business.timezone, business.shop_currency,
                   bool(getattr(business, "taxes_included", True)))


@dataclass(frozen=True, slots=True)
class Env:
    """What resolvers may read besides their source: the store, the instant, this request."""

    store: Any  # shopify_data.Store
    shop: ShopInfo
    as_of: dt.datetime | None
    variables: dict
    overrides: Any  # faults.Overrides
    repeat_cursor_row: bool = False
    tally: list[int] | None = None  # actual cost parts, while rendering JSON text
    memo: Any = None  # shopify_memo.NodeMemo of a warm sandbox, else None


_LAST_ISO: tuple[Any, str | None] = (None, None)
CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    """Shopify's Decimal serialisation: ``"1249.0"``, ``"12.5"``, ``"0.0"``.

    Amounts with two decimals (nearly all) take a fast path on ``str``; hashing fresh Decimals
    to memoise them would cost more than this.
    """
    if amount.same_quantum(CENT):
        return str(amount).removesuffix("0")
    text = format(amount, "f")
    if "." not in text:
        return text + ".0"
    text = text.rstrip("0")
    return text + "0" if text[-1] == "." else text


_DAYS: dict[int, str] = {}
_HMS = tuple(f"{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z" for i in range(86_400))


def iso(when: dt.datetime | None) -> str | None:
    """ISO-8601 UTC with seconds: ``2026-10-01T08:15:02Z`` (dates memoised)."""
    global _LAST_ISO  # noqa: PLW0603 - one (datetime, text) tuple, swapped atomically
    last = _LAST_ISO  # createdAt and processedAt are often the very same datetime
    if last[0] is when:
        return last[1]
    if when is None:
        return None
    if when.tzinfo is not _UTC:
        when = when.astimezone(_UTC)
    day = _DAYS.get(when.toordinal())
    if day is None:
        day = _DAYS[when.toordinal()] = when.strftime("%Y-%m-%dT")
    text = day + _HMS[when.hour * 3600 + when.minute * 60 + when.second]
    _LAST_ISO = (when, text)
    return text


def iso_json(when: dt.datetime | None) -> str:
    """:func:`iso` as JSON text: quoted, or ``null``."""
    text = iso(when)
    return "null" if text is None else f'"{text}"'


def gid(kind: str, number: int) -> str:
    """``gid://shopify/{kind}/{number}``."""
    return f"gid://shopify/{kind}/{number}"
