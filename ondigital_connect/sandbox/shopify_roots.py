"""The QueryRoot fields the sandbox serves: single objects by gid and keyset-paged connections."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ondigital_connect.sandbox.shopify_data import (
    Bound,
    CursorError,
    Page,
    Table,
    decode_cursor,
    parse_search,
)
from ondigital_connect.sandbox.shopify_values import Env

_PAGING = ("first", "after", "last", "before", "reverse")


@dataclass(frozen=True, slots=True)
class RootDef:
    """One root field: an object found by id, or a connection over a :class:`Table`."""

    kind: str  # "object" | "connection"
    type: str
    args: tuple[str, ...]
    resolve: Callable[..., Any] | None = None  # object: (env, args, where, at) -> source
    table: Callable[[Env], Table] | None = None
    fetch: Callable[[Env, Table, np.ndarray], list] | None = None
    sort_keys: frozenset[str] = frozenset({"ID"})
    default_sort: str = "ID"


class RootFailure(Exception):
    """A root field could not be resolved (bad id, bad cursor, unsupported sort)."""

    def __init__(self, message: str, where: list, at: list, code: str | None = None) -> None:
        super().__init__(message)
        self.error: dict[str, Any] = {"message": message, "locations": where, "path": at}
        if code:
            self.error["extensions"] = {"code": code}


@functools.lru_cache(maxsize=256)
def _bounds(query: str | None) -> tuple[Bound, ...]:
    return parse_search(query)


def gid_number(value: Any, kind: str, where: list, at: list) -> int:
    """The number in ``gid://shopify/{kind}/{n}`` (a query string after it is ignored)."""
    prefix = f"gid://shopify/{kind}/"
    if isinstance(value, str) and value.startswith(prefix):
        digits = value[len(prefix):].split("?", 1)[0]
        if digits.isdigit():
            return int(digits)
    raise RootFailure(f"Invalid global id '{value}'", where, at, "argumentLiteralsIncompatible")


def page_of_root(root: RootDef, env: Env, args: dict, where: list,
                 at: list) -> tuple[list, Page]:
    """The items of one page of a root connection and the page (cursors, pageInfo)."""
    sort = args.get("sortKey") or root.default_sort
    if sort not in root.sort_keys:
        raise RootFailure(f"The sandbox does not sort {at[-1]} by {sort}; use one of "
                          f"{sorted(root.sort_keys)}.", where, at)
    after = args.get("after")
    try:
        key = decode_cursor(after) if after else None
    except CursorError:
        raise RootFailure("Invalid cursor for current pagination sort.", where, at) from None
    table = root.table(env)
    view = table.view(sort, _bounds(args.get("query")))
    page = view.page(args["first"], key, reverse=bool(args.get("reverse")),
                     repeat_cursor_row=env.repeat_cursor_row)
    return root.fetch(env, table, page.rows), page


def _order(env: Env, args: dict, where: list, at: list) -> Any:
    row = env.store.order_row(gid_number(args.get("id"), "Order", where, at))
    if row is None:
        return None
    return env.overrides.serve(env.store.orders_at([row], env.as_of)[0])


def _refund(env: Env, args: dict, where: list, at: list) -> Any:
    refund_id = gid_number(args.get("id"), "Refund", where, at)
    row = env.store.refund_row(refund_id)
    order = None if row is None else env.overrides.serve(
        env.store.orders_at([row], env.as_of)[0])
    for refund in order.refunds if order is not None else ():
        if refund.refund_id == refund_id:
            return (order, refund)
    return None


def _by_id(kind: str, lookup: Callable[[Env, int], Any]) -> Callable[..., Any]:
    def resolve(env: Env, args: dict, where: list, at: list) -> Any:
        return lookup(env, gid_number(args.get("id"), kind, where, at))
    return resolve


def _fetch_orders(env: Env, table: Table, rows: np.ndarray) -> list:
    orders = env.store.orders_at(rows.tolist(), env.as_of)
    if env.overrides.active:
        return [env.overrides.serve(order) for order in orders]
    return orders


def _fetch_customers(env: Env, table: Table, rows: np.ndarray) -> list:
    customer = env.store.business.customer
    return [customer(cid, as_of=env.as_of) for cid in table.ids[rows].tolist()]


def _fetch_products(env: Env, table: Table, rows: np.ndarray) -> list:
    return [env.store.products[row] for row in rows.tolist()]


