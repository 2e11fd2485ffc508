"""The control database in one SQLite file: safe for several worker processes and threads.

SQLite fits the job: a few hundred tenants, a read per request, rare writes, no server to run.
WAL lets readers proceed while one writer commits; ``busy_timeout`` makes a writer wait for
another instead of failing; writes use ``BEGIN IMMEDIATE`` so a check-then-insert cannot
interleave with another process. Each (process, thread) gets its own connection, opened
lazily, so connections are never shared across threads or carried over a ``fork``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from ondigital_connect.control import keys as _keys
from ondigital_connect.control._sqlite import SQLiteConnections, init_database, utc_now
from ondigital_connect.control.plans import plan as _plan
from ondigital_connect.control.store import (
    ACTIVE,
    CANCELLED,
    ApiKeyInfo,
    Principal,
    Subscription,
    Tenant,
    check_emails,
    check_label,
    check_period_end,
    check_slug,
    check_status,
    check_tenant_fields,
    normalise_email,
)
from ondigital_connect.errors import ConfigError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, warehouse_url TEXT NOT NULL,
    reporting_currency TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL REFERENCES tenants(id),
    connector TEXT NOT NULL, plan TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'cancelled')),
    current_period_end TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_tenant ON subscriptions(tenant_id);
CREATE TABLE IF NOT EXISTS subscription_emails (
    subscription_id INTEGER NOT NULL REFERENCES subscriptions(id), email TEXT NOT NULL,
    PRIMARY KEY (subscription_id, email)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subscription_emails_email ON subscription_emails(email);
CREATE TABLE IF NOT EXISTS api_keys (
    prefix TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
    secret_hmac TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL,
    revoked_at TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys(tenant_id);
"""

_SUBSCRIPTION_SQL = """
SELECT s.id, s.tenant_id, s.connector, s.plan, s.status, s.current_period_end,
       (SELECT group_concat(e.email, ' ') FROM subscription_emails e
        WHERE e.subscription_id = s.id) AS emails
FROM subscriptions s
"""

