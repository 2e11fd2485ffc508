"""Two tenants for the service tests, with data nobody could mistake for the other's.

- ``alpha`` reports in SEK over the hand-made shop of ``tests/kpi_shop.py`` (February net sales
  162.00 over 4 orders; channels Email, Organic Search, Direct, Paid Search).
- ``beta`` reports in EUR over one order of its own: 2026-02-03, market "FI", utm_source
  ``betasource`` (channel Referral), 1 x 9,876.00 EUR incl. 25 % VAT -> net 7,900.80 EUR.
  The markers ``BETA_MARKERS`` must never appear in anything alpha receives, and vice versa.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from connector_service.app import create_app
from connector_service.settings import ServiceSettings
from ondigital_connect.control import SQLiteControlStore
from ondigital_connect.models.tables import get_table
from ondigital_connect.transforms import build
from ondigital_connect.warehouse import DuckDBWarehouse
from tests.kpi_shop import line, load_shop, order

TODAY = dt.date(2026, 3, 1)
PEPPER = b"test-pepper"
ADMIN_TOKEN = "admin-secret-for-tests"  # noqa: S105
BETA_MARKERS = ("betasource", "7900.8", "9876", "FI", "EUR")
ALPHA_MARKERS = ("newsletter", "162", "Organic Search", "SEK")


@dataclass(frozen=True)
class Env:
    """Paths and keys of a two-tenant service setup."""

    root: Path
    settings: ServiceSettings
    store: SQLiteControlStore
    alpha_key: str
    beta_key: str
    revoked_key: str
    alpha_db: Path
    beta_db: Path


def load_beta(warehouse: DuckDBWarehouse) -> None:
    """Beta's single order (see the module docstring)."""
    row = order("BETA1", "2026-02-03", "EUR", customer_key="b1", market="FI",
                utm_source="betasource", utm_medium="referral")
    with warehouse.transaction():
        warehouse.merge_entities(get_table("orders"), {
            "orders": [{**row, "account_id": "beta-shop"}],
            "order_lines": [{**line("BETA1", "9876.00", 1, "0", "1975.20", "EUR"),
                             "account_id": "beta-shop"}],
            "refunds": [], "refund_lines": []}, run_id="b")


def make_warehouse(path: Path, loader: object, currency: str) -> Path:
    warehouse = DuckDBWarehouse(path)
    loader(warehouse)  # type: ignore[operator]
    build(warehouse, reporting_currency=currency)
    warehouse.close()
    return path


def make_env(root: Path, **settings: object) -> Env:
    """Warehouses, control database, subscriptions and keys under ``root``."""
    alpha_db = make_warehouse(root / "alpha.duckdb", load_shop, "SEK")
    beta_db = make_warehouse(root / "beta.duckdb", load_beta, "EUR")
    store = SQLiteControlStore(root / "control.sqlite3", PEPPER)
    store.create_tenant("alpha", "Alpha AB", f"duckdb:///{alpha_db}", "SEK")
    store.create_tenant("beta", "Beta Oy", f"duckdb:///{beta_db}", "EUR")
    end = dt.date(2099, 12, 31)
    store.create_subscription("alpha", "control_tower", "pro", end, emails=("ana@alpha.example",))
    store.create_subscription("alpha", "shopify", "starter", end)
    store.create_subscription("alpha", "inventory", "starter", dt.date(2026, 2, 1))  # lapsed
    store.create_subscription("beta", "control_tower", "starter", end,
                              emails=("bo@beta.example",))
    alpha_key, _ = store.create_key("alpha", "tests")
    beta_key, _ = store.create_key("beta", "tests")
    revoked_key, info = store.create_key("alpha", "old")
    store.revoke_key(info.prefix)
    options = {"control_db": root / "control.sqlite3", "key_pepper": PEPPER.decode(),
               "admin_token": ADMIN_TOKEN, **settings}
    return Env(root, ServiceSettings(**options), store, alpha_key, beta_key, revoked_key,
               alpha_db, beta_db)


def app_for(env: Env, **kw: object):  # noqa: ANN201 - a Flask app
    """The app over ``env`` with the test's fixed date and rate-limit counts of its own (so
    one test's requests never use up another's minute)."""
    settings = env.settings.model_copy(
        update={"rate_limit_db": env.root / f"ratelimit-{uuid.uuid4().hex[:8]}.sqlite3"})
    return create_app(settings, today=lambda: TODAY, **kw)  # type: ignore[arg-type]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def data_body(*fields: str, start: str = "2026-02-01", end: str = "2026-02-28",
              filters: list | None = None, filter_only: tuple[str, ...] = (),
              **more: object) -> dict:
    """A getData request as Looker Studio sends it."""
    body: dict = {
        "configParams": {}, "scriptParams": {"lastRefresh": "1700000000000"},
        "dateRange": {"startDate": start, "endDate": end},
        "fields": [{"name": f} for f in fields] + [{"name": f, "forFilterOnly": True}
                                                   for f in filter_only],
    }
    if filters is not None:
        body["dimensionsFilters"] = filters
    body.update(more)
    return body


def clause(field: str, operator: str, *values: str, exclude: bool = False) -> dict:
    return {"fieldName": field, "values": list(values), "operator": operator,
            "type": "EXCLUDE" if exclude else "INCLUDE"}
