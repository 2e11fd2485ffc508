"""Canonical models: one pydantic model per warehouse table (ARCHITECTURE.md section 3).

Money is ``Decimal`` beside its currency; timestamps are UTC ``datetime``; report dates are
plain ``date`` in the account's own time zone (named in a ``*_timezone`` column). Keys are
strings built from source, account and vendor id (see :func:`make_key`), so two shops never
collide. ``_synced_at`` and ``_run_id`` are stamped by the sync engine.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def make_key(source: str, account_id: str, *parts: object) -> str:
    """Build a warehouse key such as ``shopify:acme.myshopify.com:5501``."""
    return ":".join([source, account_id, *(str(p) for p in parts)])


class Canonical(BaseModel):
    """Base of every canonical row: strict about names, frozen once built."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Fact(Canonical):
    """Columns every fact row carries: where it came from and when it was synced."""

    source: str
    account_id: str
    synced_at: dt.datetime | None = Field(default=None, alias="_synced_at")
    run_id: str | None = Field(default=None, alias="_run_id")


class Order(Fact):
    """One order, booked on ``order_date`` in the shop's time zone; amounts in shop currency."""

    order_key: str
    order_id: str
    order_name: str | None = None
    created_at: dt.datetime
    order_date: dt.date
    timezone: str
    updated_at: dt.datetime
    processed_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    cancel_reason: str | None = None
    is_test: bool
    sales_channel: str | None = None
    market: str | None = None
    country_code: str | None = None
    currency: str
    gross_sales: Decimal
    discounts: Decimal
    shipping: Decimal
    tax: Decimal
    taxes_included: bool | None = None  # item prices (so gross_sales and refunds) include tax
    total: Decimal
    total_refunded: Decimal
    presentment_currency: str
    presentment_gross_sales: Decimal
    presentment_discounts: Decimal
    presentment_shipping: Decimal
    presentment_tax: Decimal
    presentment_total: Decimal
    financial_status: str | None = None
    fulfillment_status: str | None = None
    delivery_status: str | None = None
    customer_key: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    utm_term: str | None = None
    landing_page: str | None = None
    referrer: str | None = None
    click_id: str | None = None
    attribution_ready: bool | None = None
    line_count: int
    refund_count: int
    extra: dict[str, Any] | None = None


class OrderLine(Fact):
    """One order line; ``unit_cost`` is the variant's unit cost when the line was synced."""

    line_key: str
    order_key: str
    line_id: str
    product_key: str | None = None
    sku: str | None = None
    title: str | None = None
    category: str | None = None
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    unit_cost: Decimal | None = None
    currency: str
    presentment_unit_price: Decimal | None = None
    presentment_currency: str | None = None


class Refund(Fact):
    """One refund, a fact of its own booked on ``refund_date`` (shop time zone)."""

    refund_key: str
    order_key: str
    refund_id: str
    refunded_at: dt.datetime
    refund_date: dt.date
    timezone: str
    currency: str
    amount: Decimal
    goods_amount: Decimal
    shipping_amount: Decimal
    tax_amount: Decimal
    presentment_currency: str | None = None
    presentment_amount: Decimal | None = None


class RefundLine(Fact):
    """Quantities and amounts of one refunded line."""

    refund_line_key: str
    refund_key: str
    order_key: str
    line_key: str | None = None
    sku: str | None = None
    quantity: int
    subtotal: Decimal
    tax: Decimal
    currency: str


class Customer(Fact):
    """A pseudonymous customer: ``customer_key`` is a keyed hash; no e-mail or phone is kept."""

    customer_key: str
    created_at: dt.datetime | None = None
    updated_at: dt.datetime
    country_code: str | None = None
    marketing_consent: bool | None = None
    vendor_order_count: int | None = None


class Product(Fact):
    """One sellable variant with its price and unit cost."""

    product_key: str
    product_id: str
    variant_id: str
    sku: str | None = None
    title: str
    variant_title: str | None = None
    category: str | None = None
    brand: str | None = None
    price: Decimal
    unit_cost: Decimal | None = None
    currency: str
    status: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime


