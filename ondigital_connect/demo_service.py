"""The demo's last step: a control database with one tenant, its subscriptions and a key.

``ondigital-connect demo --serve`` then starts the connector service over the demo warehouse,
so Looker Studio (or curl) can ask it for KPIs with the printed key. Everything lives in a
folder of its own, recreated on each run; the pepper is a demo value, never for production.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from ondigital_connect.connectors import CONNECTORS
from ondigital_connect.control import SQLiteControlStore

DEMO_PEPPER = "demo-only-key-pepper"  # noqa: S105 - a demo value, printed in the docs


@dataclass(frozen=True, slots=True)
class DemoService:
    """Where the demo's control database is and the key that reads the demo tenant."""

    control_db: Path
    key: str
    env: dict[str, str]


def prepare_demo_service(warehouse: Path, folder: Path, currency: str = "SEK") -> DemoService:
    """A fresh control database in ``folder``: tenant ``demo`` on ``warehouse``, subscribed to
    every connector for a year on the enterprise plan, and one API key."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    control_db = folder / "control.sqlite3"
    store = SQLiteControlStore(control_db, DEMO_PEPPER.encode())
    try:
        store.create_tenant("demo", "Demo Shop", f"duckdb:///{warehouse.resolve()}", currency)
        until = dt.date.today() + dt.timedelta(days=365)
        for connector in CONNECTORS:
            store.create_subscription("demo", connector, "enterprise", until)
        key, _ = store.create_key("demo", "demo")
    finally:
        store.close()
    env = {"ODC_CONTROL_DB": str(control_db), "ODC_KEY_PEPPER": DEMO_PEPPER}
    return DemoService(control_db, key, env)
