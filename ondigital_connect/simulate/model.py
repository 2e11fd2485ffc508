"""Values of the simulated business: plain frozen dataclasses, vendor-neutral.

Money is Decimal with two decimals. ``*_shop`` amounts are in the shop currency (SEK by
default); ``*_presentment`` amounts are in the market's currency (what the buyer saw).
All datetimes are timezone-aware UTC. Sandboxes render these values in each vendor's shapes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Market:
    """A market: country code, its currency, VAT rate and weight in the order mix."""

    code: str  # "SE", "NO", "DK", "FI"
    currency: str  # "SEK", "NOK", "DKK", "EUR"
    vat_rate: Decimal  # e.g. Decimal("0.25")
    weight: float  # share of orders
    shipping_fee_presentment: Decimal  # flat fee in market currency when not free


@dataclass(frozen=True, slots=True)
class SimProduct:
    """One variant of the catalogue with its price (shop currency, incl. VAT) and unit cost."""

    product_id: int
    variant_id: int
    inventory_item_id: int
    sku: str
    title: str
    variant_title: str
    category: str
    brand: str
    price_shop: Decimal
    unit_cost_shop: Decimal
    stock: int  # on hand at the simulation's "now"
    created_at: dt.datetime
    updated_at: dt.datetime
    status: str  # "ACTIVE" | "ARCHIVED" | "DRAFT"


@dataclass(frozen=True, slots=True)
class Campaign:
    """A marketing campaign whose UTMs and landing pages orders are drawn from."""

    utm_source: str
    utm_medium: str
    utm_campaign: str
    landing_path: str
    click_param: str | None  # "gclid", "fbclid", "msclkid", "ttclid" or None
    weight: float


@dataclass(frozen=True, slots=True)
class SimLine:
    """One order line. Prices in shop currency incl. VAT; ``discount_*`` is the line total."""

    line_id: int
    product_id: int
    variant_id: int
    sku: str
    title: str
    category: str
    quantity: int
    unit_price_shop: Decimal
    unit_price_presentment: Decimal
    discount_shop: Decimal
    discount_presentment: Decimal
    tax_shop: Decimal
    tax_presentment: Decimal
    unit_cost_shop: Decimal


@dataclass(frozen=True, slots=True)
class SimRefundLine:
    """A refunded quantity of one line with its amounts (shop and presentment)."""

    refund_line_id: int
    line_id: int
    sku: str
    quantity: int
    subtotal_shop: Decimal
    subtotal_presentment: Decimal
    tax_shop: Decimal
    tax_presentment: Decimal


@dataclass(frozen=True, slots=True)
class SimRefund:
    """A refund, created days or weeks after its order."""

    refund_id: int
    created_at: dt.datetime
    lines: tuple[SimRefundLine, ...]
    shipping_shop: Decimal
    shipping_presentment: Decimal
    total_shop: Decimal  # goods subtotal + their tax + shipping refunded
    total_presentment: Decimal
    note: str | None


@dataclass(frozen=True, slots=True)
class SimOrder:
    """One order as the shop holds it *now* (refunds up to the simulation's now included)."""

    index: int  # position in creation order, 0-based
    order_id: int
    name: str  # "#1001"
    created_at: dt.datetime
    processed_at: dt.datetime
    updated_at: dt.datetime  # the latest change (creation, fulfilment, refund, cancellation)
    cancelled_at: dt.datetime | None
    cancel_reason: str | None
    test: bool
    source_name: str  # "web" | "pos" | "shopify_draft_order"
    market: str  # market code
    shop_currency: str
    presentment_currency: str
    fx_rate: Decimal  # shop currency per 1 presentment unit on the order date
    lines: tuple[SimLine, ...]
    refunds: tuple[SimRefund, ...]
    subtotal_shop: Decimal  # sum(unit_price*qty) - discounts (Shopify's subtotalPrice)
    subtotal_presentment: Decimal
    discounts_shop: Decimal
    discounts_presentment: Decimal
    shipping_shop: Decimal
    shipping_presentment: Decimal
    tax_shop: Decimal
    tax_presentment: Decimal
    total_shop: Decimal  # subtotal + shipping (prices incl. VAT)
    total_presentment: Decimal
    refunded_shop: Decimal
    refunded_presentment: Decimal
    financial_status: str  # PAID, PARTIALLY_REFUNDED, REFUNDED, PENDING, VOIDED
    fulfillment_status: str  # FULFILLED, UNFULFILLED, PARTIALLY_FULFILLED
    customer_id: int | None
    customer_email: str | None
    country_code: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    landing_page: str | None  # full URL with query string (utm_*, click id)
    referrer: str | None
    attribution_ready: bool


@dataclass(frozen=True, slots=True)
class SimCustomer:
    """A customer: created with their first order; may come back for more."""

    customer_id: int
    email: str
    first_name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    country_code: str
    accepts_marketing: bool
    number_of_orders: int  # as the vendor reports it now (includes later orders)


@dataclass(frozen=True, slots=True)
class SimInventoryLevel:
    """Stock of one variant at one location, as of the simulation's now."""

    inventory_item_id: int
    variant_id: int
    sku: str
    location_id: int
    location_name: str
    on_hand: int
    available: int
    unit_cost_shop: Decimal