class SQLiteControlStore:
    """``ControlStore`` over SQLite; ``pepper`` keys the HMAC that stands in for key secrets.

    Without the pepper a copy of the file cannot check guessed secrets, so keep it out of the
    database and its backups (an environment variable, a secret manager).
    """

    def __init__(self, path: Path | str, pepper: bytes, *,
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        if not isinstance(pepper, bytes) or not pepper:
            raise ConfigError("the key pepper must be non-empty bytes (set ODC_KEY_PEPPER)")
        self.path = Path(path)
        self._pepper = pepper
        self._clock = clock
        init_database(self.path, _SCHEMA, SCHEMA_VERSION, "control database")
        self._db = SQLiteConnections(self.path)

    def __repr__(self) -> str:
        """The path only: the pepper is never shown."""
        return f"SQLiteControlStore({str(self.path)!r})"

    def close(self) -> None:
        """Close this process's connections (a later call reopens them)."""
        self._db.close()

    # --- tenants ---

    def create_tenant(self, id: str, name: str, warehouse_url: str,
                      reporting_currency: str) -> Tenant:
        """Add a tenant; ConfigError if the id is taken or a field is invalid."""
        tenant_id = check_slug("tenant id", id)
        name, warehouse_url, currency = check_tenant_fields(name, warehouse_url,
                                                            reporting_currency)
        tenant = Tenant(tenant_id, name, warehouse_url, currency, self._clock())
        with self._db.transaction(write=True) as conn:
            if _tenant(conn, tenant_id) is not None:
                raise ConfigError(f"tenant {tenant_id!r} already exists")
            conn.execute("INSERT INTO tenants VALUES (?, ?, ?, ?, ?)",
                         (tenant.id, tenant.name, tenant.warehouse_url,
                          tenant.reporting_currency, tenant.created_at.isoformat()))
        return tenant

    def get_tenant(self, id: str) -> Tenant | None:
        """The tenant with this id, or None."""
        return _tenant(self._db.get(), id)

    def list_tenants(self) -> list[Tenant]:
        """All tenants, by id."""
        rows = self._db.get().execute("SELECT * FROM tenants ORDER BY id").fetchall()
        return [_tenant_from(row) for row in rows]

    # --- subscriptions ---

    def create_subscription(self, tenant_id: str, connector: str, plan: str,
                            current_period_end: dt.date,
                            emails: Iterable[str] = ()) -> Subscription:
        """Subscribe a tenant to a connector; at most one live (not cancelled) per connector."""
        check_slug("connector", connector)
        _plan(plan)
        period_end = check_period_end(current_period_end)
        addresses = check_emails(emails)
        with self._db.transaction(write=True) as conn:
            _require_tenant(conn, tenant_id)
            live = conn.execute(
                "SELECT id FROM subscriptions WHERE tenant_id = ? AND connector = ? "
                "AND status != ?", (tenant_id, connector, CANCELLED)).fetchone()
            if live is not None:
                raise ConfigError(f"tenant {tenant_id!r} already has subscription {live[0]} "
                                  f"for {connector!r}; renew or cancel it instead")
            cur = conn.execute(
                "INSERT INTO subscriptions (tenant_id, connector, plan, status, "
                "current_period_end, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (tenant_id, connector, plan, ACTIVE, period_end.isoformat(),
                 self._clock().isoformat()))
            conn.executemany("INSERT INTO subscription_emails VALUES (?, ?)",
                             [(cur.lastrowid, addr) for addr in addresses])
            return _subscription(conn, cur.lastrowid)

    def list_subscriptions(self, tenant_id: str | None = None) -> list[Subscription]:
        """All subscriptions, or one tenant's, by id."""
        where, args = ("WHERE s.tenant_id = ?", (tenant_id,)) if tenant_id else ("", ())
        rows = self._db.get().execute(f"{_SUBSCRIPTION_SQL} {where} ORDER BY s.id", args)
        return [_subscription_from(row) for row in rows.fetchall()]

    def cancel_subscription(self, id: int) -> Subscription:
        """Cancel a subscription; final (renewal and reactivation are refused afterwards)."""
        return self.set_subscription_status(id, CANCELLED)

    def set_subscription_status(self, id: int, status: str) -> Subscription:
        """Set ``active``, ``suspended`` or ``cancelled``; a cancelled one stays cancelled."""
        status = check_status(status)
        with self._db.transaction(write=True) as conn:
            current = _require_subscription(conn, id)
            if current.status == CANCELLED and status != CANCELLED:
                raise ConfigError(f"subscription {id} is cancelled, which is final; "
                                  "create a new subscription")
            conn.execute("UPDATE subscriptions SET status = ? WHERE id = ?", (status, id))
            return _subscription(conn, id)

    def renew_subscription(self, id: int, current_period_end: dt.date) -> Subscription:
        """Set a new period end (after a payment); a suspended subscription becomes active."""
        period_end = check_period_end(current_period_end)
        with self._db.transaction(write=True) as conn:
            if _require_subscription(conn, id).status == CANCELLED:
                raise ConfigError(f"subscription {id} is cancelled; create a new subscription")
            conn.execute("UPDATE subscriptions SET status = ?, current_period_end = ? "
                         "WHERE id = ?", (ACTIVE, period_end.isoformat(), id))
            return _subscription(conn, id)

    # --- API keys ---

    def create_key(self, tenant_id: str, label: str = "") -> tuple[str, ApiKeyInfo]:
        """A new key for the tenant: the full key (shown once, never stored) and its info."""
        label = check_label(label)
        with self._db.transaction(write=True) as conn:
            _require_tenant(conn, tenant_id)
            key = _keys.new_key()
            while conn.execute("SELECT 1 FROM api_keys WHERE prefix = ?",
                               (key.prefix,)).fetchone():
                key = _keys.new_key()  # 32-bit prefixes: a clash is rare but possible
            info = ApiKeyInfo(key.prefix, tenant_id, label, self._clock())
            conn.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
                         (key.prefix, tenant_id, _keys.hash_secret(self._pepper, key.secret),
                          label, info.created_at.isoformat()))
        return _keys.format_key(key), info

    def list_keys(self, tenant_id: str | None = None) -> list[ApiKeyInfo]:
        """All keys, or one tenant's, oldest first; the hash is never read."""
        where, args = ("WHERE tenant_id = ?", (tenant_id,)) if tenant_id else ("", ())
        rows = self._db.get().execute(
            f"SELECT prefix, tenant_id, label, created_at, revoked_at FROM api_keys {where} "
            "ORDER BY created_at, prefix", args).fetchall()
        return [_key_from(row) for row in rows]

    def revoke_key(self, prefix: str) -> ApiKeyInfo:
        """Revoke the key with this prefix; revoking twice keeps the first revocation time."""
        if not isinstance(prefix, str) or not _keys.PREFIX_RE.fullmatch(prefix):
            raise ConfigError("a key prefix is the 8 characters 0-9a-f after 'odc_' "
                              "(pass the prefix only, never the whole key)")
        with self._db.transaction(write=True) as conn:
            conn.execute("UPDATE api_keys SET revoked_at = ? WHERE prefix = ? "
                         "AND revoked_at IS NULL", (self._clock().isoformat(), prefix))
            row = conn.execute("SELECT prefix, tenant_id, label, created_at, revoked_at "
                               "FROM api_keys WHERE prefix = ?", (prefix,)).fetchone()
        if row is None:
            raise ConfigError(f"no API key with prefix {prefix!r}")
        return _key_from(row)

    # --- authentication ---

    def authenticate_key(self, raw_key: str | None) -> Principal | None:
        """The principal for a live key, else None (malformed, unknown, revoked, wrong secret)."""
        parsed = _keys.parse_key(raw_key)
        if parsed is None:
            return None
        with self._db.transaction() as conn:
            row = conn.execute("SELECT tenant_id, secret_hmac, revoked_at FROM api_keys "
                               "WHERE prefix = ?", (parsed.prefix,)).fetchone()
            usable = row is not None and row["revoked_at"] is None
            stored = row["secret_hmac"] if usable else None
            if not _keys.secret_matches(self._pepper, parsed.secret, stored):
                return None
            return _principal(conn, row["tenant_id"], f"key:{parsed.prefix}", email=None)

    def principal_for_email(self, email: str) -> Principal | None:
        """The tenant whose live subscriptions list this (verified) e-mail, if exactly one.

        Only the subscriptions naming the address are granted. An address on two tenants'
        subscriptions is refused rather than guessed; cancelled subscriptions do not count.
        """
        addr = normalise_email(email)
        if addr is None:
            return None
        with self._db.transaction() as conn:
            tenants = conn.execute(
                "SELECT DISTINCT s.tenant_id FROM subscription_emails e JOIN subscriptions s "
                "ON s.id = e.subscription_id WHERE e.email = ? AND s.status != ?",
                (addr, CANCELLED)).fetchall()
            if len(tenants) != 1:
                return None
            return _principal(conn, tenants[0][0], f"email:{addr}", email=addr)


