"""Pydantic shapes of the Shopify Admin GraphQL nodes we request: strict, flat, extras kept.

Types are strict: an ``Int`` must be a JSON integer, a ``Boolean`` a JSON boolean. Shopify
serialises ``Decimal``/``Money``, ``DateTime`` and ``UnsignedInt64`` scalars as strings, so those
accept only strings that parse (``"12.50"``, never ``12.5`` or ``"abc"``).

For speed the shapes are ``TypedDict``s validated by pydantic-core in one call per page (no
Python callbacks), and nested money bags are flattened with alias paths: ``total`` is read from
``totalPriceSet.shopMoney.amount``, so error locations name the JSON path. Unknown fields of a
node stay in the validated dict (``extra="allow"``); :func:`unknown_fields` lists them.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Generic, NotRequired, TypeVar

from pydantic import (
    AliasPath,
    ConfigDict,
    Field,
    GetPydanticSchema,
    TypeAdapter,
    ValidationError,
    with_config,
)
from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs
from typing_extensions import TypedDict

T = TypeVar("T")
#: Anything with ``validate_json``: a ``TypeAdapter`` or a pydantic-core ``SchemaValidator``.
JsonValidator = TypeAdapter[Any] | SchemaValidator
_LEAF = ConfigDict(strict=True, extra="ignore")
_NODE = ConfigDict(strict=True, extra="allow")
_AMOUNT = "ondigital_amount"  # marks the core schema of an ``Amount`` (see _text_amounts)


def _amount_schema(_tp: Any, _handler: Any) -> cs.CoreSchema:
    return cs.chain_schema([
        cs.str_schema(strict=True),
        cs.decimal_schema(strict=False, allow_inf_nan=False),
    ], metadata={_AMOUNT: True})


def _timestamp_schema(_tp: Any, _handler: Any) -> cs.CoreSchema:
    return cs.chain_schema([
        cs.str_schema(strict=True),
        cs.datetime_schema(strict=False, tz_constraint="aware"),
    ])


def _uint64_schema(_tp: Any, _handler: Any) -> cs.CoreSchema:
    as_string = cs.chain_schema([cs.str_schema(strict=True, pattern=r"^[0-9]{1,20}$"),
                                 cs.int_schema(strict=False)])
    return cs.union_schema(
        [cs.int_schema(strict=True, ge=0), as_string], custom_error_type="uint64",
        custom_error_message="Input should be an UnsignedInt64 (a string of digits)",
    )


#: A decimal amount sent as a JSON string (``Decimal``/``Money`` scalars).
Amount = Annotated[Decimal, GetPydanticSchema(_amount_schema)]
#: An ISO-8601 timestamp with an offset, sent as a JSON string (``DateTime`` scalar).
Timestamp = Annotated[dt.datetime, GetPydanticSchema(_timestamp_schema)]
#: ``UnsignedInt64``: a JSON string of digits (or an integer).
UInt64 = Annotated[int, GetPydanticSchema(_uint64_schema)]
#: A global id such as ``gid://shopify/Order/5501``.
Gid = Annotated[str, Field(pattern=r"^gid://shopify/[A-Za-z]+/[0-9]+$")]


def at(*path: str) -> Any:
    """Read this field from a nested JSON path (``at("totalPriceSet", "shopMoney", "amount")``)."""
    return Field(validation_alias=AliasPath(*path))


@with_config(_LEAF)
class PageInfo(TypedDict):
    hasNextPage: bool
    endCursor: NotRequired[str | None]


@with_config(_LEAF)
class Connection(TypedDict, Generic[T]):
    pageInfo: NotRequired[PageInfo | None]
    nodes: list[T]


@with_config(_LEAF)
class Page(TypedDict, Generic[T]):
    """A top-level connection: ``pageInfo`` is required there."""

    pageInfo: PageInfo
    nodes: list[T]


@with_config(_NODE)
class Reply(TypedDict, Generic[T]):
    """A GraphQL reply: ``data`` beside ``errors`` and ``extensions`` (cost, throttle status)."""

    data: NotRequired[T | None]
    errors: NotRequired[Any]
    extensions: NotRequired[Any]


@with_config(_LEAF)
class TaxLine(TypedDict):
    amount: Annotated[Amount, at("priceSet", "shopMoney", "amount")]


@with_config(_NODE)
class LineItem(TypedDict):
    id: Gid
    sku: NotRequired[str | None]
    name: NotRequired[str | None]
    quantity: int
    unit_price: Annotated[Amount, at("originalUnitPriceSet", "shopMoney", "amount")]
    unit_currency: NotRequired[
        Annotated[str | None, at("originalUnitPriceSet", "shopMoney", "currencyCode")]]
    presentment_unit_price: Annotated[
        Amount, at("originalUnitPriceSet", "presentmentMoney", "amount")]
    discount: Annotated[Amount, at("totalDiscountSet", "shopMoney", "amount")]
    taxLines: list[TaxLine]
    category: NotRequired[Annotated[str | None, at("product", "productType")]]
    variant_id: NotRequired[Annotated[Gid | None, at("variant", "id")]]
    unit_cost: NotRequired[
        Annotated[Amount | None, at("variant", "inventoryItem", "unitCost", "amount")]]


@with_config(_NODE)
class RefundLineItem(TypedDict):
    id: NotRequired[Gid | None]
    quantity: int
    line_item_id: Annotated[Gid, at("lineItem", "id")]
    sku: NotRequired[Annotated[str | None, at("lineItem", "sku")]]
    subtotal: Annotated[Amount, at("subtotalSet", "shopMoney", "amount")]
    tax: Annotated[Amount, at("totalTaxSet", "shopMoney", "amount")]


@with_config(_NODE)
class RefundShippingLine(TypedDict):
    subtotal: Annotated[Amount, at("subtotalAmountSet", "shopMoney", "amount")]
    tax: Annotated[Amount, at("taxAmountSet", "shopMoney", "amount")]


@with_config(_NODE)
class Refund(TypedDict):
    id: Gid
    createdAt: Timestamp
    amount: Annotated[Amount, at("totalRefundedSet", "shopMoney", "amount")]
    presentment_amount: Annotated[Amount, at("totalRefundedSet", "presentmentMoney", "amount")]
    presentment_currency: Annotated[
        str, at("totalRefundedSet", "presentmentMoney", "currencyCode")]
    refundLineItems: Connection[RefundLineItem]
    refundShippingLines: NotRequired[Connection[RefundShippingLine] | None]


@with_config(_LEAF)
class Fulfillment(TypedDict):
    displayStatus: NotRequired[str | None]


_VISIT = ("customerJourneySummary", "firstVisit")
_UTM = (*_VISIT, "utmParameters")


@with_config(_NODE)
class Order(TypedDict):
    id: Gid
    name: NotRequired[str | None]
    createdAt: Timestamp
    processedAt: NotRequired[Timestamp | None]
    updatedAt: Timestamp
    cancelledAt: NotRequired[Timestamp | None]
    cancelReason: NotRequired[str | None]
    test: bool
    sourceName: NotRequired[str | None]
    currencyCode: str
    presentmentCurrencyCode: str
    displayFinancialStatus: NotRequired[str | None]
    displayFulfillmentStatus: NotRequired[str | None]
    taxesIncluded: NotRequired[bool | None]
    discounts: Annotated[Amount, at("totalDiscountsSet", "shopMoney", "amount")]
    presentment_discounts: Annotated[
        Amount, at("totalDiscountsSet", "presentmentMoney", "amount")]
    shipping: Annotated[Amount, at("totalShippingPriceSet", "shopMoney", "amount")]
    presentment_shipping: Annotated[
        Amount, at("totalShippingPriceSet", "presentmentMoney", "amount")]
    tax: Annotated[Amount, at("totalTaxSet", "shopMoney", "amount")]
    presentment_tax: Annotated[Amount, at("totalTaxSet", "presentmentMoney", "amount")]
    total: Annotated[Amount, at("totalPriceSet", "shopMoney", "amount")]
    presentment_total: Annotated[Amount, at("totalPriceSet", "presentmentMoney", "amount")]
    total_refunded: Annotated[Amount, at("totalRefundedSet", "shopMoney", "amount")]
    customer_id: NotRequired[Annotated[Gid | None, at("customer", "id")]]
    country_code: NotRequired[Annotated[str | None, at("shippingAddress", "countryCodeV2")]]
    fulfillments: NotRequired[list[Fulfillment]]
    attribution_ready: NotRequired[
        Annotated[bool | None, at("customerJourneySummary", "ready")]]
    landing_page: NotRequired[Annotated[str | None, at(*_VISIT, "landingPage")]]
    referrer: NotRequired[Annotated[str | None, at(*_VISIT, "referrerUrl")]]
    utm_source: NotRequired[Annotated[str | None, at(*_UTM, "source")]]
    utm_medium: NotRequired[Annotated[str | None, at(*_UTM, "medium")]]
    utm_campaign: NotRequired[Annotated[str | None, at(*_UTM, "campaign")]]
    utm_content: NotRequired[Annotated[str | None, at(*_UTM, "content")]]
    utm_term: NotRequired[Annotated[str | None, at(*_UTM, "term")]]
    lineItems: Connection[LineItem]
    refunds: list[Refund]


@with_config(_NODE)
class Customer(TypedDict):
    id: Gid
    createdAt: NotRequired[Timestamp | None]
    updatedAt: Timestamp
    numberOfOrders: NotRequired[UInt64 | None]
    country_code: NotRequired[Annotated[str | None, at("defaultAddress", "countryCodeV2")]]
    marketing_state: NotRequired[
        Annotated[str | None, at("emailMarketingConsent", "marketingState")]]


@with_config(_NODE)
class Product(TypedDict):
    id: Gid
    title: str
    productType: NotRequired[str | None]
    vendor: NotRequired[str | None]
    status: NotRequired[str | None]
    createdAt: NotRequired[Timestamp | None]
    updatedAt: Timestamp


@with_config(_NODE)
class ProductVariant(TypedDict):
    id: Gid
    sku: NotRequired[str | None]
    title: NotRequired[str | None]
    price: Amount
    createdAt: NotRequired[Timestamp | None]
    updatedAt: Timestamp
    product: Product
    unit_cost: NotRequired[Annotated[Amount | None, at("inventoryItem", "unitCost", "amount")]]


@with_config(_LEAF)
class Quantity(TypedDict):
    name: str
    quantity: int


@with_config(_NODE)
class InventoryLevel(TypedDict):
    location_id: Annotated[Gid, at("location", "id")]
    location_name: NotRequired[Annotated[str | None, at("location", "name")]]
    quantities: list[Quantity]


@with_config(_NODE)
class StockedVariant(TypedDict):
    id: Gid
    sku: NotRequired[str | None]
    updatedAt: NotRequired[Timestamp | None]
    inventory_item_id: Annotated[Gid, at("inventoryItem", "id")]
    unit_cost: NotRequired[Annotated[Amount | None, at("inventoryItem", "unitCost", "amount")]]
    levels: Annotated[Connection[InventoryLevel], at("inventoryItem", "inventoryLevels")]


@with_config(_NODE)
class Shop(TypedDict):
    ianaTimezone: str
    currencyCode: str
    myshopifyDomain: NotRequired[str | None]


def _text_amounts(schema: Any) -> Any:
    """A copy of a core schema in which each ``Amount`` is only a strict string."""
    if isinstance(schema, dict):
        metadata = schema.get("metadata")
        if isinstance(metadata, dict) and metadata.get(_AMOUNT):
            return cs.str_schema(strict=True)
        return {key: _text_amounts(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_text_amounts(value) for value in schema]
    return schema


def known_fields(shape: type) -> frozenset[str]:
    """Field names of ``shape`` plus the first key of each alias path (the JSON keys it reads)."""
    names = set()
    for name, hint in typing.get_type_hints(shape, include_extras=True).items():
        names.add(name)
        while typing.get_origin(hint) is NotRequired:
            hint = typing.get_args(hint)[0]
        for meta in getattr(hint, "__metadata__", ()):
            alias = getattr(meta, "validation_alias", None)
            if isinstance(alias, AliasPath):
                names.add(str(alias.path[0]))
    return frozenset(names)


#: known field set -> key tuples that had no unknown field (see :func:`unknown_fields`)
_CLEAN: dict[frozenset[str], set[tuple[str, ...]]] = {}


def unknown_fields(node: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The fields of a validated node that its shape does not know (schema drift).

    Nodes of a page come with the same keys in the same order, so key tuples found clean
    once are remembered: the usual node costs one set lookup, not one per key.
    """
    keys = tuple(node)
    clean = _CLEAN.get(known)
    if clean is not None and keys in clean:
        return {}
    extra = {k: v for k, v in node.items() if k not in known}
    if not extra:
        clean = _CLEAN.setdefault(known, set())
        if len(clean) >= 1024:
            clean.clear()
        clean.add(keys)
    return extra


