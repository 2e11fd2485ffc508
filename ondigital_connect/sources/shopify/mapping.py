"""Shopify payload models -> canonical rows (plain dicts keyed by canonical column names)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ondigital_connect.errors import ConfigError, RecordValidationError
from ondigital_connect.models.canonical import make_key
from ondigital_connect.privacy import pseudonymise
from ondigital_connect.sources.base import Drift
from ondigital_connect.sources.shopify import payloads as p

SOURCE = "shopify"
ZERO = Decimal(0)
UTC = dt.UTC
#: Click-id parameters, in the order they are looked for on the landing page.
CLICK_PARAMS = ("gclid", "fbclid", "msclkid", "ttclid", "dclid", "wbraid", "gbraid")
_PII_KEY = re.compile(r"e-?mail|phone|tel$|mobile", re.IGNORECASE)
_PII_URL = re.compile(r"@|%40|[?&;](?:[\w-]*e-?mail|[\w-]*phone|tel|mobile)[\w-]*=", re.I)
_EMAIL = re.compile(r"[^\s@/?&=#:]+(?:@|%40)[^\s@/?&=#]+\.[A-Za-z]{2,}")
REDACTED = "[redacted]"
_CLICK = re.compile(r"[?&](" + "|".join(CLICK_PARAMS) + r")=([^&#]*)")
Rows = dict[str, Any]


def numeric_id(gid: str) -> str:
    """``gid://shopify/Order/5501`` -> ``5501``."""
    return gid.rpartition("/")[2]


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
    if not url or not _PII_URL.search(url):
        return url
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _PII_KEY.search(k) and "@" not in v]
    return _EMAIL.sub(REDACTED, urlunsplit(parts._replace(query=urlencode(kept), fragment="")))


def click_id(landing_page: str | None) -> str | None:
    """The first of gclid/fbclid/msclkid/ttclid/dclid/wbraid/gbraid in the landing page's query."""
    if not landing_page or "?" not in landing_page:
        return None
    found = dict(_CLICK.findall(landing_page.partition("#")[0]))
    for name in CLICK_PARAMS:
        value = found.get(name)
        if value:
            return unquote_plus(value)
    return None


@dataclass(frozen=True, slots=True)
class ShopContext:
    """What every mapped row needs to know about the shop: domain, time zone, currency, key."""

    shop: str
    timezone: str
    currency: str
    pseudonym_key: bytes = field(repr=False)
    zone: ZoneInfo = field(init=False, repr=False)
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"shopify: shop time zone {self.timezone!r} is unknown") from None
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "prefix", make_key(SOURCE, self.shop, ""))

    def key(self, gid: str) -> str:
        """Warehouse key of a Shopify global id (``make_key("shopify", shop, numeric id)``)."""
        return self.prefix + numeric_id(gid)

    def customer_key(self, gid: str) -> str:
        """Keyed hash of the customer's numeric id (the same in orders and customers)."""
        return pseudonymise(self.pseudonym_key, f"{SOURCE}:{self.shop}", numeric_id(gid))

    def local_date(self, when: dt.datetime) -> dt.date:
        """The calendar date of ``when`` in the shop's time zone."""
        return when.astimezone(self.zone).date()


@dataclass(frozen=True, slots=True)
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
        tax += t["amount"]
    lid = numeric_id(li["id"])
    variant_id = li.get("variant_id")
    return {
        "source": SOURCE, "account_id": ctx.shop,
        "line_key": ctx.prefix + lid, "order_key": order_key, "line_id": lid,
        "product_key": ctx.key(variant_id) if variant_id else None,
        "sku": li.get("sku") or None, "title": li.get("name"),
        "category": li.get("category") or None,
        "quantity": li["quantity"], "unit_price": li["unit_price"],
        "discount": li["discount"], "tax": tax, "unit_cost": li.get("unit_cost"),
        "currency": li.get("unit_currency") or cur,
        "presentment_unit_price": li["presentment_unit_price"], "presentment_currency": pcur,
    }


