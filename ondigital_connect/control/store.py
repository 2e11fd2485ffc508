"""What the control database holds (tenants, subscriptions, API keys) and the store interface.

The connector service asks one question per request: who is calling, and which connectors
may they use today? ``ControlStore`` answers it with a ``Principal``; the values here are
frozen so a principal cached by a worker cannot be changed under it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ondigital_connect.errors import ConfigError

ACTIVE = "active"
SUSPENDED = "suspended"
CANCELLED = "cancelled"
STATUSES = (ACTIVE, SUSPENDED, CANCELLED)


@dataclass(frozen=True)
class Tenant:
    """A customer company: its warehouse and the currency its reports are in."""

    id: str
    name: str
    warehouse_url: str
    reporting_currency: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Subscription:
    """One connector on one plan for one tenant, paid up to ``current_period_end`` inclusive.

    ``emails`` are the (lower-case) Google accounts that may use it without an API key.
    """

    id: int
    tenant_id: str
    connector: str
    plan: str
    status: str
    current_period_end: dt.date
    emails: tuple[str, ...] = ()

    def is_active(self, today: dt.date) -> bool:
        """Active status and a period that has not ended before ``today``."""
        return self.status == ACTIVE and self.current_period_end >= today


@dataclass(frozen=True)
class ApiKeyInfo:
    """What may be shown about a key: its public prefix and bookkeeping, never the secret."""

    prefix: str
    tenant_id: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def revoked(self) -> bool:
        """Whether the key has been revoked (revocation is final)."""
        return self.revoked_at is not None


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the tenant, the subscriptions it may use, and how it got in.

    ``via`` is ``"key:<prefix>"`` or ``"email:<address>"``, for logs and audit.
    """

    tenant: Tenant
    subscriptions: tuple[Subscription, ...]
    via: str

    def subscription_for(self, connector: str, today: dt.date) -> Subscription | None:
        """The active subscription for ``connector`` on ``today`` (latest period end), or None."""
        active = [s for s in self.subscriptions if s.connector == connector and s.is_active(today)]
        if not active:
            return None
        return max(active, key=lambda s: (s.current_period_end, s.id))


@runtime_checkable
class ControlStore(Protocol):
    """Tenants, subscriptions and API keys; bad credentials give None, bad input ConfigError."""

    def create_tenant(self, id: str, name: str, warehouse_url: str,
                      reporting_currency: str) -> Tenant:
        """Add a tenant; ConfigError if the id is taken or a field is invalid."""
        ...

    def get_tenant(self, id: str) -> Tenant | None:
        """The tenant with this id, or None."""
        ...

    def list_tenants(self) -> list[Tenant]:
        """All tenants, by id."""
        ...

    def create_subscription(self, tenant_id: str, connector: str, plan: str,
                            current_period_end: dt.date,
                            emails: Iterable[str] = ()) -> Subscription:
        """Subscribe a tenant to a connector on a plan until ``current_period_end``."""
        ...

    def list_subscriptions(self, tenant_id: str | None = None) -> list[Subscription]:
        """All subscriptions, or one tenant's, by id."""
        ...

    def cancel_subscription(self, id: int) -> Subscription:
        """Cancel a subscription (final)."""
        ...

    def set_subscription_status(self, id: int, status: str) -> Subscription:
        """Suspend or reactivate a subscription (cancellation is final)."""
        ...

    def renew_subscription(self, id: int, current_period_end: dt.date) -> Subscription:
        """Move the period end (after a payment); a suspended subscription becomes active."""
        ...

    def create_key(self, tenant_id: str, label: str = "") -> tuple[str, ApiKeyInfo]:
        """A new API key: the full key (returned only here) and what may be shown of it."""
        ...

    def list_keys(self, tenant_id: str | None = None) -> list[ApiKeyInfo]:
        """All keys, or one tenant's, oldest first; never the secret or its hash."""
        ...

    def revoke_key(self, prefix: str) -> ApiKeyInfo:
        """Revoke the key with this prefix (idempotent)."""
        ...

    def authenticate_key(self, raw_key: str | None) -> Principal | None:
        """The principal for a presented key, or None for anything but a valid live key."""
        ...

    def principal_for_email(self, email: str) -> Principal | None:
        """The principal for a verified Google e-mail on subscriptions of exactly one tenant."""
        ...


# --- validation shared by every store: clear ConfigErrors, never echoing anything secret ---

_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
WAREHOUSE_SCHEMES = ("duckdb:///", "bigquery://")
MAX_NAME = 200
MAX_LABEL = 100


def check_slug(kind: str, value: object) -> str:
    """A tenant id or connector name: ``[a-z0-9][a-z0-9_-]{0,62}``."""
    if not isinstance(value, str) or not _SLUG_RE.fullmatch(value):
        raise ConfigError(f"{kind} must be 1-63 characters a-z, 0-9, '_' or '-', starting with "
                          f"a letter or digit; got {value!r}")
    return value


def check_tenant_fields(name: str, warehouse_url: str, currency: str) -> tuple[str, str, str]:
    """A tenant's name, warehouse URL and reporting currency, checked and trimmed."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        raise ConfigError(f"tenant name must be 1-{MAX_NAME} characters")
    if not isinstance(warehouse_url, str) or not warehouse_url.startswith(WAREHOUSE_SCHEMES):
        # The URL is not echoed: a malformed one could carry credentials.
        raise ConfigError("warehouse_url must start with " + " or ".join(WAREHOUSE_SCHEMES))
    if not isinstance(currency, str) or not _CURRENCY_RE.fullmatch(currency):
        raise ConfigError(f"reporting currency must be 3 upper-case letters (ISO 4217, e.g. "
                          f"EUR); got {currency!r}")
    return name, warehouse_url, currency


def normalise_email(email: object) -> str | None:
    """A trimmed, lower-case address, or None if it does not look like one."""
    if not isinstance(email, str):
        return None
    addr = email.strip().lower()
    if len(addr) > 254 or not _EMAIL_RE.fullmatch(addr):
        return None
    return addr


def check_emails(emails: Iterable[str]) -> tuple[str, ...]:
    """Subscription e-mails, normalised, de-duplicated and sorted; ConfigError on a bad one."""
    if isinstance(emails, str):
        emails = (emails,)
    out = set()
    for email in emails:
        addr = normalise_email(email)
        if addr is None:
            raise ConfigError(f"not an e-mail address: {email!r}")
        out.add(addr)
    return tuple(sorted(out))


def check_period_end(value: object) -> dt.date:
    """A subscription's period end: a date (a datetime is refused, it hides a time zone)."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ConfigError(f"current_period_end must be a date (YYYY-MM-DD); got {value!r}")
    return value


def check_status(status: object) -> str:
    """A subscription status, one of STATUSES."""
    if status not in STATUSES:
        raise ConfigError(f"unknown status {status!r}; valid: {', '.join(STATUSES)}")
    return str(status)


def check_label(label: object) -> str:
    """A key's label: free text for people, at most MAX_LABEL characters, one line."""
    if not isinstance(label, str):
        raise ConfigError("a key label must be text")
    label = label.strip()
    if len(label) > MAX_LABEL or any(ch in label for ch in "\r\n\t"):
        raise ConfigError(f"a key label must be one line of at most {MAX_LABEL} characters")
    return label