def _principal(conn: sqlite3.Connection, tenant_id: str, via: str,
               email: str | None) -> Principal | None:
    """The tenant and its subscriptions (only those naming ``email`` if given, not cancelled)."""
    tenant = _tenant(conn, tenant_id)
    if tenant is None:
        return None
    rows = conn.execute(f"{_SUBSCRIPTION_SQL} WHERE s.tenant_id = ? ORDER BY s.id",
                        (tenant_id,)).fetchall()
    subs = tuple(_subscription_from(row) for row in rows)
    if email is not None:
        subs = tuple(s for s in subs if email in s.emails and s.status != CANCELLED)
    return Principal(tenant=tenant, subscriptions=subs, via=via)


def _tenant(conn: sqlite3.Connection, tenant_id: str) -> Tenant | None:
    row = conn.execute("SELECT * FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
    return _tenant_from(row) if row else None


def _require_tenant(conn: sqlite3.Connection, tenant_id: str) -> Tenant:
    tenant = _tenant(conn, tenant_id)
    if tenant is None:
        raise ConfigError(f"unknown tenant {tenant_id!r}; create it first "
                          "(ondigital-connect tenants create)")
    return tenant


def _subscription(conn: sqlite3.Connection, sub_id: int | None) -> Subscription:
    row = conn.execute(f"{_SUBSCRIPTION_SQL} WHERE s.id = ?", (sub_id,)).fetchone()
    return _subscription_from(row)


def _require_subscription(conn: sqlite3.Connection, sub_id: int) -> Subscription:
    row = conn.execute(f"{_SUBSCRIPTION_SQL} WHERE s.id = ?", (sub_id,)).fetchone()
    if row is None:
        raise ConfigError(f"no subscription {sub_id!r}")
    return _subscription_from(row)


def _tenant_from(row: sqlite3.Row) -> Tenant:
    return Tenant(row["id"], row["name"], row["warehouse_url"], row["reporting_currency"],
                  dt.datetime.fromisoformat(row["created_at"]))


def _subscription_from(row: sqlite3.Row) -> Subscription:
    emails = tuple(sorted(row["emails"].split(" "))) if row["emails"] else ()
    return Subscription(row["id"], row["tenant_id"], row["connector"], row["plan"],
                        row["status"], dt.date.fromisoformat(row["current_period_end"]), emails)


def _key_from(row: sqlite3.Row) -> ApiKeyInfo:
    revoked = row["revoked_at"]
    return ApiKeyInfo(row["prefix"], row["tenant_id"], row["label"],
                      dt.datetime.fromisoformat(row["created_at"]),
                      dt.datetime.fromisoformat(revoked) if revoked else None)
