"""The control store: key round trip, every way a credential fails, secrets never at rest,
subscription activity by date and status, e-mail principals, and input validation."""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing as mp
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ondigital_connect.control import (
    ControlStore,
    Principal,
    SQLiteControlStore,
    Subscription,
    keys,
    plan,
)
from ondigital_connect.errors import ConfigError

PEPPER = b"test-pepper-0123456789"
TODAY = dt.date(2026, 10, 20)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "control.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLiteControlStore]:
    s = SQLiteControlStore(db_path, PEPPER)
    s.create_tenant("acme", "Acme GmbH", "duckdb:///data/acme.duckdb", "EUR")
    yield s
    s.close()


def _files_bytes(db_path: Path) -> bytes:
    """Everything SQLite wrote for this database: the main file, the WAL and shared memory."""
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


def test_key_round_trip(store: SQLiteControlStore) -> None:
    raw, info = store.create_key("acme", "looker, anna")
    assert raw.startswith(f"odc_{info.prefix}_")
    assert len(info.prefix) == 8 and info.label == "looker, anna" and info.revoked_at is None
    principal = store.authenticate_key(raw)
    assert principal is not None
    assert principal.tenant.id == "acme" and principal.via == f"key:{info.prefix}"
    assert store.list_keys() == [info]


def test_key_format_has_256_bit_secret() -> None:
    key = keys.new_key()
    assert len(key.secret) == 43  # token_urlsafe(32): 32 random bytes
    assert keys.parse_key(keys.format_key(key)) == key
    assert "***" in repr(key) and key.secret not in repr(key)


