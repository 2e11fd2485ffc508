"""Shopify Admin GraphQL (2026-10) shapes of the simulated values: one resolver per field.

``TYPES[type_name][field_name]`` is a :class:`FieldDef`.  Resolvers take ``(source, env)`` (plus
the field's arguments when ``takes_args``) and return a JSON value for scalars, a source for
objects, a sequence of sources for lists and connections.  Sources are the simulate values or
small tuples: MoneyBag ``(shop, shop_ccy, presentment, presentment_ccy)``, MoneyV2
``(amount, ccy)``, LineItem/TaxLine ``(order, line)``, Refund/RefundShippingLine ``(order,
refund)``, RefundLineItem ``(order, refund_line)``, Customer a SimCustomer or a customer id,
MailingAddress a country code, Location ``(id, name)``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from ondigital_connect.sandbox.shopify_values import CENT, Env, FieldDef, iso, iso_json, money

_ZERO = Decimal("0.00")
_QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", "reserved", "damaged",
                   "safety_stock", "quality_control")


def _s(how: str | Callable[..., Any], type_name: str) -> FieldDef:
    if isinstance(how, str):
        return FieldDef("scalar", type_name, expr=how)
    return FieldDef("scalar", type_name, resolve=how)


def _o(how: str | Callable[..., Any], type_name: str, *, nullable: bool = True,
       memo: bool = False) -> FieldDef:
    if isinstance(how, str):
        return FieldDef("object", type_name, expr=how, nullable=nullable, memo=memo)
    return FieldDef("object", type_name, resolve=how, nullable=nullable, memo=memo)


def _t(type_name: str, *parts: str) -> FieldDef:
    """A non-null object whose source is a tuple of these expressions."""
    return FieldDef("object", type_name, expr="(" + ", ".join(parts) + ",)", nullable=False,
                    parts=parts)


def _bag(shop: str, presentment: str) -> FieldDef:
    return _t("MoneyBag", f"$.{shop}", "$.shop_currency", f"$.{presentment}",
              "$.presentment_currency")


def _line_bag(shop: str, presentment: str) -> FieldDef:
    return _t("MoneyBag", f"$[1].{shop}", "$[0].shop_currency", f"$[1].{presentment}",
              "$[0].presentment_currency")


def _customer(src: Any, env: Env) -> Any:
    if isinstance(src, int):
        return env.store.business.customer(src, as_of=env.as_of)
    return src


def _customer_field(fn: Callable[[Any], Any]) -> Callable[[Any, Env], Any]:
    def resolve(src: Any, env: Env) -> Any:
        customer = _customer(src, env)
        return None if customer is None else fn(customer)
    return resolve


def _customer_id(c: Any) -> int:
    return c if isinstance(c, int) else c.customer_id


def _refunded_quantity(o: Any, line_id: int) -> int:
    return sum(rl.quantity for r in o.refunds for rl in r.lines if rl.line_id == line_id)


def _with_tax(amount: Decimal, tax: Decimal, env: Env) -> Decimal:
    """A refund line amount as Shopify reports it: with its tax in a tax-included shop."""
    return amount + tax if env.shop.taxes_included else amount


def _vat(o: Any, env: Env) -> float:
    return env.store.vat.get(o.market, 0.0)


def _visit_source(o: Any) -> str:
    if o.referrer:
        host = urlsplit(o.referrer).hostname or ""
        return host.removeprefix("www.").split(".")[0] or "direct"
    return "direct"


def _refunds(o: Any, env: Env) -> list[tuple]:
    rows = env.store.refund_rows
    for refund in o.refunds:
        rows[refund.refund_id] = o.index
    return [(o, refund) for refund in o.refunds]


def _refund_line_item(src: tuple, env: Env) -> tuple | None:
    o, rl = src
    for line in o.lines:
        if line.line_id == rl.line_id:
            return (o, line)
    return None


def _quantities(level: Any, env: Env, args: dict) -> list[tuple[str, int]]:
    values = {"available": level.available, "on_hand": level.on_hand,
              "committed": max(0, level.on_hand - level.available)}
    names = args.get("names") or _QUANTITY_NAMES
    return [(name, values.get(name, 0)) for name in names]


def _location(level: Any, env: Env) -> tuple:
    return env.store.location_by_id.get(level.location_id,
                                        (level.location_id, level.location_name))


def _conn(type_name: str, resolve: Callable[..., Any], key: Callable[[Any], int]) -> FieldDef:
    return FieldDef("connection", type_name, resolve=resolve, args=("first", "after", "reverse"),
                    key=key)


ORDER: dict[str, FieldDef] = {
    "id": _s("f'gid://shopify/Order/{$.order_id}'", "ID"),
    "legacyResourceId": _s("str($.order_id)", "UnsignedInt64"),
    "name": _s("$.name", "String"),
    "email": _s("$.customer_email", "String"),
    "createdAt": _s("iso($.created_at)", "DateTime"),
    "processedAt": _s("iso($.processed_at)", "DateTime"),
    "updatedAt": _s("iso($.updated_at)", "DateTime"),
    "cancelledAt": _s("iso($.cancelled_at)", "DateTime"),
    "cancelReason": _s("($.cancel_reason and $.cancel_reason.upper())", "OrderCancelReason"),
    "test": _s("$.test", "Boolean"),
    "taxesIncluded": _s("e.shop.taxes_included", "Boolean"),
    "sourceName": _s("$.source_name", "String"),
    "currencyCode": _s("$.shop_currency", "CurrencyCode"),
    "presentmentCurrencyCode": _s("$.presentment_currency", "CurrencyCode"),
    "displayFinancialStatus": _s("$.financial_status", "OrderDisplayFinancialStatus"),
    "displayFulfillmentStatus": _s("$.fulfillment_status", "OrderDisplayFulfillmentStatus"),
    "subtotalPriceSet": _bag("subtotal_shop", "subtotal_presentment"),
    "totalDiscountsSet": _bag("discounts_shop", "discounts_presentment"),
    "totalShippingPriceSet": _bag("shipping_shop", "shipping_presentment"),
    "totalTaxSet": _bag("tax_shop", "tax_presentment"),
    "totalPriceSet": _bag("total_shop", "total_presentment"),
    "totalRefundedSet": _bag("refunded_shop", "refunded_presentment"),
    "customer": _o("($.customer_id or None)", "Customer"),
    "shippingAddress": _o("$.country_code", "MailingAddress"),
    "billingAddress": _o("$.country_code", "MailingAddress"),
    "customerJourneySummary": _o("$", "CustomerJourneySummary", nullable=False),
    "fulfillments": FieldDef(
        "list", "Fulfillment", expr="([$] if $.fulfillment_status in ('FULFILLED', "
        "'PARTIALLY_FULFILLED') else [])", args=("first",)),
    "lineItems": _conn("LineItem", lambda o, e: [(o, line) for line in o.lines],
                       lambda s: s[1].line_id),
    "refunds": FieldDef("list", "Refund", resolve=_refunds, args=("first",)),
}
MONEY_BAG = {
    "shopMoney": _t("MoneyV2", "$[0]", "$[1]"),
    "presentmentMoney": _t("MoneyV2", "$[2]", "$[3]"),
}
MONEY_V2 = {
    "amount": _s("money($[0])", "Decimal"),
    "currencyCode": _s("$[1]", "CurrencyCode"),
}
CUSTOMER = {
    "id": _s("f'gid://shopify/Customer/{_customer_id($)}'", "ID"),
    "legacyResourceId": _s("str(_customer_id($))", "UnsignedInt64"),
    "firstName": _s(_customer_field(lambda c: c.first_name), "String"),
    "email": _s(_customer_field(lambda c: c.email), "String"),
    "createdAt": _s(_customer_field(lambda c: iso(c.created_at)), "DateTime"),
    "updatedAt": _s(_customer_field(lambda c: iso(c.updated_at)), "DateTime"),
    "numberOfOrders": _s(_customer_field(lambda c: str(c.number_of_orders)), "UnsignedInt64"),
    "defaultAddress": _o(_customer_field(lambda c: c.country_code), "MailingAddress"),
    "defaultEmailAddress": _o(_customer_field(lambda c: c.email), "CustomerEmailAddress"),
    "emailMarketingConsent": _o(_customer_field(lambda c: c.accepts_marketing),
                                "CustomerEmailMarketingConsentState"),
}
MAILING_ADDRESS = {"countryCodeV2": _s("$", "CountryCode")}
EMAIL_ADDRESS = {"emailAddress": _s("$", "String")}
MARKETING_CONSENT = {
    "marketingState": _s("('SUBSCRIBED' if $ else 'NOT_SUBSCRIBED')",
                         "CustomerEmailMarketingState"),
}
JOURNEY = {
    "ready": _s("$.attribution_ready", "Boolean"),
    "firstVisit": _o("($ if $.attribution_ready else None)", "CustomerVisit"),
    "lastVisit": _o("($ if $.attribution_ready else None)", "CustomerVisit"),
}
VISIT = {
    "id": _s("f'gid://shopify/CustomerVisit/{$.order_id}'", "ID"),
    "landingPage": _s("$.landing_page", "URL"),
    "referrerUrl": _s("$.referrer", "URL"),
    "source": _s("($.utm_source or _visit_source($))", "String"),
    "occurredAt": _s("iso($.created_at)", "DateTime"),
    "utmParameters": _o("($ if ($.utm_source or $.utm_medium or $.utm_campaign) else None)",
                        "UTMParameters"),
}
UTM = {
    "source": _s("$.utm_source", "String"),
    "medium": _s("$.utm_medium", "String"),
    "campaign": _s("$.utm_campaign", "String"),
    "content": _s("$.utm_content", "String"),
    "term": _s("$.utm_term", "String"),
}
FULFILLMENT = {
    "id": _s("f'gid://shopify/Fulfillment/{$.order_id}'", "ID"),
    "status": _s("'SUCCESS'", "FulfillmentStatus"),
    "displayStatus": _s("'FULFILLED'", "FulfillmentDisplayStatus"),
    "createdAt": _s("iso($.processed_at)", "DateTime"),
    "updatedAt": _s("iso($.processed_at)", "DateTime"),
}
LINE_ITEM = {
    "id": _s("f'gid://shopify/LineItem/{$[1].line_id}'", "ID"),
    "name": _s("$[1].title", "String"),
    "title": _s("$[1].title", "String"),
    "sku": _s("$[1].sku", "String"),
    "quantity": _s("$[1].quantity", "Int"),
    "currentQuantity": _s("($[1].quantity - _refunded_quantity($[0], $[1].line_id))", "Int"),
    "taxable": _s("True", "Boolean"),
    "requiresShipping": _s("True", "Boolean"),
    "originalUnitPriceSet": _line_bag("unit_price_shop", "unit_price_presentment"),
    "totalDiscountSet": _line_bag("discount_shop", "discount_presentment"),
    "taxLines": FieldDef("list", "TaxLine", expr="($,)"),
    "product": _o("e.store.product_by_id.get($[1].product_id)", "Product", memo=True),
    "variant": _o("e.store.variant_by_id.get($[1].variant_id)", "ProductVariant", memo=True),
}
TAX_LINE = {
    "title": _s("'VAT'", "String"),
    "rate": _s("_vat($[0], e)", "Float"),
    "ratePercentage": _s("round(_vat($[0], e) * 100, 4)", "Float"),
    "priceSet": _line_bag("tax_shop", "tax_presentment"),
}
REFUND = {
    "id": _s("f'gid://shopify/Refund/{$[1].refund_id}'", "ID"),
    "legacyResourceId": _s("str($[1].refund_id)", "UnsignedInt64"),
    "createdAt": _s("iso($[1].created_at)", "DateTime"),
    "updatedAt": _s("iso($[1].created_at)", "DateTime"),
    "processedAt": _s("iso($[1].created_at)", "DateTime"),
    "note": _s("$[1].note", "String"),
    "totalRefundedSet": _line_bag("total_shop", "total_presentment"),
    "order": _o("$[0]", "Order", nullable=False),
    "refundLineItems": _conn("RefundLineItem", lambda s, e: [(s[0], rl) for rl in s[1].lines],
                             lambda s: s[1].refund_line_id),
    "refundShippingLines": _conn("RefundShippingLine",
                                 lambda s, e: [s] if s[1].shipping_shop else [],
                                 lambda s: s[1].refund_id),
}
REFUND_LINE_ITEM = {
    "id": _s("f'gid://shopify/RefundLineItem/{$[1].refund_line_id}'", "ID"),
    "quantity": _s("$[1].quantity", "Int"),
    "restocked": _s("False", "Boolean"),
    "lineItem": _o(_refund_line_item, "LineItem"),
    # Shopify's refund line subtotal includes the tax when the prices do (SimRefundLine's
    # subtotal excludes it)
    "subtotalSet": _t("MoneyBag", "_with_tax($[1].subtotal_shop, $[1].tax_shop, e)",
                      "$[0].shop_currency",
                      "_with_tax($[1].subtotal_presentment, $[1].tax_presentment, e)",
                      "$[0].presentment_currency"),
    "totalTaxSet": _line_bag("tax_shop", "tax_presentment"),
}
REFUND_SHIPPING_LINE = {
    "id": _s("f'gid://shopify/RefundShippingLine/{$[1].refund_id}'", "ID"),
    "subtotalAmountSet": _line_bag("shipping_shop", "shipping_presentment"),
    "taxAmountSet": _t("MoneyBag", "_ZERO", "$[0].shop_currency", "_ZERO",
                       "$[0].presentment_currency"),
}
PRODUCT = {
    "id": _s("f'gid://shopify/Product/{$.product_id}'", "ID"),
    "legacyResourceId": _s("str($.product_id)", "UnsignedInt64"),
    "title": _s("$.title", "String"),
    "productType": _s("$.category", "String"),
    "vendor": _s("$.brand", "String"),
    "status": _s("$.status", "ProductStatus"),
    "createdAt": _s("iso($.created_at)", "DateTime"),
    "updatedAt": _s("iso($.updated_at)", "DateTime"),
}
VARIANT = {
    "id": _s("f'gid://shopify/ProductVariant/{$.variant_id}'", "ID"),
    "legacyResourceId": _s("str($.variant_id)", "UnsignedInt64"),
    "sku": _s("$.sku", "String"),
    "title": _s("$.variant_title", "String"),
    "displayName": _s("f'{$.title} - {$.variant_title}'", "String"),
    "price": _s("money($.price_shop)", "Money"),
    "inventoryQuantity": _s("$.stock", "Int"),
    "createdAt": _s("iso($.created_at)", "DateTime"),
    "updatedAt": _s("iso($.updated_at)", "DateTime"),
    "product": _o("$", "Product", nullable=False),
    "inventoryItem": _o("$", "InventoryItem", nullable=False),
}
INVENTORY_ITEM = {
    "id": _s("f'gid://shopify/InventoryItem/{$.inventory_item_id}'", "ID"),
    "legacyResourceId": _s("str($.inventory_item_id)", "UnsignedInt64"),
    "sku": _s("$.sku", "String"),
    "tracked": _s("True", "Boolean"),
    "createdAt": _s("iso($.created_at)", "DateTime"),
    "updatedAt": _s("iso($.updated_at)", "DateTime"),
    "unitCost": _t("MoneyV2", "$.unit_cost_shop", "e.shop.currency"),
    "variant": _o("$", "ProductVariant", nullable=False),
    "inventoryLevels": _conn("InventoryLevel", lambda p, e: e.store.levels(p.inventory_item_id),
                             lambda lv: lv.location_id),
}
INVENTORY_LEVEL = {
    "id": _s("f'gid://shopify/InventoryLevel/{$.location_id}"
             "?inventory_item_id={$.inventory_item_id}'", "ID"),
    "isActive": _s("True", "Boolean"),
    "location": _o(_location, "Location", nullable=False),
    "item": _o("e.store.item_by_id.get($.inventory_item_id)", "InventoryItem", memo=True),
    "quantities": FieldDef("list", "InventoryQuantity", resolve=_quantities, args=("names",),
                           takes_args=True),
}
INVENTORY_QUANTITY = {
    "name": _s("$[0]", "String"),
    "quantity": _s("$[1]", "Int"),
}
LOCATION = {
    "id": _s("f'gid://shopify/Location/{$[0]}'", "ID"),
    "legacyResourceId": _s("str($[0])", "UnsignedInt64"),
    "name": _s("$[1]", "String"),
    "isActive": _s("True", "Boolean"),
}
SHOP = {
    "id": _s("f'gid://shopify/Shop/{e.shop.shop_id}'", "ID"),
    "name": _s("e.shop.name", "String"),
    "myshopifyDomain": _s("e.shop.domain", "String"),
    "url": _s("f'https://{e.shop.domain}'", "URL"),
    "ianaTimezone": _s("e.shop.timezone", "String"),
    "currencyCode": _s("e.shop.currency", "CurrencyCode"),
}

#: Every object type the sandbox serves, with the fields it knows.
TYPES: dict[str, dict[str, FieldDef]] = {
    "Order": ORDER, "MoneyBag": MONEY_BAG, "MoneyV2": MONEY_V2, "Customer": CUSTOMER,
    "MailingAddress": MAILING_ADDRESS, "CustomerEmailAddress": EMAIL_ADDRESS,
    "CustomerEmailMarketingConsentState": MARKETING_CONSENT,
    "CustomerJourneySummary": JOURNEY, "CustomerVisit": VISIT, "UTMParameters": UTM,
    "Fulfillment": FULFILLMENT, "LineItem": LINE_ITEM, "TaxLine": TAX_LINE, "Refund": REFUND,
    "RefundLineItem": REFUND_LINE_ITEM, "RefundShippingLine": REFUND_SHIPPING_LINE,
    "Product": PRODUCT, "ProductVariant": VARIANT, "InventoryItem": INVENTORY_ITEM,
    "InventoryLevel": INVENTORY_LEVEL, "InventoryQuantity": INVENTORY_QUANTITY,
    "Location": LOCATION, "Shop": SHOP,
}

#: Names the expression templates may use.
EXPR_GLOBALS: dict[str, Any] = {
    "iso": iso, "iso_json": iso_json, "money": money, "_CENT": CENT,
    "_customer_id": _customer_id, "_vat": _vat, "_ZERO": _ZERO,
    "_refunded_quantity": _refunded_quantity, "_visit_source": _visit_source,
    "_with_tax": _with_tax,
}
