"""Settings of one Shopify shop connection (the token is a SecretStr, never printed)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


class ShopifySettings(BaseModel):
    """Where the shop is, how to authenticate and how large each GraphQL page is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shop: str = Field(description="The shop's myshopify domain, e.g. acme.myshopify.com.")
    token: SecretStr = Field(description="Admin API access token (X-Shopify-Access-Token).")
    api_version: str = Field(default="2026-10", description="Admin API version, YYYY-MM.")
    base_url: str | None = Field(
        default=None, description="Override of https://{shop}, e.g. a loopback sandbox."
    )
    # Shopify refuses a query whose requested cost exceeds 1000 points (2 + first x node cost
    # per connection), so nested sizes decide how many orders fit in one query: with 10 lines,
    # 2 refunds and 5 refund lines an order costs about 290. The client shrinks the orders page
    # on MAX_COST_EXCEEDED and fetches whatever a nested page cut off with follow-up queries.
    orders_page_size: int = Field(default=50, ge=1, le=250)
    line_items_page_size: int = Field(default=10, ge=1, le=250)
    refunds_page_size: int = Field(default=2, ge=1, le=250, description="refunds(first:)")
    refund_lines_page_size: int = Field(default=5, ge=1, le=250)
    customers_page_size: int = Field(default=250, ge=1, le=250)
    variants_page_size: int = Field(default=100, ge=1, le=250)
    inventory_levels_page_size: int = Field(default=10, ge=1, le=250)
    lookback_days: int = Field(default=2, ge=0)
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request.")
    prefetch_pages: bool = Field(
        default=True, description="Request the next page while the current one is processed.")
    prefetch_depth: int = Field(
        default=2, ge=1, le=64, description="At most this many pages fetched ahead (prefetch).")
    page_workers: int = Field(
        default=0, ge=0, le=16,
        description="Worker processes that validate and map order pages (0: this process "
                    "does it all). Reading in one process is bound by one core; on two cores, "
                    "2 workers read 15 to 25 % more orders per second (docs/performance.md).")
    page_workers_after: int = Field(
        default=10_000, ge=0,
        description="Orders read in this process before the page workers start (counted in "
                    "full pages). Starting them costs about a second of CPU, more than they "
                    "save on a short sync, so a sync of fewer orders never starts them.")

    @field_validator("shop")
    @classmethod
    def _check_shop(cls, value: str) -> str:
        value = value.strip().lower().removeprefix("https://").rstrip("/")
        if not _SHOP.match(value):
            raise ValueError("must be the shop's myshopify domain, e.g. acme.myshopify.com")
        return value

    @field_validator("api_version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError("must be a Shopify API version such as 2026-10")
        return value

    @property
    def endpoint_base(self) -> str:
        """The scheme and host requests go to."""
        return (self.base_url or f"https://{self.shop}").rstrip("/")

    @property
    def graphql_path(self) -> str:
        """Path of the Admin GraphQL endpoint for the pinned version."""
        return f"/admin/api/{self.api_version}/graphql.json"