def _wrong_secret(raw: str) -> str:
    last = raw[-1]
    return raw[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize("mangle", [
    _wrong_secret,
    lambda raw: f"odc_{'0' * 8 if raw[4:12] != '0' * 8 else '1' * 8}{raw[12:]}",  # unknown prefix
    lambda raw: raw[:-1],                              # too short
    lambda raw: raw + "x",                             # too long
    lambda raw: raw.replace("odc_", "odk_", 1),        # wrong scheme
    lambda raw: raw.upper(),                           # prefix must be lower-case hex
    lambda raw: raw[:12] + "-" + raw[13:],             # separator missing
    lambda raw: "",
    lambda raw: None,
    lambda raw: 12345,
    lambda raw: raw.encode(),
    lambda raw: f"Bearer {raw}",
], ids=["wrong-secret", "unknown-prefix", "short", "long", "scheme", "upper", "separator",
        "empty", "none", "int", "bytes", "bearer"])
def test_bad_keys_give_none(store: SQLiteControlStore, mangle: object) -> None:
    raw, _ = store.create_key("acme")
    assert store.authenticate_key(raw) is not None  # the unmangled key works...
    assert PEPPER.decode() not in repr(store)
    assert store.authenticate_key(mangle(raw)) is None  # ...the mangled one never does


def test_revoked_key_gives_none(store: SQLiteControlStore) -> None:
    raw, info = store.create_key("acme")
    other, _ = store.create_key("acme")
    revoked = store.revoke_key(info.prefix)
    assert revoked.revoked_at is not None
    assert store.authenticate_key(raw) is None
    assert store.authenticate_key(other) is not None  # only that key
    again = store.revoke_key(info.prefix)
    assert again.revoked_at == revoked.revoked_at  # idempotent, first time kept


def test_other_pepper_gives_none(store: SQLiteControlStore, db_path: Path) -> None:
    raw, _ = store.create_key("acme")
    same = SQLiteControlStore(db_path, PEPPER)
    other = SQLiteControlStore(db_path, PEPPER + b"x")
    try:
        assert same.authenticate_key(raw) is not None
        assert other.authenticate_key(raw) is None
    finally:
        same.close()
        other.close()


def test_database_holds_neither_secret_nor_key(store: SQLiteControlStore,
                                               db_path: Path) -> None:
    raw, info = store.create_key("acme", "ci")
    parsed = keys.parse_key(raw)
    assert parsed is not None
    stored = _files_bytes(db_path)
    # The reader sees what was written (so the negative checks below can fail)...
    assert info.prefix.encode() in stored
    assert keys.hash_secret(PEPPER, parsed.secret).encode() in stored
    # ...and the secret, the whole key and the pepper are not there.
    assert parsed.secret.encode() not in stored
    assert raw.encode() not in stored
    assert PEPPER not in stored


def test_hmac_computed_even_for_unknown_or_revoked_prefix(
        store: SQLiteControlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, info = store.create_key("acme")
    calls: list[str] = []
    real = keys.hash_secret

    def counting(pepper: bytes, secret: str) -> str:
        calls.append(secret)
        return real(pepper, secret)

    monkeypatch.setattr(keys, "hash_secret", counting)
    unknown = f"odc_{'f' * 8 if info.prefix != 'f' * 8 else 'e' * 8}{raw[12:]}"
    assert store.authenticate_key(unknown) is None
    assert len(calls) == 1
    assert store.authenticate_key(_wrong_secret(raw)) is None
    assert len(calls) == 2
    store.revoke_key(info.prefix)
    assert store.authenticate_key(raw) is None
    assert len(calls) == 3


def test_key_errors_never_echo_a_key(store: SQLiteControlStore) -> None:
    with pytest.raises(ConfigError, match="unknown tenant 'nope'"):
        store.create_key("nope")
    raw, _ = store.create_key("acme")
    with pytest.raises(ConfigError) as err:
        store.revoke_key(raw)
    assert raw not in str(err.value) and raw[13:] not in str(err.value)
    with pytest.raises(ConfigError, match="no API key with prefix"):
        store.revoke_key("0" * 8 if raw[4:12] != "0" * 8 else "1" * 8)


def test_keys_from_many_threads(store: SQLiteControlStore) -> None:
    made: list[str] = []

    def work() -> None:
        for _ in range(5):
            raw, _ = store.create_key("acme")
            made.append(raw)
            assert store.authenticate_key(raw) is not None

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 30 and len({k[4:12] for k in made}) == 30
    assert len(store.list_keys("acme")) == 30
    gc.collect()
    assert len(store._db._open) == 1  # the threads' connections closed with them


def _child_uses_store(store: SQLiteControlStore, raw: str, parent_conn_id: int,
                      out: mp.Queue) -> None:
    fresh = id(store._db.get()) != parent_conn_id
    ok = store.authenticate_key(raw) is not None and store.create_key("acme")[0] != raw
    out.put(fresh and ok)


def test_store_survives_fork(store: SQLiteControlStore) -> None:
    """A forked worker (gunicorn) opens its own connection instead of reusing the parent's."""
    raw, _ = store.create_key("acme")
    assert store.authenticate_key(raw) is not None  # the parent has a live connection
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child_uses_store,
                        args=(store, raw, id(store._db.get()), out))
    child.start()
    child.join(30)
    assert child.exitcode == 0 and out.get(timeout=5) is True
    assert store.authenticate_key(raw) is not None and len(store.list_keys()) == 2


# --- subscriptions ---


def _sub(status: str = "active", end: dt.date = TODAY, connector: str = "looker",
         sub_id: int = 1) -> Subscription:
    return Subscription(sub_id, "acme", connector, "pro", status, end)


@pytest.mark.parametrize(("status", "end", "active"), [
    ("active", TODAY, True),                              # last paid day is today
    ("active", TODAY + dt.timedelta(days=30), True),
    ("active", TODAY - dt.timedelta(days=1), False),      # expired yesterday
    ("cancelled", TODAY + dt.timedelta(days=30), False),
    ("suspended", TODAY + dt.timedelta(days=30), False),
])
def test_subscription_activity(status: str, end: dt.date, active: bool,
                               store: SQLiteControlStore) -> None:
    tenant = store.get_tenant("acme")
    assert tenant is not None
    principal = Principal(tenant, (_sub(status, end),), via="key:00000000")
    found = principal.subscription_for("looker", TODAY)
    assert (found is not None) is active
    assert principal.subscription_for("other", TODAY) is None


def test_subscription_for_picks_latest_active(store: SQLiteControlStore) -> None:
    tenant = store.get_tenant("acme")
    assert tenant is not None
    subs = (_sub(end=TODAY, sub_id=1), _sub(end=TODAY + dt.timedelta(days=9), sub_id=2),
            _sub("cancelled", TODAY + dt.timedelta(days=99), sub_id=3))
    assert Principal(tenant, subs, "x").subscription_for("looker", TODAY).id == 2


def test_subscription_lifecycle_in_store(store: SQLiteControlStore) -> None:
    raw, _ = store.create_key("acme")
    sub = store.create_subscription("acme", "looker", "pro", TODAY)
    assert sub.status == "active" and sub.current_period_end == TODAY

    def active_on(day: dt.date) -> bool:
        principal = store.authenticate_key(raw)
        assert principal is not None
        return principal.subscription_for("looker", day) is not None

    assert active_on(TODAY) and not active_on(TODAY + dt.timedelta(days=1))
    store.renew_subscription(sub.id, TODAY + dt.timedelta(days=31))
    assert active_on(TODAY + dt.timedelta(days=1))
    store.set_subscription_status(sub.id, "suspended")
    assert not active_on(TODAY)
    assert store.renew_subscription(sub.id, TODAY + dt.timedelta(days=62)).status == "active"
    assert active_on(TODAY)
    assert store.cancel_subscription(sub.id).status == "cancelled"
    assert not active_on(TODAY)
    with pytest.raises(ConfigError, match="cancelled"):
        store.renew_subscription(sub.id, TODAY + dt.timedelta(days=90))
    with pytest.raises(ConfigError, match="final"):
        store.set_subscription_status(sub.id, "active")
    assert store.create_subscription("acme", "looker", "starter", TODAY).id != sub.id


def test_one_live_subscription_per_connector(store: SQLiteControlStore) -> None:
    store.create_subscription("acme", "looker", "pro", TODAY)
    with pytest.raises(ConfigError, match="already has subscription"):
        store.create_subscription("acme", "looker", "starter", TODAY)
    store.create_subscription("acme", "sheets", "starter", TODAY)
    assert [s.connector for s in store.list_subscriptions("acme")] == ["looker", "sheets"]
    assert store.list_subscriptions("other") == []


@pytest.mark.parametrize(("args", "message"), [
    (("nope", "looker", "pro", TODAY), "unknown tenant 'nope'"),
    (("acme", "looker", "gold", TODAY), "unknown plan 'gold'; valid plans: starter, pro"),
    (("acme", "Looker!", "pro", TODAY), "connector must be"),
    (("acme", "looker", "pro", "2026-10-20"), "must be a date"),
    (("acme", "looker", "pro", dt.datetime(2026, 10, 20)), "must be a date"),
    (("acme", "looker", "pro", TODAY, ["not-an-email"]), "not an e-mail address"),
])
def test_subscription_validation(store: SQLiteControlStore, args: tuple[object, ...],
                                 message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        store.create_subscription(*args)
    assert store.list_subscriptions() == []


def test_unknown_subscription(store: SQLiteControlStore) -> None:
    with pytest.raises(ConfigError, match="no subscription 42"):
        store.cancel_subscription(42)
    with pytest.raises(ConfigError, match="unknown status"):
        store.set_subscription_status(42, "paused")


def test_principal_for_email(store: SQLiteControlStore) -> None:
    looker = store.create_subscription("acme", "looker", "pro", TODAY,
                                       [" Anna@Acme.example ", "ben@acme.example"])
    store.create_subscription("acme", "sheets", "pro", TODAY, ["ben@acme.example"])
    assert looker.emails == ("anna@acme.example", "ben@acme.example")
    anna = store.principal_for_email("ANNA@acme.EXAMPLE")
    assert anna is not None and anna.tenant.id == "acme" and anna.via == "email:anna@acme.example"
    assert [s.connector for s in anna.subscriptions] == ["looker"]  # only what names her
    assert anna.subscription_for("sheets", TODAY) is None
    ben = store.principal_for_email("ben@acme.example")
    assert ben is not None and {s.connector for s in ben.subscriptions} == {"looker", "sheets"}
    assert store.principal_for_email("carl@acme.example") is None
    assert store.principal_for_email("not an email") is None
    assert store.principal_for_email(None) is None  # type: ignore[arg-type]


def test_email_on_two_tenants_is_refused(store: SQLiteControlStore) -> None:
    store.create_tenant("beta", "Beta Ltd", "bigquery://beta-project/shop", "GBP")
    store.create_subscription("acme", "looker", "pro", TODAY, ["consultant@agency.example"])
    assert store.principal_for_email("consultant@agency.example") is not None
    beta = store.create_subscription("beta", "looker", "pro", TODAY,
                                     ["Consultant@Agency.example"])
    assert store.principal_for_email("consultant@agency.example") is None
    store.cancel_subscription(beta.id)  # a cancelled subscription no longer counts
    principal = store.principal_for_email("consultant@agency.example")
    assert principal is not None and principal.tenant.id == "acme"


# --- tenants and the database itself ---


@pytest.mark.parametrize(("args", "message"), [
    (("Acme", "A", "duckdb:///a.duckdb", "EUR"), "tenant id must be"),
    (("-acme", "A", "duckdb:///a.duckdb", "EUR"), "tenant id must be"),
    (("a" * 64, "A", "duckdb:///a.duckdb", "EUR"), "tenant id must be"),
    (("ok", "  ", "duckdb:///a.duckdb", "EUR"), "tenant name"),
    (("ok", "A", "duckdb://relative.duckdb", "EUR"), "warehouse_url must start with"),
    (("ok", "A", "postgres://u:pw@h/db", "EUR"), "warehouse_url must start with"),
    (("ok", "A", "duckdb:///a.duckdb", "eur"), "3 upper-case letters"),
    (("ok", "A", "duckdb:///a.duckdb", "EURO"), "3 upper-case letters"),
    (("acme", "A", "duckdb:///a.duckdb", "EUR"), "tenant 'acme' already exists"),
])
def test_tenant_validation(store: SQLiteControlStore, args: tuple[str, ...],
                           message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        store.create_tenant(*args)
    assert "pw@" not in str(err.value)  # a URL is never echoed (it could hold credentials)
    assert [t.id for t in store.list_tenants()] == ["acme"]


def test_tenants_listed_and_fetched(store: SQLiteControlStore) -> None:
    beta = store.create_tenant("beta_2", " Beta ", "bigquery://p/d", "GBP")
    assert beta.name == "Beta"
    assert store.get_tenant("beta_2") == beta
    assert store.get_tenant("nope") is None
    assert [t.id for t in store.list_tenants()] == ["acme", "beta_2"]


def test_schema_version_and_wal(store: SQLiteControlStore, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute("PRAGMA user_version = 2")
    finally:
        conn.close()
    with pytest.raises(ConfigError, match="schema version 2, newer"):
        SQLiteControlStore(db_path, PEPPER)


def test_reopen_keeps_data_and_empty_pepper_refused(store: SQLiteControlStore,
                                                    db_path: Path) -> None:
    raw, _ = store.create_key("acme")
    again = SQLiteControlStore(db_path, PEPPER)
    try:
        assert again.authenticate_key(raw) is not None
    finally:
        again.close()
    with pytest.raises(ConfigError, match="pepper"):
        SQLiteControlStore(db_path, b"")


def test_store_satisfies_protocol(store: SQLiteControlStore) -> None:
    assert isinstance(store, ControlStore)
    assert not isinstance(object(), ControlStore)


def test_plans() -> None:
    assert plan("starter").max_rows == 10_000 and plan("pro").requests_per_minute == 300
    assert plan("enterprise").max_days == 3700
    with pytest.raises(ConfigError, match="valid plans: starter, pro, enterprise"):
        plan("platinum")


def test_control_package_does_not_import_flask() -> None:
    code = ("import sys, ondigital_connect.control; "
            "sys.exit(1 if 'flask' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
    # The check can fail: importing flask first is seen.
    assert subprocess.run([sys.executable, "-c", f"import flask; {code}"]).returncode == 1
