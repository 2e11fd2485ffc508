"""Shopify payload models -> canonical rows (plain dicts keyed by canonical column names)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from ondigital_connect.errors import RecordValidationError
from ondigital_connect.models.columns import Columns
from ondigital_connect.sources.base import Drift
from ondigital_connect.sources.shopify import payloads as p
from ondigital_connect.sources.shopify.context import (
    AMOUNTS,
    SOURCE,
    UTC,
    ShopContext,
    numeric_id,
)
from ondigital_connect.warehouse.merge import PARENT_SEQ

ZERO = Decimal(0)
#: Click-id parameters, in the order they are looked for on the landing page.
CLICK_PARAMS = ("gclid", "fbclid", "msclkid", "ttclid", "dclid", "wbraid", "gbraid")
_PII_KEY = re.compile(r"e-?mail|phone|tel$|mobile", re.IGNORECASE)
_PII_URL = re.compile(r"@|%40|[?&;](?:[\w-]*e-?mail|[\w-]*phone|tel|mobile)[\w-]*=", re.I)
_EMAIL = re.compile(r"[^\s@/?&=#:]+(?:@|%40)[^\s@/?&=#]+\.[A-Za-z]{2,}")
REDACTED = "[redacted]"
_CLICK = re.compile(r"[?&](" + "|".join(CLICK_PARAMS) + r")=([^&#]*)")
Rows = dict[str, Any]


def redact(value: Any) -> Any:
    """A copy of a raw JSON value with e-mail/phone keys and e-mail addresses blanked out."""
    if isinstance(value, dict):
        return {k: REDACTED if _PII_KEY.search(k) and v is not None else redact(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and ("@" in value or "%40" in value):
        return _EMAIL.sub(REDACTED, value)
    return value


def scrub_url(url: str | None) -> str | None:
    """Drop query parameters that carry an e-mail or phone number (newsletter links do)."""
    if not url or (url.isascii() and not _may_carry_pii(url.lower())) or not _PII_URL.search(url):
        return url
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _PII_KEY.search(k) and "@" not in v]
    return _EMAIL.sub(REDACTED, urlunsplit(parts._replace(query=urlencode(kept), fragment="")))


def _may_carry_pii(lowered: str) -> bool:
    """False when an ASCII URL holds none of the substrings ``_PII_URL`` needs (cheap test)."""
    return ("@" in lowered or "%40" in lowered or "mail" in lowered or "phone" in lowered
            or "tel" in lowered or "mobile" in lowered)


def click_id(landing_page: str | None) -> str | None:
    """The first of gclid/fbclid/msclkid/ttclid/dclid/wbraid/gbraid in the landing page's query."""
    if (not landing_page or "?" not in landing_page
            or ("clid" not in landing_page and "clkid" not in landing_page
                and "braid" not in landing_page)):
        return None
    found = dict(_CLICK.findall(landing_page.partition("#")[0]))
    for name in CLICK_PARAMS:
        value = found.get(name)
        if value:
            return unquote_plus(value) if "%" in value or "+" in value else value
    return None


ORDER_KNOWN = p.ORDER.known
LINE_KNOWN = p.known_fields(p.LineItem)
REFUND_KNOWN = p.known_fields(p.Refund)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(UTC)


def drift_of(prefix: str, fields: dict[str, Any]) -> list[Drift]:
    """One ``Drift`` per unknown field (examples with e-mails/phones redacted)."""
    return [Drift(f"{prefix}{name}", redact(value)) for name, value in fields.items()]


def map_refund(ctx: ShopContext, order_key: str, r: p.Refund, cur: str) -> tuple[Rows, list[Rows]]:
    """One ``refunds`` row, booked on its own date, and its ``refund_lines``."""
    rid = numeric_id(r["id"])
    refund_key = ctx.prefix + rid
    goods = tax = shipping = ZERO
    lines = []
    for rl in r["refundLineItems"]["nodes"]:
        subtotal, line_tax = AMOUNTS[rl["subtotal"]], AMOUNTS[rl["tax"]]
        goods += subtotal
        tax += line_tax
        line_id = numeric_id(rl["line_item_id"])
        rl_id = rl.get("id")
        lines.append({
            "source": SOURCE, "account_id": ctx.shop,
            "refund_line_key": ctx.key(rl_id) if rl_id else f"{refund_key}:{line_id}",
            "refund_key": refund_key, "order_key": order_key, "line_key": ctx.prefix + line_id,
            "sku": rl.get("sku") or None, "quantity": rl["quantity"], "subtotal": subtotal,
            "tax": line_tax, "currency": cur,
        })
    shipping_lines = r.get("refundShippingLines")
    if shipping_lines:
        for sl in shipping_lines["nodes"]:
            shipping += AMOUNTS[sl["subtotal"]]
            tax += AMOUNTS[sl["tax"]]
    refunded_at = r["createdAt"].astimezone(UTC)
    return {
        "source": SOURCE, "account_id": ctx.shop, "refund_key": refund_key,
        "order_key": order_key, "refund_id": rid, "refunded_at": refunded_at,
        "refund_date": ctx.local_date(refunded_at), "timezone": ctx.timezone,
        "currency": cur, "amount": AMOUNTS[r["amount"]], "goods_amount": goods,
        "shipping_amount": shipping, "tax_amount": tax,
        "presentment_currency": r["presentment_currency"],
        "presentment_amount": AMOUNTS[r["presentment_amount"]],
    }, lines


