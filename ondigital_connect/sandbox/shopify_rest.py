"""The legacy REST ``orders.json`` over the same simulated orders (for the dlt comparison)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import orjson

from ondigital_connect.sandbox.shopify_data import Bound, View
from ondigital_connect.sandbox.shopify_values import Env, gid

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
_US = 1_000_000
_FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}


def money2(amount: Decimal) -> str:
    """REST money strings keep two decimals: ``"1249.00"``."""
    return f"{amount:.2f}"


def _bag(shop: Decimal, shop_ccy: str, presentment: Decimal, presentment_ccy: str) -> dict:
    return {"shop_money": {"amount": money2(shop), "currency_code": shop_ccy},
            "presentment_money": {"amount": money2(presentment), "currency_code": presentment_ccy}}


class RestRequestError(ValueError):
    """A parameter Shopify would reject with 400."""


def _local(when: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return None if when is None else when.astimezone(tz).isoformat(timespec="seconds")


def _landing_site(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _line(o: Any, line: Any, vat: Decimal) -> dict:
    sc, pc = o.shop_currency, o.presentment_currency
    return {
        "id": line.line_id, "admin_graphql_api_id": gid("LineItem", line.line_id),
        "sku": line.sku, "title": line.title, "name": line.title, "quantity": line.quantity,
        "price": money2(line.unit_price_shop),
        "price_set": _bag(line.unit_price_shop, sc, line.unit_price_presentment, pc),
        "product_id": line.product_id, "variant_id": line.variant_id,
        "total_discount": money2(line.discount_shop),
        "total_discount_set": _bag(line.discount_shop, sc, line.discount_presentment, pc),
        "tax_lines": [{"title": "VAT", "rate": float(vat), "price": money2(line.tax_shop),
                       "price_set": _bag(line.tax_shop, sc, line.tax_presentment, pc)}],
    }


def _refund(o: Any, refund: Any, tz: ZoneInfo) -> dict:
    sc, pc = o.shop_currency, o.presentment_currency
    lines = [{
        "id": rl.refund_line_id, "line_item_id": rl.line_id, "quantity": rl.quantity,
        "subtotal": float(rl.subtotal_shop), "total_tax": float(rl.tax_shop),
        "subtotal_set": _bag(rl.subtotal_shop, sc, rl.subtotal_presentment, pc),
        "total_tax_set": _bag(rl.tax_shop, sc, rl.tax_presentment, pc),
    } for rl in refund.lines]
    adjustments = [{
        "id": refund.refund_id, "order_id": o.order_id, "refund_id": refund.refund_id,
        "kind": "shipping_refund", "reason": "Shipping refund",
        "amount": money2(-refund.shipping_shop), "tax_amount": "0.00",
        "amount_set": _bag(-refund.shipping_shop, sc, -refund.shipping_presentment, pc),
    }] if refund.shipping_shop else []
    return {
        "id": refund.refund_id, "admin_graphql_api_id": gid("Refund", refund.refund_id),
        "order_id": o.order_id, "created_at": _local(refund.created_at, tz),
        "processed_at": _local(refund.created_at, tz), "note": refund.note,
        "refund_line_items": lines, "order_adjustments": adjustments,
    }


def rest_order(o: Any, env: Env, tz: ZoneInfo) -> dict:
    """One order in the REST Admin API's shape (shop-local timestamps, 2-decimal strings)."""
    sc, pc = o.shop_currency, o.presentment_currency
    market = env.store.markets.get(o.market)
    vat = market.vat_rate if market is not None else Decimal(0)
    name = o.name.lstrip("#")
    return {
        "id": o.order_id, "admin_graphql_api_id": gid("Order", o.order_id), "name": o.name,
        "order_number": int(name) if name.isdigit() else None, "email": o.customer_email,
        "created_at": _local(o.created_at, tz), "updated_at": _local(o.updated_at, tz),
        "processed_at": _local(o.processed_at, tz), "cancelled_at": _local(o.cancelled_at, tz),
        "cancel_reason": o.cancel_reason.lower() if o.cancel_reason else None,
        "currency": sc, "presentment_currency": pc,
        "total_price": money2(o.total_shop), "subtotal_price": money2(o.subtotal_shop),
        "total_tax": money2(o.tax_shop), "total_discounts": money2(o.discounts_shop),
        "total_price_set": _bag(o.total_shop, sc, o.total_presentment, pc),
        "subtotal_price_set": _bag(o.subtotal_shop, sc, o.subtotal_presentment, pc),
        "total_tax_set": _bag(o.tax_shop, sc, o.tax_presentment, pc),
        "total_discounts_set": _bag(o.discounts_shop, sc, o.discounts_presentment, pc),
        "total_shipping_price_set": _bag(o.shipping_shop, sc, o.shipping_presentment, pc),
        "financial_status": o.financial_status.lower(),
        "fulfillment_status": _FULFILLMENT.get(o.fulfillment_status),
        "test": o.test, "source_name": o.source_name,
        "landing_site": _landing_site(o.landing_page), "referring_site": o.referrer,
        "customer": {"id": o.customer_id, "email": o.customer_email,
                     "admin_graphql_api_id": gid("Customer", o.customer_id)}
        if o.customer_id else None,
        "shipping_address": {"country_code": o.country_code},
        "line_items": [_line(o, line, vat) for line in o.lines],
        "refunds": [_refund(o, refund, tz) for refund in o.refunds],
    }


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def _decode(token: str) -> dict:
    try:
        state = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError) as exc:
        raise RestRequestError("page_info is invalid") from exc
    if not isinstance(state, dict) or "k" not in state:
        raise RestRequestError("page_info is invalid")
    return state


