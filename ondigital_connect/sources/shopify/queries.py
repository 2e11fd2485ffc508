"""GraphQL documents sent to the Shopify Admin API (checked against the 2026-10 schema in tests)."""

from __future__ import annotations

import functools

MONEY_BAG = """
fragment MoneyBagFields on MoneyBag {
  shopMoney { amount currencyCode }
  presentmentMoney { amount currencyCode }
}
"""

LINE_ITEM = """
fragment LineItemFields on LineItem {
  id sku name quantity
  originalUnitPriceSet { ...MoneyBagFields }
  totalDiscountSet { shopMoney { amount currencyCode } }
  taxLines { priceSet { shopMoney { amount currencyCode } } }
  product { id productType }
  variant { id inventoryItem { unitCost { amount currencyCode } } }
}
"""

REFUND_LINE = """
fragment RefundLineFields on RefundLineItem {
  id quantity
  lineItem { id sku }
  subtotalSet { shopMoney { amount currencyCode } }
  totalTaxSet { shopMoney { amount currencyCode } }
}
"""

REFUND_SHIPPING_LINE = """
fragment RefundShippingFields on RefundShippingLine {
  subtotalAmountSet { shopMoney { amount currencyCode } }
  taxAmountSet { shopMoney { amount currencyCode } }
}
"""

REFUND = """
fragment RefundFields on Refund {
  id createdAt
  totalRefundedSet { ...MoneyBagFields }
  refundShippingLines(first: $refundLines) {
    pageInfo { hasNextPage endCursor }
    nodes { ...RefundShippingFields }
  }
  refundLineItems(first: $refundLines) {
    pageInfo { hasNextPage endCursor }
    nodes { ...RefundLineFields }
  }
}
"""

ORDER = """
fragment OrderFields on Order {
  id name createdAt processedAt updatedAt cancelledAt cancelReason test sourceName
  currencyCode presentmentCurrencyCode displayFinancialStatus displayFulfillmentStatus
  taxesIncluded
  totalDiscountsSet { ...MoneyBagFields }
  totalShippingPriceSet { ...MoneyBagFields }
  totalTaxSet { ...MoneyBagFields }
  totalPriceSet { ...MoneyBagFields }
  totalRefundedSet { ...MoneyBagFields }
  customer { id }
  shippingAddress { countryCodeV2 }
  fulfillments(first: 5) { displayStatus }
  customerJourneySummary {
    ready
    firstVisit {
      landingPage referrerUrl source
      utmParameters { source medium campaign content term }
    }
  }
  lineItems(first: $lines) {
    pageInfo { hasNextPage endCursor }
    nodes { ...LineItemFields }
  }
  refunds(first: $refunds) { ...RefundFields }
}
"""

_ORDER_FRAGMENTS = ORDER + REFUND + REFUND_LINE + REFUND_SHIPPING_LINE + LINE_ITEM + MONEY_BAG

SHOP = """
query Shop {
  shop { myshopifyDomain ianaTimezone currencyCode }
}
"""

ORDERS = """
query Orders($first: Int!, $after: String, $query: String,
             $lines: Int!, $refunds: Int!, $refundLines: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
""" + _ORDER_FRAGMENTS

ORDER_LINE_ITEMS = """
query OrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...LineItemFields }
    }
  }
}
""" + LINE_ITEM + MONEY_BAG



@functools.lru_cache(maxsize=32)
def order_refunds(count: int) -> str:
    """Every refund of ``count`` orders in one query: ``o0: order(id: $id0) { ... }``..."""
    ids = ", ".join(f"$id{i}: ID!" for i in range(count))
    roots = "\n".join(f"  o{i}: order(id: $id{i}) {{ id refunds {{ ...RefundFields }} }}"
                      for i in range(count))
    return (f"query OrderRefunds({ids}, $refundLines: Int!) {{\n{roots}\n}}\n"
            + REFUND + REFUND_LINE + REFUND_SHIPPING_LINE + MONEY_BAG)


REFUND_LINE_ITEMS = """
query RefundLineItems($id: ID!, $first: Int!, $after: String) {
  refund(id: $id) {
    refundLineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...RefundLineFields }
    }
  }
}
""" + REFUND_LINE

REFUND_SHIPPING_LINES = """
query RefundShippingLines($id: ID!, $first: Int!, $after: String) {
  refund(id: $id) {
    refundShippingLines(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...RefundShippingFields }
    }
  }
}
""" + REFUND_SHIPPING_LINE

CUSTOMERS = """
query Customers($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id createdAt updatedAt numberOfOrders
      defaultAddress { countryCodeV2 }
      emailMarketingConsent { marketingState }
    }
  }
}
"""

PRODUCT_VARIANTS = """
query ProductVariants($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku title price createdAt updatedAt
      product { id title productType vendor status createdAt updatedAt }
      inventoryItem { id unitCost { amount currencyCode } }
    }
  }
}
"""

INVENTORY_LEVEL = """
fragment InventoryLevelFields on InventoryLevel {
  location { id name }
  quantities(names: ["available", "on_hand"]) { name quantity }
}
"""

INVENTORY = """
query Inventory($first: Int!, $after: String, $levels: Int!) {
  productVariants(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku updatedAt
      inventoryItem {
        id unitCost { amount currencyCode }
        inventoryLevels(first: $levels) {
          pageInfo { hasNextPage endCursor }
          nodes { ...InventoryLevelFields }
        }
      }
    }
  }
}
""" + INVENTORY_LEVEL

INVENTORY_LEVELS = """
query InventoryLevels($id: ID!, $first: Int!, $after: String) {
  inventoryItem(id: $id) {
    inventoryLevels(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...InventoryLevelFields }
    }
  }
}
""" + INVENTORY_LEVEL

#: Every document, by name, for the schema test.
ALL: dict[str, str] = {
    "Shop": SHOP,
    "Orders": ORDERS,
    "OrderLineItems": ORDER_LINE_ITEMS,
    "OrderRefunds": order_refunds(3),
    "RefundLineItems": REFUND_LINE_ITEMS,
    "RefundShippingLines": REFUND_SHIPPING_LINES,
    "Customers": CUSTOMERS,
    "ProductVariants": PRODUCT_VARIANTS,
    "Inventory": INVENTORY,
    "InventoryLevels": INVENTORY_LEVELS,
}