def _delivery_status(o: p.Order) -> str | None:
    for f in reversed(o.get("fulfillments") or ()):
        status = f.get("displayStatus")
        if status:
            return status
    return None


def order_drift(o: p.Order) -> list[Drift]:
    """Unknown fields of an order and of its lines and refunds, as ``Drift`` paths."""
    unknown = p.unknown_fields(o, ORDER_KNOWN)
    drift = drift_of("", unknown) if unknown else []
    for li in o["lineItems"]["nodes"]:
        unknown = p.unknown_fields(li, LINE_KNOWN)
        if unknown:
            drift += drift_of("lineItems.nodes[].", unknown)
    for r in o["refunds"]:
        unknown = p.unknown_fields(r, REFUND_KNOWN)
        if unknown:
            drift += drift_of("refunds[].", unknown)
    return drift


@dataclass(slots=True)
class OrderColumns:
    """The rows a page of orders produces, column by column; child rows carry
    ``_parent_seq``, their order's position in ``orders``."""

    orders: Columns
    lines: Columns
    refunds: Columns
    refund_lines: Columns


def map_orders(ctx: ShopContext, nodes: Sequence[p.Order]) -> OrderColumns:
    """Orders with their lines, refunds and refund lines (shop money and presentment money).

    Raises AmountError when an amount is text but not a decimal (the caller finds the order).
    """
    orders = _order_columns(ctx, nodes)
    lines, gross, pgross = _line_columns(ctx, nodes, orders["order_key"])
    orders["gross_sales"], orders["presentment_gross_sales"] = gross, pgross
    refunds, refund_lines = [], []
    for seq, o in enumerate(nodes):
        for r in o["refunds"]:
            refund, rlines = map_refund(ctx, orders["order_key"][seq], r, o["currencyCode"])
            refund[PARENT_SEQ] = seq
            refunds.append(refund)
            for rl in rlines:
                rl[PARENT_SEQ] = seq
            refund_lines += rlines
    return OrderColumns(Columns(orders), lines, Columns.from_rows(refunds),
                        Columns.from_rows(refund_lines))


def _order_columns(ctx: ShopContext, nodes: Sequence[p.Order]) -> dict[str, list[Any]]:
    """Every ``orders`` column but the gross sales (summed from the lines)."""
    n, gets = len(nodes), [o.get for o in nodes]
    ids = [o["id"].rpartition("/")[2] for o in nodes]
    created = [o["createdAt"].astimezone(UTC) for o in nodes]
    country = [get("country_code") for get in gets]
    landing = [get("landing_page") for get in gets]
    columns = {
        "source": [SOURCE] * n, "account_id": [ctx.shop] * n,
        "order_key": [ctx.prefix + i for i in ids], "order_id": ids,
        "created_at": created, "order_date": [ctx.local_date(c) for c in created],
        "timezone": [ctx.timezone] * n,
        "updated_at": [o["updatedAt"].astimezone(UTC) for o in nodes],
        "processed_at": [_utc(get("processedAt")) for get in gets],
        "cancelled_at": [_utc(get("cancelledAt")) for get in gets],
        "is_test": [o["test"] for o in nodes], "market": country, "country_code": country,
        "currency": [o["currencyCode"] for o in nodes],
        "presentment_currency": [o["presentmentCurrencyCode"] for o in nodes],
        "delivery_status": [_delivery_status(o) for o in nodes],
        "customer_key": [ctx.customer_key(c) if c else None
                         for c in (get("customer_id") for get in gets)],
        "landing_page": [scrub_url(url) for url in landing],
        "referrer": [scrub_url(get("referrer")) for get in gets],
        "click_id": [click_id(url) for url in landing],
        "line_count": [len(o["lineItems"]["nodes"]) for o in nodes],
        "refund_count": [len(o["refunds"]) for o in nodes],
        "extra": [_extra(o) for o in nodes],
    }
    for column, field_name in _ORDER_AS_IS:
        columns[column] = [get(field_name) for get in gets]
    for column in _ORDER_AMOUNTS:
        columns[column] = [AMOUNTS[o[column]] for o in nodes]  # type: ignore[literal-required]
    return columns


#: orders column -> the validated field it is copied from
_ORDER_AS_IS = (
    ("order_name", "name"), ("cancel_reason", "cancelReason"), ("sales_channel", "sourceName"),
    ("financial_status", "displayFinancialStatus"),
    ("fulfillment_status", "displayFulfillmentStatus"), ("utm_source", "utm_source"),
    ("utm_medium", "utm_medium"), ("utm_campaign", "utm_campaign"),
    ("utm_content", "utm_content"), ("utm_term", "utm_term"),
    ("attribution_ready", "attribution_ready"), ("taxes_included", "taxesIncluded"),
)
#: orders columns read from an amount of the same name
_ORDER_AMOUNTS = ("discounts", "shipping", "tax", "total", "total_refunded",
                  "presentment_discounts", "presentment_shipping", "presentment_tax",
                  "presentment_total")


