"""``ondigital-connect tenants|subscriptions|keys``: the connector service's control database.

Operators add tenants, subscribe them to connectors on a plan, and issue or revoke API keys.
A new key is printed once (alone on stdout, so scripts can capture it); listings show only
its prefix. The pepper comes from ``ODC_KEY_PEPPER`` and must match the service's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from rich.console import Console
from rich.table import Table

from ondigital_connect.connectors import CONNECTORS
from ondigital_connect.control.plans import PLANS
from ondigital_connect.errors import OnDigitalError
from ondigital_connect.settings import Settings

if TYPE_CHECKING:
    from ondigital_connect.control import SQLiteControlStore

F = TypeVar("F", bound=Callable[..., object])
_DEV_PEPPER = "dev-only-key-pepper"


def control_db_option(func: F) -> F:
    """The ``--control-db`` option every control command takes."""
    return click.option(
        "--control-db", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Control database file (default: $ODC_CONTROL_DB or .odc/control.sqlite3).",
    )(func)


@contextmanager
def _store(control_db: Path | None) -> Iterator[SQLiteControlStore]:
    """The control store at ``control_db`` (or the settings' path); errors become exit 1."""
    from ondigital_connect.control import SQLiteControlStore

    settings = Settings()
    pepper = settings.key_pepper.get_secret_value().encode()
    store = None
    try:
        store = SQLiteControlStore(control_db or settings.control_db, pepper)
        yield store
    except OnDigitalError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if store is not None:
            store.close()


def _when(value: dt.datetime | None) -> str:
    """A stored UTC time to the minute, or '-'."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


# --- tenants ---


@click.group()
def tenants() -> None:
    """Tenants: the companies the connector service reports for."""


@tenants.command("create")
@click.argument("tenant_id", metavar="ID")
@click.option("--name", required=True, help="Display name, e.g. 'Acme GmbH'.")
@click.option("--warehouse", "warehouse_url", required=True,
              help="Warehouse URL: duckdb:///abs/path.duckdb or bigquery://project/dataset.")
@click.option("--currency", required=True, help="Reporting currency (ISO 4217), e.g. EUR.")
@control_db_option
def tenants_create(tenant_id: str, name: str, warehouse_url: str, currency: str,
                   control_db: Path | None) -> None:
    """Add a tenant; ID is a slug (a-z, 0-9, '_', '-')."""
    with _store(control_db) as store:
        tenant = store.create_tenant(tenant_id, name, warehouse_url, currency)
    click.echo(f"created tenant {tenant.id} ({tenant.name})")


@tenants.command("list")
@control_db_option
def tenants_list(control_db: Path | None) -> None:
    """List tenants with their warehouse and reporting currency."""
    with _store(control_db) as store:
        rows = store.list_tenants()
    table = Table("id", "name", "warehouse", "currency", "created (UTC)", title="Tenants")
    for t in rows:
        table.add_row(t.id, t.name, t.warehouse_url, t.reporting_currency, _when(t.created_at))
    Console().print(table)


@tenants.command("revoke")
@click.argument("tenant_id", metavar="ID")
@control_db_option
def tenants_revoke(tenant_id: str, control_db: Path | None) -> None:
    """Cut a tenant off: cancel its live subscriptions and revoke its keys (records stay)."""
    with _store(control_db) as store:
        if store.get_tenant(tenant_id) is None:
            raise click.ClickException(f"unknown tenant {tenant_id[:64]!r}")
        subs = [store.cancel_subscription(s.id) for s in store.list_subscriptions(tenant_id)
                if s.status != "cancelled"]
        keys = [store.revoke_key(k.prefix) for k in store.list_keys(tenant_id) if not k.revoked]
    click.echo(f"tenant {tenant_id}: cancelled {len(subs)} subscription(s), "
               f"revoked {len(keys)} key(s)")


# --- subscriptions ---


@click.group()
def subscriptions() -> None:
    """Subscriptions: a tenant's connector on a plan, paid up to a period end."""


@subscriptions.command("create")
@click.option("--tenant", "tenant_id", required=True, help="Tenant id.")
@click.option("--connector", required=True, type=click.Choice(sorted(CONNECTORS)),
              help="The connector the subscription pays for.")
@click.option("--plan", "plan_name", required=True, type=click.Choice(list(PLANS)),
              help="Plan (limits on days, rows and requests per minute).")
@click.option("--period-end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last paid day, inclusive (YYYY-MM-DD).")
@click.option("--email", "emails", multiple=True,
              help="Google account allowed to use it without a key (repeatable).")
@control_db_option
def subscriptions_create(tenant_id: str, connector: str, plan_name: str,
                         period_end: dt.datetime, emails: tuple[str, ...],
                         control_db: Path | None) -> None:
    """Subscribe a tenant to a connector on a plan."""
    with _store(control_db) as store:
        sub = store.create_subscription(tenant_id, connector, plan_name, period_end.date(),
                                        emails)
    click.echo(f"created subscription {sub.id}: {sub.tenant_id}/{sub.connector} on "
               f"{sub.plan} until {sub.current_period_end.isoformat()}")


@subscriptions.command("list")
@click.option("--tenant", "tenant_id", default=None, help="Only this tenant's subscriptions.")
@control_db_option
def subscriptions_list(tenant_id: str | None, control_db: Path | None) -> None:
    """List subscriptions: connector, plan, status, period end and e-mails."""
    with _store(control_db) as store:
        rows = store.list_subscriptions(tenant_id)
    today = dt.date.today()
    table = Table("id", "tenant", "connector", "plan", "status", "period end", "e-mails",
                  title="Subscriptions")
    for s in rows:
        status = s.status if s.is_active(today) or s.status != "active" else "expired"
        table.add_row(str(s.id), s.tenant_id, s.connector, s.plan, status,
                      s.current_period_end.isoformat(), ", ".join(s.emails) or "-")
    Console().print(table)


@subscriptions.command("revoke")
@click.argument("subscription_id", metavar="ID", type=int)
@control_db_option
def subscriptions_revoke(subscription_id: int, control_db: Path | None) -> None:
    """Cancel subscription ID (final: create a new one to resume)."""
    with _store(control_db) as store:
        sub = store.cancel_subscription(subscription_id)
    click.echo(f"cancelled subscription {sub.id} ({sub.tenant_id}/{sub.connector})")


@subscriptions.command("renew")
@click.argument("subscription_id", metavar="ID", type=int)
@click.option("--period-end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="New last paid day, inclusive (YYYY-MM-DD).")
@control_db_option
def subscriptions_renew(subscription_id: int, period_end: dt.datetime,
                        control_db: Path | None) -> None:
    """Move subscription ID's period end (a suspended one becomes active)."""
    with _store(control_db) as store:
        sub = store.renew_subscription(subscription_id, period_end.date())
    click.echo(f"renewed subscription {sub.id} until {sub.current_period_end.isoformat()}")


# --- API keys ---


@click.group()
def keys() -> None:
    """API keys: issued per tenant, shown once, stored only as a peppered hash."""


@keys.command("create")
@click.option("--tenant", "tenant_id", required=True, help="Tenant the key acts for.")
@click.option("--label", default="", help="What the key is for, e.g. 'Looker Studio, Anna'.")
@control_db_option
def keys_create(tenant_id: str, label: str, control_db: Path | None) -> None:
    """Issue a key; it is printed once, on stdout, and cannot be shown again."""
    if Settings().key_pepper.get_secret_value() == _DEV_PEPPER:
        click.echo("warning: ODC_KEY_PEPPER is not set; this key only works with the "
                   "development pepper", err=True)
    with _store(control_db) as store:
        raw_key, info = store.create_key(tenant_id, label)
    click.echo(raw_key)
    click.echo(f"Copy this key now: it will not be shown again (prefix {info.prefix}).",
               err=True)


@keys.command("list")
@click.option("--tenant", "tenant_id", default=None, help="Only this tenant's keys.")
@control_db_option
def keys_list(tenant_id: str | None, control_db: Path | None) -> None:
    """List keys by prefix, tenant, label, created and revoked (never the key itself)."""
    with _store(control_db) as store:
        rows = store.list_keys(tenant_id)
    table = Table("prefix", "tenant", "label", "created (UTC)", "revoked (UTC)",
                  title="API keys")
    for k in rows:
        table.add_row(k.prefix, k.tenant_id, k.label or "-", _when(k.created_at),
                      _when(k.revoked_at))
    Console().print(table)


@keys.command("revoke")
@click.argument("prefix")
@control_db_option
def keys_revoke(prefix: str, control_db: Path | None) -> None:
    """Revoke the key with PREFIX (the 8 characters after 'odc_'); final."""
    with _store(control_db) as store:
        info = store.revoke_key(prefix)
    click.echo(f"revoked key {info.prefix} of tenant {info.tenant_id} at {_when(info.revoked_at)}")