def _time_us(text: str, *, upper: bool) -> int:
    try:
        value = dt.datetime.fromisoformat(text.replace(" ", "+"))
    except ValueError as exc:
        raise RestRequestError(f"{text!r} is not a date") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    seconds = int(value.timestamp() // 1)
    return (seconds + 1) * _US if upper else seconds * _US


def _filters(params: dict[str, str]) -> dict:
    """The filter state of a first-page request (what page_info carries afterwards)."""
    state: dict[str, Any] = {"s": params.get("status", "open")}
    for field in ("updated_at", "created_at"):
        lo, hi = params.get(f"{field}_min"), params.get(f"{field}_max")
        state[field] = [None if lo is None else _time_us(lo, upper=False),
                        None if hi is None else _time_us(hi, upper=True)]
    return state


def _limit(params: dict[str, str]) -> int:
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise RestRequestError("limit must be an integer") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise RestRequestError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _status_ok(o: Any, status: str) -> bool:
    if status == "open":
        return o.cancelled_at is None
    if status == "cancelled":
        return o.cancelled_at is not None
    return True


def orders_page(env: Env, params: dict[str, str], link_base: str) -> tuple[dict, str | None]:
    """``{"orders": [...]}`` for one request and its ``Link`` header (None when single page)."""
    limit = _limit(params)
    token = params.get("page_info")
    state = _decode(token) if token else {**_filters(params), "k": None, "d": "n"}
    bounds = tuple(Bound(f, *state[f]) for f in ("created_at", "updated_at")
                   if state[f][0] is not None or state[f][1] is not None)
    view = env.store.orders(env.as_of).view("UPDATED_AT", bounds)
    start, end = _window(view, state, limit)
    rows = view.rows[start:end].tolist()
    tz = ZoneInfo(env.shop.timezone)
    orders = [env.overrides.serve(o) for o in env.store.orders_at(rows, env.as_of)]
    wanted = [o for o in orders if o is not None and _status_ok(o, state["s"])]
    fields = [f for f in params.get("fields", "").split(",") if f]
    payload = [rest_order(o, env, tz) for o in wanted]
    if fields:
        payload = [{k: v for k, v in order.items() if k in fields} for order in payload]
    links = []
    keep = {k: v for k, v in state.items() if k not in ("k", "d")}
    if start > 0:
        prev = {**keep, "k": [int(view.k1[start]), int(view.k2[start])], "d": "p"}
        links.append(f'<{link_base}?limit={limit}&page_info={_encode(prev)}>; rel="previous"')
    if end < len(view):
        nxt = {**keep, "k": [int(view.k1[end - 1]), int(view.k2[end - 1])], "d": "n"}
        links.append(f'<{link_base}?limit={limit}&page_info={_encode(nxt)}>; rel="next"')
    return {"orders": payload}, ", ".join(links) or None


def _window(view: View, state: dict, limit: int) -> tuple[int, int]:
    key = state.get("k")
    if key is None:
        return 0, min(len(view), limit)
    if state.get("d") == "p":
        end = view.count_before((key[0], key[1]), inclusive=False)
        return max(0, end - limit), end
    start = view.count_before((key[0], key[1]), inclusive=True)
    return start, min(len(view), start + limit)