def _extra(o: p.Order) -> Any:
    unknown = p.unknown_fields(o, ORDER_KNOWN)
    return redact(unknown) if unknown else None


def _line_columns(
    ctx: ShopContext, nodes: Sequence[p.Order], order_keys: list[str],
) -> tuple[Columns, list[Decimal], list[Decimal]]:
    """``order_lines`` columns, and each order's gross sales in shop and presentment money."""
    seqs, items = [], []
    for seq, o in enumerate(nodes):
        for li in o["lineItems"]["nodes"]:
            seqs.append(seq)
            items.append(li)
    n, gets, prefix = len(items), [li.get for li in items], ctx.prefix
    ids = [li["id"].rpartition("/")[2] for li in items]
    quantity = [li["quantity"] for li in items]
    price = [AMOUNTS[li["unit_price"]] for li in items]
    presentment_price = [AMOUNTS[li["presentment_unit_price"]] for li in items]
    gross, pgross = [ZERO] * len(nodes), [ZERO] * len(nodes)
    for seq, q, up, pp in zip(seqs, quantity, price, presentment_price, strict=True):
        gross[seq] += up * q
        pgross[seq] += pp * q
    columns = {
        "source": [SOURCE] * n, "account_id": [ctx.shop] * n,
        "line_key": [prefix + i for i in ids], "order_key": [order_keys[s] for s in seqs],
        "line_id": ids,
        "product_key": [prefix + v.rpartition("/")[2] if v else None
                        for v in (get("variant_id") for get in gets)],
        "sku": [get("sku") or None for get in gets], "title": [get("name") for get in gets],
        "category": [get("category") or None for get in gets], "quantity": quantity,
        "unit_price": price, "discount": [AMOUNTS[li["discount"]] for li in items],
        "tax": [_tax(li) for li in items],
        "unit_cost": [None if c is None else AMOUNTS[c]
                      for c in (get("unit_cost") for get in gets)],
        "currency": [get("unit_currency") or nodes[s]["currencyCode"]
                     for get, s in zip(gets, seqs, strict=True)],
        "presentment_unit_price": presentment_price,
        "presentment_currency": [nodes[s]["presentmentCurrencyCode"] for s in seqs],
        PARENT_SEQ: seqs,
    }
    return Columns(columns), gross, pgross


def _tax(li: p.LineItem) -> Decimal:
    tax = ZERO
    for t in li["taxLines"]:
        tax += AMOUNTS[t["amount"]]
    return tax


def map_customer(ctx: ShopContext, c: p.Customer) -> Rows:
    """A pseudonymous ``customers`` row: no e-mail or phone is ever requested or kept."""
    state = c.get("marketing_state")
    return {
        "source": SOURCE, "account_id": ctx.shop, "customer_key": ctx.customer_key(c["id"]),
        "created_at": _utc(c.get("createdAt")), "updated_at": c["updatedAt"].astimezone(UTC),
        "country_code": c.get("country_code"),
        "marketing_consent": state == "SUBSCRIBED" if state is not None else None,
        "vendor_order_count": c.get("numberOfOrders"),
    }


def map_variant(ctx: ShopContext, v: p.ProductVariant) -> Rows:
    """A ``products`` row per variant; ``updated_at`` is the later of variant and product."""
    product = v["product"]
    return {
        "source": SOURCE, "account_id": ctx.shop, "product_key": ctx.key(v["id"]),
        "product_id": numeric_id(product["id"]), "variant_id": numeric_id(v["id"]),
        "sku": v.get("sku") or None, "title": product["title"],
        "variant_title": v.get("title"), "category": product.get("productType") or None,
        "brand": product.get("vendor") or None, "price": v["price"],
        "unit_cost": v.get("unit_cost"), "currency": ctx.currency,
        "status": product.get("status"), "created_at": _utc(v.get("createdAt")),
        "updated_at": max(v["updatedAt"], product["updatedAt"]).astimezone(UTC),
    }


def map_stock(ctx: ShopContext, v: p.StockedVariant, snapshot: dt.date) -> list[Rows]:
    """One ``inventory_levels`` row per location the variant is stocked at."""
    rows = []
    product_key = ctx.key(v["id"])
    for level in v["levels"]["nodes"]:
        qty = {q["name"]: q["quantity"] for q in level["quantities"]}
        missing = [n for n in ("available", "on_hand") if n not in qty]
        if missing:
            raise RecordValidationError(
                f"inventoryItem.inventoryLevels location {level['location_id']}: "
                f"quantities lack {', '.join(missing)}", key=product_key)
        rows.append({
            "source": SOURCE, "account_id": ctx.shop, "snapshot_date": snapshot,
            "product_key": product_key, "sku": v.get("sku") or None,
            "location_id": numeric_id(level["location_id"]),
            "location_name": level.get("location_name"),
            "on_hand": qty["on_hand"], "available": qty["available"],
            "unit_cost": v.get("unit_cost"), "currency": ctx.currency,
        })
    return rows
