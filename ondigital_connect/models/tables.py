"""The registry of warehouse tables: primary keys, write rules and partition/cluster hints."""

from __future__ import annotations

from ondigital_connect.errors import ConfigError
from ondigital_connect.models import canonical as m
from ondigital_connect.models.spec import TableSpec, table_spec

_SPECS = (
    table_spec(m.Order, name="orders", primary_key=("order_key",), kind="entity",
               version_column="updated_at", partition_by="order_date",
               cluster_by=("account_id", "market")),
    table_spec(m.OrderLine, name="order_lines", primary_key=("line_key",), kind="child",
               parent=("orders", "order_key"), cluster_by=("account_id", "sku")),
    table_spec(m.Refund, name="refunds", primary_key=("refund_key",), kind="child",
               parent=("orders", "order_key"), partition_by="refund_date",
               cluster_by=("account_id",)),
    table_spec(m.RefundLine, name="refund_lines", primary_key=("refund_line_key",), kind="child",
               parent=("orders", "order_key"), cluster_by=("account_id",)),
    table_spec(m.Customer, name="customers", primary_key=("customer_key",), kind="entity",
               version_column="updated_at", cluster_by=("account_id",)),
    table_spec(m.Product, name="products", primary_key=("product_key",), kind="entity",
               version_column="updated_at", cluster_by=("account_id", "sku")),
    table_spec(m.InventoryLevel, name="inventory_levels",
               primary_key=("snapshot_date", "product_key", "location_id"), kind="report",
               window_column="snapshot_date", partition_by="snapshot_date",
               cluster_by=("account_id", "sku")),
    table_spec(m.AdInsight, name="ad_insights",
               primary_key=("source", "account_id", "date", "campaign_id", "ad_group_id", "ad_id"),
               kind="report", window_column="date", partition_by="date",
               cluster_by=("source", "account_id", "campaign_id")),
    table_spec(m.AdEntity, name="ad_entities",
               primary_key=("source", "account_id", "level", "entity_id"), kind="entity",
               version_column="updated_at", cluster_by=("source", "account_id")),
    table_spec(m.WebTraffic, name="web_traffic",
               primary_key=("source", "account_id", "date", "session_source", "session_medium",
                            "campaign", "device", "country_code"),
               kind="report", window_column="date", partition_by="date",
               cluster_by=("account_id", "session_source")),
    table_spec(m.Touchpoint, name="touchpoints", primary_key=("touchpoint_key",), kind="entity",
               version_column="occurred_at", partition_by="occurred_at",
               cluster_by=("account_id",)),
    table_spec(m.Lead, name="leads", primary_key=("lead_key",), kind="entity",
               version_column="updated_at", partition_by="created_at",
               cluster_by=("account_id",)),
    table_spec(m.Call, name="calls", primary_key=("call_key",), kind="entity",
               version_column="updated_at", partition_by="started_at",
               cluster_by=("account_id",)),
    table_spec(m.LedgerEntry, name="ledger_entries", primary_key=("entry_key",), kind="entity",
               version_column="updated_at", partition_by="entry_date",
               cluster_by=("account_id", "cost_category")),
    table_spec(m.FxRate, name="fx_rates",
               primary_key=("rate_date", "base_currency", "quote_currency"), kind="report",
               window_column="rate_date", partition_by="rate_date"),
    table_spec(m.SyncState, name="_sync_state", primary_key=("source", "account_id", "stream"),
               kind="control"),
    table_spec(m.SyncRun, name="_sync_runs", primary_key=("run_id",), kind="control"),
    table_spec(m.RejectedRecord, name="_rejects", primary_key=("run_id", "seq"), kind="control"),
    table_spec(m.SchemaDrift, name="_schema_drift",
               primary_key=("source", "account_id", "stream", "field_path"), kind="control"),
    table_spec(m.Erasure, name="_erasures", primary_key=("customer_key",), kind="control"),
)

TABLES: dict[str, TableSpec] = {spec.name: spec for spec in _SPECS}


def get_table(name: str) -> TableSpec:
    """The spec of table ``name``; a ConfigError that lists the known tables otherwise."""
    try:
        return TABLES[name]
    except KeyError:
        raise ConfigError(f"unknown table {name!r}; known: {', '.join(sorted(TABLES))}") from None


def children_of(parent: str) -> tuple[TableSpec, ...]:
    """Child tables whose rows are replaced together with a row of ``parent``."""
    return tuple(s for s in _SPECS if s.parent and s.parent[0] == parent)