def _fetch_locations(env: Env, table: Table, rows: np.ndarray) -> list:
    return [env.store.locations[row] for row in rows.tolist()]


ROOT: dict[str, RootDef] = {
    "shop": RootDef("object", "Shop", (), resolve=lambda env, args, where, at: env.shop),
    "order": RootDef("object", "Order", ("id",), resolve=_order),
    "refund": RootDef("object", "Refund", ("id",), resolve=_refund),
    "customer": RootDef("object", "Customer", ("id",), resolve=_by_id(
        "Customer", lambda env, n: env.store.business.customer(n, as_of=env.as_of))),
    "productVariant": RootDef("object", "ProductVariant", ("id",), resolve=_by_id(
        "ProductVariant", lambda env, n: env.store.variant_by_id.get(n))),
    "inventoryItem": RootDef("object", "InventoryItem", ("id",), resolve=_by_id(
        "InventoryItem", lambda env, n: env.store.item_by_id.get(n))),
    "location": RootDef("object", "Location", ("id",), resolve=_by_id(
        "Location", lambda env, n: env.store.location_by_id.get(n))),
    "orders": RootDef(
        "connection", "Order", (*_PAGING, "query", "sortKey", "savedSearchId"),
        table=lambda env: env.store.orders(env.as_of), fetch=_fetch_orders,
        sort_keys=frozenset({"UPDATED_AT", "CREATED_AT", "ID"})),
    "customers": RootDef(
        "connection", "Customer", (*_PAGING, "query", "sortKey"),
        table=lambda env: env.store.customers(env.as_of), fetch=_fetch_customers,
        sort_keys=frozenset({"UPDATED_AT", "CREATED_AT", "ID"})),
    "productVariants": RootDef(
        "connection", "ProductVariant", (*_PAGING, "query", "sortKey", "savedSearchId"),
        table=lambda env: env.store.variants, fetch=_fetch_products),
    "inventoryItems": RootDef(
        "connection", "InventoryItem", (*_PAGING, "query"),
        table=lambda env: env.store.items, fetch=_fetch_products),
    "locations": RootDef(
        "connection", "Location",
        (*_PAGING, "query", "sortKey", "includeInactive", "includeLegacy"),
        table=lambda env: env.store.location_table, fetch=_fetch_locations),
}


def position_after(items: list, key_of: Callable[[Any], int], cursor: str,
                   where: list, at: list) -> int:
    """Index after the item a nested-connection cursor points at."""
    try:
        _, last_id = decode_cursor(cursor)
    except CursorError:
        last_id = None
    for i, item in enumerate(items):
        if key_of(item) == last_id:
            return i + 1
    raise RootFailure("Invalid cursor for current pagination sort.", where, at)


def connection_builder(parts: tuple) -> Callable[..., dict]:
    """Builds a connection dict (edges/nodes/pageInfo as selected) from one page of items."""
    def build(items: list, cursor_of: Callable[[int], str], has_next: bool, has_prev: bool,
              env: Env) -> dict:
        out: dict[str, Any] = {}
        for key, kind, detail in parts:
            if kind == "nodes":
                out[key] = [detail(item, env) for item in items]
            elif kind == "edges":
                out[key] = [_edge(detail, item, i, cursor_of, env)
                            for i, item in enumerate(items)]
            elif kind == "pageInfo":
                out[key] = _page_info(detail, items, cursor_of, has_next, has_prev)
            else:
                out[key] = detail
        return out
    return build


def _edge(detail: tuple, item: Any, i: int, cursor_of: Callable[[int], str], env: Env) -> dict:
    out = {}
    for key, kind, sub in detail:
        if kind == "node":
            out[key] = sub(item, env)
        elif kind == "cursor":
            out[key] = cursor_of(i)
        else:
            out[key] = sub
    return out


def _page_info(detail: tuple, items: list, cursor_of: Callable[[int], str], has_next: bool,
               has_prev: bool) -> dict:
    out: dict[str, Any] = {}
    for key, name in detail:
        if name == "hasNextPage":
            out[key] = has_next
        elif name == "hasPreviousPage":
            out[key] = has_prev
        elif name == "startCursor":
            out[key] = cursor_of(0) if len(items) else None
        elif name == "endCursor":
            out[key] = cursor_of(len(items) - 1) if len(items) else None
        else:
            out[key] = "PageInfo"
    return out
