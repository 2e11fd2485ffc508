"""Shopify Admin GraphQL source: orders, customers, products and inventory levels."""

from __future__ import annotations

from ondigital_connect.sources.shopify.settings import ShopifySettings
from ondigital_connect.sources.shopify.source import ShopifySource

__all__ = ["ShopifySettings", "ShopifySource"]
