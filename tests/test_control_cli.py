"""The control CLI: tenants, subscriptions and keys; a key is printed once and never listed."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from ondigital_connect.cli import cli
from ondigital_connect.control import SQLiteControlStore, keys

PEPPER = "cli-test-pepper"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ODC_KEY_PEPPER", PEPPER)
    monkeypatch.delenv("ODC_CONTROL_DB", raising=False)
    return tmp_path / "control.sqlite3"


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--control-db", str(db)], env={"COLUMNS": "160"})


def _tenant(db: Path) -> None:
    result = run(db, "tenants", "create", "acme", "--name", "Acme GmbH",
                 "--warehouse", "duckdb:///data/acme.duckdb", "--currency", "EUR")
    assert result.exit_code == 0, result.output


def _key_from(result: Result) -> str:
    found = re.findall(r"odc_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", result.output)
    assert len(found) == 1, result.output
    return found[0]


def test_key_printed_once_and_never_listed(db: Path) -> None:
    _tenant(db)
    created = run(db, "keys", "create", "--tenant", "acme", "--label", "looker anna")
    assert created.exit_code == 0, created.output
    raw = _key_from(created)
    assert created.output.count(raw) == 1
    assert created.stdout.strip() == raw  # alone on stdout, so scripts can capture it
    assert "will not be shown again" in created.stderr
    parsed = keys.parse_key(raw)
    assert parsed is not None
    listed = run(db, "keys", "list")
    assert listed.exit_code == 0, listed.output
    assert parsed.prefix in listed.output and "looker anna" in listed.output  # can fail
    assert parsed.secret not in listed.output and raw not in listed.output
    assert keys.hash_secret(PEPPER.encode(), parsed.secret) not in listed.output
    store = SQLiteControlStore(db, PEPPER.encode())
    try:
        principal = store.authenticate_key(raw)  # the pepper came from ODC_KEY_PEPPER
        assert principal is not None and principal.tenant.id == "acme"
    finally:
        store.close()


def test_dev_pepper_warns(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODC_KEY_PEPPER")
    _tenant(db)
    created = run(db, "keys", "create", "--tenant", "acme")
    assert created.exit_code == 0 and "ODC_KEY_PEPPER is not set" in created.stderr


def test_keys_revoke(db: Path) -> None:
    _tenant(db)
    raw = _key_from(run(db, "keys", "create", "--tenant", "acme"))
    prefix = raw[4:12]
    revoked = run(db, "keys", "revoke", prefix)
    assert revoked.exit_code == 0 and f"revoked key {prefix}" in revoked.output
    store = SQLiteControlStore(db, PEPPER.encode())
    try:
        assert store.authenticate_key(raw) is None
    finally:
        store.close()
    listed = run(db, "keys", "list", "--tenant", "acme")
    row = next(line for line in listed.output.splitlines() if prefix in line)
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)) == 2  # created and revoked
    wrong = run(db, "keys", "revoke", raw)  # the whole key by mistake
    assert wrong.exit_code == 1 and raw not in wrong.output and raw[13:] not in wrong.output


def test_tenants_and_subscriptions(db: Path) -> None:
    _tenant(db)
    listed = run(db, "tenants", "list")
    assert "acme" in listed.output and "EUR" in listed.output
    created = run(db, "subscriptions", "create", "--tenant", "acme", "--connector", "control_tower",
                  "--plan", "pro", "--period-end", "2099-12-31",
                  "--email", "Anna@Acme.example", "--email", "ben@acme.example")
    assert created.exit_code == 0, created.output
    assert "created subscription 1" in created.output
    subs = run(db, "subscriptions", "list", "--tenant", "acme")
    assert "control_tower" in subs.output and "active" in subs.output
    assert "anna@acme.example" in subs.output
    renewed = run(db, "subscriptions", "renew", "1", "--period-end", "2100-01-31")
    assert renewed.exit_code == 0 and "2100-01-31" in renewed.output
    cancelled = run(db, "subscriptions", "revoke", "1")
    assert cancelled.exit_code == 0 and "cancelled subscription 1" in cancelled.output
    assert "cancelled" in run(db, "subscriptions", "list").output


def test_expired_subscription_listed_as_expired(db: Path) -> None:
    _tenant(db)
    run(db, "subscriptions", "create", "--tenant", "acme", "--connector", "control_tower",
        "--plan", "starter", "--period-end", "2001-01-31")
    assert "expired" in run(db, "subscriptions", "list").output


@pytest.mark.parametrize(("args", "message"), [
    (("tenants", "create", "Bad Id", "--name", "x", "--warehouse", "duckdb:///x.duckdb",
      "--currency", "EUR"), "tenant id must be"),
    (("subscriptions", "create", "--tenant", "nope", "--connector", "control_tower",
      "--plan", "pro", "--period-end", "2099-01-01"), "unknown tenant 'nope'"),
    (("subscriptions", "create", "--tenant", "acme", "--connector", "control_tower",
      "--plan", "gold", "--period-end", "2099-01-01"), "'gold' is not one of"),
    (("subscriptions", "create", "--tenant", "acme", "--connector", "control_tower",
      "--plan", "pro", "--period-end", "31/12/2099"), "does not match the format"),
    (("subscriptions", "revoke", "9"), "no subscription 9"),
    (("keys", "create", "--tenant", "nope"), "unknown tenant 'nope'"),
    (("keys", "revoke", "deadbeef"), "no API key with prefix 'deadbeef'"),
])
def test_errors_are_clear(db: Path, args: tuple[str, ...], message: str) -> None:
    _tenant(db)
    result = run(db, *args)
    assert result.exit_code != 0
    assert message in result.output


def test_control_db_defaults_to_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env" / "control.sqlite3"
    monkeypatch.setenv("ODC_CONTROL_DB", str(path))
    result = CliRunner().invoke(cli, ["tenants", "create", "acme", "--name", "Acme",
                                      "--warehouse", "bigquery://p/d", "--currency", "USD"])
    assert result.exit_code == 0, result.output
    assert path.exists()


def _commands() -> list[tuple[str, ...]]:
    out = []
    for group in ("tenants", "subscriptions", "keys"):
        command = cli.commands[group]
        assert isinstance(command, click.Group)
        out.append((group,))
        out.extend((group, name) for name in command.commands)
    return out


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_help_everywhere(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    if len(path) == 2:
        assert "--control-db" in result.output


def test_every_group_has_create_list_revoke() -> None:
    names = {path for path in _commands() if len(path) == 2}
    for group in ("subscriptions", "keys"):
        assert {(group, c) for c in ("create", "list", "revoke")} <= names
    assert {("tenants", "create"), ("tenants", "list")} <= names


def test_revoking_a_tenant_cancels_its_subscriptions_and_keys(db: Path) -> None:
    _tenant(db)
    run(db, "subscriptions", "create", "--tenant", "acme", "--connector", "control_tower",
        "--plan", "pro", "--period-end", "2099-01-31")
    raw = run(db, "keys", "create", "--tenant", "acme").stdout.strip().splitlines()[-1]
    store = SQLiteControlStore(db, PEPPER.encode())
    try:
        assert store.authenticate_key(raw) is not None
        result = run(db, "tenants", "revoke", "acme")
        assert result.exit_code == 0, result.output
        assert "cancelled 1 subscription(s), revoked 1 key(s)" in result.output
        assert store.authenticate_key(raw) is None
        assert [s.status for s in store.list_subscriptions("acme")] == ["cancelled"]
        assert store.get_tenant("acme") is not None  # the record stays for the audit trail
    finally:
        store.close()
    assert "unknown tenant 'nope'" in run(db, "tenants", "revoke", "nope").output
