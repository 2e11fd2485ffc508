"""Shopify payload models -> canonical rows (plain dicts keyed by canonical column names)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from ondigital_connect.errors import RecordValidationError
from ondigital_connect.sources.base import Drift
from ondigital_connect.sources.shopify import payloads as p
from ondigital_connect.sources.shopify.context import (
    AMOUNTS,
    SOURCE,
    UTC,
    ShopContext,
    numeric_id,
)

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


@dataclass(slots=True)
class MappedOrder:
    """The rows one order produces."""

    order: Rows
    lines: list[Rows]
    refunds: list[Rows]
    refund_lines: list[Rows]


ORDER_KNOWN = p.ORDER.known
LINE_KNOWN = p.known_fields(p.LineItem)
REFUND_KNOWN = p.known_fields(p.Refund)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(UTC)


def drift_of(prefix: str, fields: dict[str, Any]) -> list[Drift]:
    """One ``Drift`` per unknown field (examples with e-mails/phones redacted)."""
    return [Drift(f"{prefix}{name}", redact(value)) for name, value in fields.items()]


def map_line(ctx: ShopContext, order_key: str, li: p.LineItem, cur: str, pcur: str) -> Rows:
    """One ``order_lines`` row (shop money; presentment unit price beside it)."""
    tax = ZERO
    for t in li["taxLines"]:
        tax += AMOUNTS[t["amount"]]
    prefix, get = ctx.prefix, li.get
    lid = li["id"].rpartition("/")[2]
    variant_id, unit_cost = get("variant_id"), get("unit_cost")
    return {
        "source": SOURCE, "account_id": ctx.shop,
        "line_key": prefix + lid, "order_key": order_key, "line_id": lid,
        "product_key": prefix + variant_id.rpartition("/")[2] if variant_id else None,
        "sku": get("sku") or None, "title": get("name"), "category": get("category") or None,
        "quantity": li["quantity"], "unit_price": AMOUNTS[li["unit_price"]],
        "discount": AMOUNTS[li["discount"]], "tax": tax,
        "unit_cost": None if unit_cost is None else AMOUNTS[unit_cost],
        "currency": get("unit_currency") or cur,
        "presentment_unit_price": AMOUNTS[li["presentment_unit_price"]],
        "presentment_currency": pcur,
    }


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


def map_order(ctx: ShopContext, o: p.Order) -> MappedOrder:
    """An order, its lines, refunds and refund lines; order-level unknown fields go to ``extra``."""
    oid = o["id"].rpartition("/")[2]
    order_key = ctx.prefix + oid
    cur, pcur = o["currencyCode"], o["presentmentCurrencyCode"]
    lines = [map_line(ctx, order_key, li, cur, pcur) for li in o["lineItems"]["nodes"]]
    gross = pgross = ZERO
    for line in lines:
        quantity = line["quantity"]
        gross += line["unit_price"] * quantity
        pgross += line["presentment_unit_price"] * quantity
    refunds, refund_lines = [], []
    for r in o["refunds"]:
        refund, rlines = map_refund(ctx, order_key, r, cur)
        refunds.append(refund)
        refund_lines += rlines
    row = _order_row(ctx, o, oid, order_key)
    row.update(gross_sales=gross, presentment_gross_sales=pgross, line_count=len(lines),
               refund_count=len(refunds))
    return MappedOrder(row, lines, refunds, refund_lines)


def _order_row(ctx: ShopContext, o: p.Order, oid: str, order_key: str) -> Rows:
    """The order row but for the sums and counts over its lines and refunds."""
    get = o.get
    created = o["createdAt"].astimezone(UTC)
    country, customer_id, landing = get("country_code"), get("customer_id"), get("landing_page")
    extra = p.unknown_fields(o, ORDER_KNOWN)
    return {
        "source": SOURCE, "account_id": ctx.shop, "order_key": order_key, "order_id": oid,
        "order_name": get("name"), "created_at": created,
        "order_date": ctx.local_date(created), "timezone": ctx.timezone,
        "updated_at": o["updatedAt"].astimezone(UTC), "processed_at": _utc(get("processedAt")),
        "cancelled_at": _utc(get("cancelledAt")), "cancel_reason": get("cancelReason"),
        "is_test": o["test"], "sales_channel": get("sourceName"), "market": country,
        "country_code": country, "currency": o["currencyCode"], "gross_sales": ZERO,
        "discounts": AMOUNTS[o["discounts"]], "shipping": AMOUNTS[o["shipping"]],
        "tax": AMOUNTS[o["tax"]], "total": AMOUNTS[o["total"]],
        "total_refunded": AMOUNTS[o["total_refunded"]],
        "presentment_currency": o["presentmentCurrencyCode"], "presentment_gross_sales": ZERO,
        "presentment_discounts": AMOUNTS[o["presentment_discounts"]],
        "presentment_shipping": AMOUNTS[o["presentment_shipping"]],
        "presentment_tax": AMOUNTS[o["presentment_tax"]],
        "presentment_total": AMOUNTS[o["presentment_total"]],
        "financial_status": get("displayFinancialStatus"),
        "fulfillment_status": get("displayFulfillmentStatus"),
        "delivery_status": _delivery_status(o),
        "customer_key": ctx.customer_key(customer_id) if customer_id else None,
        "utm_source": get("utm_source"), "utm_medium": get("utm_medium"),
        "utm_campaign": get("utm_campaign"), "utm_content": get("utm_content"),
        "utm_term": get("utm_term"), "landing_page": scrub_url(landing),
        "referrer": scrub_url(get("referrer")), "click_id": click_id(landing),
        "attribution_ready": get("attribution_ready"), "line_count": 0, "refund_count": 0,
        "extra": redact(extra) if extra else None,
    }


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