class InventoryLevel(Fact):
    """Daily stock snapshot per sku and location (vendors keep no history, so we do)."""

    snapshot_date: dt.date
    product_key: str
    sku: str | None = None
    location_id: str
    location_name: str | None = None
    on_hand: int
    available: int
    unit_cost: Decimal | None = None
    currency: str


class AdInsight(Fact):
    """Daily ad metrics in the ad account's own time zone and currency."""

    date: dt.date
    account_timezone: str
    currency: str
    campaign_id: str
    campaign_name: str | None = None
    ad_group_id: str
    ad_group_name: str | None = None
    ad_id: str
    ad_name: str | None = None
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    conversion_value: Decimal


class AdEntity(Fact):
    """Names and statuses of campaigns, ad groups and ads, deleted ones included."""

    level: str
    entity_id: str
    parent_id: str | None = None
    name: str | None = None
    status: str | None = None
    updated_at: dt.datetime


class WebTraffic(Fact):
    """Daily sessions and conversions from web analytics, in the property's time zone."""

    date: dt.date
    property_timezone: str
    session_source: str
    session_medium: str
    campaign: str
    device: str
    country_code: str
    sessions: int
    engaged_sessions: int
    new_users: int
    total_users: int
    key_events: Decimal
    transactions: int
    purchase_revenue: Decimal
    currency: str


class Touchpoint(Fact):
    """One visit with its marketing source: the input of multi-touch attribution."""

    touchpoint_key: str
    visitor_key: str
    customer_key: str | None = None
    occurred_at: dt.datetime
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    click_id: str | None = None
    landing_page: str | None = None


class Lead(Fact):
    """One CRM lead or deal with its marketing source and outcome."""

    lead_key: str
    created_at: dt.datetime
    updated_at: dt.datetime
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    channel: str | None = None
    stage: str | None = None
    value: Decimal | None = None
    currency: str | None = None
    won_at: dt.datetime | None = None
    lost_at: dt.datetime | None = None
    customer_key: str | None = None


class Call(Fact):
    """One tracked phone call."""

    call_key: str
    started_at: dt.datetime
    updated_at: dt.datetime
    duration_seconds: int
    answered: bool
    first_time_caller: bool | None = None
    tracked_source: str | None = None
    tracked_medium: str | None = None
    tracked_campaign: str | None = None
    customer_key: str | None = None


class LedgerEntry(Fact):
    """One ERP ledger entry with its cost category."""

    entry_key: str
    entry_date: dt.date
    updated_at: dt.datetime
    ledger_account: str
    cost_category: str
    amount: Decimal
    currency: str
    description: str | None = None


class FxRate(Canonical):
    """A dated exchange rate: 1 ``base_currency`` = ``rate`` ``quote_currency``."""

    rate_date: dt.date
    base_currency: str
    quote_currency: str
    rate: Decimal
    rate_source: str
    synced_at: dt.datetime | None = Field(default=None, alias="_synced_at")


class SyncState(Canonical):
    """The cursor of one (source, account, stream): never ahead of the data loaded."""

    source: str
    account_id: str
    stream: str
    cursor: dt.datetime | None = None
    run_id: str
    updated_at: dt.datetime


class SyncRun(Canonical):
    """One sync run and its counts: ``fetched = loaded + rejected`` (distinct keys)."""

    run_id: str
    tenant: str
    source: str
    account_id: str
    stream: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    received: int = 0
    fetched: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0
    stale: int = 0
    error: str | None = None


class RejectedRecord(Canonical):
    """A record that failed validation, kept whole with the reason, so nothing is lost."""

    run_id: str
    seq: int
    source: str
    account_id: str
    stream: str
    record_key: str | None = None
    reason: str
    raw_json: str
    rejected_at: dt.datetime


class SchemaDrift(Canonical):
    """A field the vendor sent that our model does not know, first seen in ``run_id``."""

    source: str
    account_id: str
    stream: str
    field_path: str
    first_seen_at: dt.datetime
    run_id: str
    example: str | None = None


class Erasure(Canonical):
    """A tombstone: this customer was erased and must not come back with a later sync."""

    customer_key: str
    requested_at: dt.datetime
    reason: str | None = None
