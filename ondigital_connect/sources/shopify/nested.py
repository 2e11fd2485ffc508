"""Nested connections a page cut off (lines, refunds, refund lines, stock levels): fetch, merge.

A page node may be *typed* (already validated, flat) or *raw* (JSON as sent). Both keep the
connection keys (``lineItems``, ``refunds``, ``refundLineItems``...), so the same code finds
what is missing; :meth:`Nested.apply` merges it into either form (validating it for typed nodes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from ondigital_connect.errors import MalformedResponse, RecordValidationError
from ondigital_connect.sources.shopify import payloads as p
from ondigital_connect.sources.shopify import queries as q
from ondigital_connect.sources.shopify.graphql import GraphQLClient, next_cursor

#: Page size of follow-up queries (50 line items cost about 650 of Shopify's 1000 points).
FOLLOW_UP_PAGE = 50
#: Orders whose refunds are re-read in one aliased query.
REFUND_BATCH = 10
_DONE = {"hasNextPage": False, "endCursor": None}

#: connection field -> (follow-up query, path of the connection in its reply, typed validator)
_FOLLOW_UPS: dict[str, tuple[str, tuple[str, ...], TypeAdapter[Any]]] = {
    "lineItems": (q.ORDER_LINE_ITEMS, ("order", "lineItems"), TypeAdapter(list[p.LineItem])),
    "refundLineItems": (q.REFUND_LINE_ITEMS, ("refund", "refundLineItems"),
                        TypeAdapter(list[p.RefundLineItem])),
    "refundShippingLines": (q.REFUND_SHIPPING_LINES, ("refund", "refundShippingLines"),
                            TypeAdapter(list[p.RefundShippingLine])),
    "inventoryLevels": (q.INVENTORY_LEVELS, ("inventoryItem", "inventoryLevels"),
                        TypeAdapter(list[p.InventoryLevel])),
}
_REFUNDS = TypeAdapter(list[p.Refund])


def has_next(conn: Any) -> bool:
    """True when ``conn`` is a connection whose ``pageInfo`` says more pages follow."""
    return (isinstance(conn, dict) and isinstance(conn.get("pageInfo"), dict)
            and conn["pageInfo"].get("hasNextPage") is True)


@dataclass(slots=True)
class Missing:
    """Raw data a page left out, for one root node."""

    refunds: Any = None  # the order's full raw refunds list, when it was re-read
    nodes: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (owner, field)
    vanished: str | None = None  # why the node cannot be completed


def _refunds_of(node: dict[str, Any]) -> list[dict[str, Any]]:
    refunds = node.get("refunds")
    return [r for r in refunds if isinstance(r, dict)] if isinstance(refunds, list) else []


def _levels(node: dict[str, Any], typed: bool) -> tuple[Any, Any]:
    """(inventory item id, its inventoryLevels connection) of a typed or raw variant node."""
    if typed:
        return node.get("inventory_item_id"), node.get("levels")
    item = node.get("inventoryItem")
    return (item.get("id"), item.get("inventoryLevels")) if isinstance(item, dict) else (None,
                                                                                         None)


class Nested:
    """Finds and fetches the rest of nested connections through a GraphQL client."""

    def __init__(self, gql: GraphQLClient, *, refunds_first: int, refund_lines_first: int) -> None:
        self.gql = gql
        self.refunds_first = refunds_first
        self.refund_lines_first = refund_lines_first

    # -- orders ---------------------------------------------------------------------------

    def full_refunds(self, node: dict[str, Any]) -> bool:
        """``refunds(first: R)`` returned R refunds: there may be more."""
        refunds = node.get("refunds")
        return isinstance(refunds, list) and len(refunds) >= self.refunds_first

    def order_needs_more(self, node: Any) -> bool:
        """Whether the page cut off any of this order's nested connections."""
        if not isinstance(node, dict):
            return False
        if has_next(node.get("lineItems")) or self.full_refunds(node):
            return True
        return bool(node.get("refunds")) and any(
            has_next(r.get("refundLineItems")) or has_next(r.get("refundShippingLines"))
            for r in _refunds_of(node))

    def fetch_orders(self, nodes: list[dict[str, Any]]) -> list[Missing]:
        """What each of ``nodes`` is missing (refunds re-read in batches of REFUND_BATCH)."""
        ids = [n.get("id") for n in nodes if self.full_refunds(n) and isinstance(n.get("id"), str)]
        refunds = self._all_refunds(ids)
        return [self._order_missing(n, refunds) for n in nodes]

    def _all_refunds(self, ids: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for start in range(0, len(ids), REFUND_BATCH):
            chunk = ids[start:start + REFUND_BATCH]
            variables: dict[str, Any] = {f"id{i}": gid for i, gid in enumerate(chunk)}
            variables["refundLines"] = self.refund_lines_first
            data = self.gql.data(q.order_refunds(len(chunk)), variables)
            for i, gid in enumerate(chunk):
                order = data.get(f"o{i}")
                found[gid] = order.get("refunds") if isinstance(order, dict) else None
        return found

    def _order_missing(self, node: dict[str, Any], refunds: dict[str, Any]) -> Missing:
        missing = Missing()
        order_id = node.get("id")
        if order_id in refunds:
            missing.refunds = refunds[order_id]
            if missing.refunds is None:
                missing.vanished = f"order {order_id} vanished while re-reading its refunds"
                return missing
        self._rest(missing, order_id, "lineItems", node.get("lineItems"))
        listed = missing.refunds if missing.refunds is not None else node.get("refunds")
        for refund in listed if isinstance(listed, list) else ():
            if isinstance(refund, dict):
                for name in ("refundLineItems", "refundShippingLines"):
                    self._rest(missing, refund.get("id"), name, refund.get(name))
        return missing

    # -- inventory ------------------------------------------------------------------------

    def stock_needs_more(self, node: Any, typed: bool) -> bool:
        """Whether the page cut off this variant's inventory levels."""
        return isinstance(node, dict) and has_next(_levels(node, typed)[1])

    def fetch_stock(self, node: dict[str, Any], typed: bool) -> Missing:
        """The inventory levels of ``node`` the page left out."""
        missing = Missing()
        item_id, conn = _levels(node, typed)
        self._rest(missing, item_id, "inventoryLevels", conn)
        return missing

    # -- fetching and merging -------------------------------------------------------------

    def _rest(self, missing: Missing, owner: Any, name: str, conn: Any) -> None:
        if missing.vanished or not has_next(conn) or not isinstance(owner, str):
            return
        query, path, _ = _FOLLOW_UPS[name]
        nodes: list[Any] = []
        try:
            for page in self.gql.connection(query, {"id": owner}, path, first=FOLLOW_UP_PAGE,
                                            after=next_cursor(conn, path)):
                nodes += page.get("nodes") or []
        except MalformedResponse:
            missing.vanished = f"{name}: {owner} vanished while fetching its next page"
            return
        missing.nodes[(owner, name)] = nodes

    def apply(self, node: dict[str, Any], missing: Missing, *, typed: bool) -> dict[str, Any]:
        """Merge ``missing`` into ``node``; typed nodes get validated parts (ValidationError)."""
        if missing.vanished:
            raise RecordValidationError(missing.vanished)
        if missing.refunds is not None:
            node["refunds"] = (_REFUNDS.validate_python(missing.refunds) if typed
                               else missing.refunds)
        owners: dict[str, dict[str, Any]] = {str(node.get("id")): node}
        for refund in _refunds_of(node):
            owners[str(refund.get("id"))] = refund
        for (owner, name), extra in missing.nodes.items():
            if name == "inventoryLevels":
                conn = _levels(node, typed)[1]
            else:
                holder = owners.get(owner)
                conn = holder.get(name) if holder is not None else None
            if isinstance(conn, dict) and isinstance(conn.get("nodes"), list):
                conn["nodes"] = conn["nodes"] + (
                    _FOLLOW_UPS[name][2].validate_python(extra) if typed else extra)
                conn["pageInfo"] = dict(_DONE)
        return node