def describe(error: ValidationError, *, limit: int = 3) -> str:
    """A readable reason: ``lineItems.nodes.0.quantity: Input should be ... (got str)``."""
    parts = []
    for item in error.errors(include_url=False)[:limit]:
        path = ".".join(str(p) for p in item["loc"]) or "<node>"
        got = type(item.get("input")).__name__ if item["type"] != "missing" else "nothing"
        parts.append(f"{path}: {item['msg']} (got {got})")
    more = error.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


class Shape(Generic[T]):
    """One node shape with its validators, built once: a page in one call, or node by node."""

    def __init__(self, node: type[T]) -> None:
        self.node = node
        self.known = known_fields(node)
        self._one: TypeAdapter[T] = TypeAdapter(node)
        self._many: TypeAdapter[list[T]] = TypeAdapter(list[node])  # type: ignore[valid-type]

    def envelope(self, root: str, *, amounts_as_text: bool = False) -> JsonValidator:
        """Validator of a whole GraphQL reply whose ``data.<root>`` is a page of these nodes.

        With ``amounts_as_text`` every ``Amount`` stays the JSON string it was (still strictly
        a string) for the mapper to read (``context.AMOUNTS``): building the ``Decimal``s in
        pydantic-core costs a quarter of the validation of an order page.
        """
        data = TypedDict(f"{root}_data", {root: Page[self.node]})  # type: ignore[misc,valid-type]
        data.__pydantic_config__ = _LEAF  # type: ignore[attr-defined]
        adapter: TypeAdapter[Any] = TypeAdapter(Reply[data])  # type: ignore[valid-type]
        if not amounts_as_text:
            return adapter
        return SchemaValidator(_text_amounts(adapter.core_schema))  # type: ignore[arg-type]

    def validate_page(self, nodes: list[Any]) -> list[T | str]:
        """One entry per raw node: the validated node, or the reason it failed."""
        try:
            return list(self._many.validate_python(nodes))
        except ValidationError:
            return [self.validate_one(node) for node in nodes]

    def validate_one(self, node: Any) -> T | str:
        """The validated ``node``, or the reason it does not fit (see :func:`describe`)."""
        try:
            return self._one.validate_python(node)
        except ValidationError as exc:
            return describe(exc)


ORDER = Shape(Order)
CUSTOMER = Shape(Customer)
VARIANT = Shape(ProductVariant)
STOCKED = Shape(StockedVariant)
SHOP = Shape(Shop)