def map_refund(ctx: ShopContext, order_key: str, r: p.Refund, cur: str) -> tuple[Rows, list[Rows]]:
    """One ``refunds`` row, booked on its own date, and its ``refund_lines``."""
    rid = numeric_id(r["id"])
    refund_key = ctx.prefix + rid
    goods = tax = shipping = ZERO
    lines = []
    for rl in r["refundLineItems"]["nodes"]:
        goods += rl["subtotal"]
        tax += rl["tax"]
        line_id = numeric_id(rl["line_item_id"])
        rl_id = rl.get("id")
        lines.append({
            "source": SOURCE, "account_id": ctx.shop,
            "refund_line_key": ctx.key(rl_id) if rl_id else f"{refund_key}:{line_id}",
            "refund_key": refund_key, "order_key": order_key, "line_key": ctx.prefix + line_id,
            "sku": rl.get("sku") or None, "quantity": rl["quantity"], "subtotal": rl["subtotal"],
            "tax": rl["tax"], "currency": cur,
        })
    shipping_lines = r.get("refundShippingLines")
    if shipping_lines:
        for sl in shipping_lines["nodes"]:
            shipping += sl["subtotal"]
            tax += sl["tax"]
    refunded_at = r["createdAt"].astimezone(UTC)
    return {
        "source": SOURCE, "account_id": ctx.shop, "refund_key": refund_key,
        "order_key": order_key, "refund_id": rid, "refunded_at": refunded_at,
        "refund_date": refunded_at.astimezone(ctx.zone).date(), "timezone": ctx.timezone,
        "currency": cur, "amount": r["amount"], "goods_amount": goods,
        "shipping_amount": shipping, "tax_amount": tax,
        "presentment_currency": r["presentment_currency"],
        "presentment_amount": r["presentment_amount"],
    }, lines


def _delivery_status(o: p.Order) -> str | None:
    for f in reversed(o.get("fulfillments") or ()):
        status = f.get("displayStatus")
        if status:
            return status
    return None


def order_drift(o: p.Order) -> list[Drift]:
    """Unknown fields of an order and of its lines and refunds, as ``Drift`` paths."""
    drift = drift_of("", p.unknown_fields(o, ORDER_KNOWN))
    for li in o["lineItems"]["nodes"]:
        drift += drift_of("lineItems.nodes[].", p.unknown_fields(li, LINE_KNOWN))
    for r in o["refunds"]:
        drift += drift_of("refunds[].", p.unknown_fields(r, REFUND_KNOWN))
    return drift


def map_order(ctx: ShopContext, o: p.Order) -> MappedOrder:
    """An order, its lines, refunds and refund lines; order-level unknown fields go to ``extra``."""
    oid = numeric_id(o["id"])
    order_key = ctx.prefix + oid
    cur, pcur = o["currencyCode"], o["presentmentCurrencyCode"]
    lines = [map_line(ctx, order_key, li, cur, pcur) for li in o["lineItems"]["nodes"]]
    gross = pgross = ZERO
    for row in lines:
        gross += row["unit_price"] * row["quantity"]
        pgross += row["presentment_unit_price"] * row["quantity"]
    refunds, refund_lines = [], []
    for r in o["refunds"]:
        refund, rlines = map_refund(ctx, order_key, r, cur)
        refunds.append(refund)
        refund_lines += rlines
    created = o["createdAt"].astimezone(UTC)
    country = o.get("country_code")
    customer_id = o.get("customer_id")
    landing = o.get("landing_page")
    extra = p.unknown_fields(o, ORDER_KNOWN)
    row = {
        "source": SOURCE, "account_id": ctx.shop, "order_key": order_key, "order_id": oid,
        "order_name": o.get("name"), "created_at": created,
        "order_date": created.astimezone(ctx.zone).date(), "timezone": ctx.timezone,
        "updated_at": o["updatedAt"].astimezone(UTC), "processed_at": _utc(o.get("processedAt")),
        "cancelled_at": _utc(o.get("cancelledAt")), "cancel_reason": o.get("cancelReason"),
        "is_test": o["test"], "sales_channel": o.get("sourceName"), "market": country,
        "country_code": country, "currency": cur, "gross_sales": gross,
        "discounts": o["discounts"], "shipping": o["shipping"], "tax": o["tax"],
        "total": o["total"], "total_refunded": o["total_refunded"],
        "presentment_currency": pcur, "presentment_gross_sales": pgross,
        "presentment_discounts": o["presentment_discounts"],
        "presentment_shipping": o["presentment_shipping"],
        "presentment_tax": o["presentment_tax"], "presentment_total": o["presentment_total"],
        "financial_status": o.get("displayFinancialStatus"),
        "fulfillment_status": o.get("displayFulfillmentStatus"),
        "delivery_status": _delivery_status(o),
        "customer_key": ctx.customer_key(customer_id) if customer_id else None,
        "utm_source": o.get("utm_source"), "utm_medium": o.get("utm_medium"),
        "utm_campaign": o.get("utm_campaign"), "utm_content": o.get("utm_content"),
        "utm_term": o.get("utm_term"), "landing_page": scrub_url(landing),
        "referrer": scrub_url(o.get("referrer")), "click_id": click_id(landing),
        "attribution_ready": o.get("attribution_ready"),
        "line_count": len(lines), "refund_count": len(refunds),
        "extra": redact(extra) if extra else None,
    }
    return MappedOrder(row, lines, refunds, refund_lines)


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
