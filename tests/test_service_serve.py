"""``ondigital-connect serve`` and the demo's service setup (gunicorn itself runs in
tests/test_service_gunicorn.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from ondigital_connect.cli import cli
from ondigital_connect.cli.serve_cmd import gunicorn_argv
from ondigital_connect.connectors import CONNECTORS
from ondigital_connect.control import SQLiteControlStore
from ondigital_connect.demo_service import DEMO_PEPPER, prepare_demo_service


def test_serve_runs_gunicorn_with_the_service_config() -> None:
    argv = gunicorn_argv("127.0.0.1:9000", 3, 2)
    assert argv[1:4] == ["-m", "gunicorn", "--config"]
    conf = Path(argv[4])
    assert conf.name == "gunicorn.conf.py" and conf.is_file()
    assert "connector_service.wsgi:app" in conf.read_text()
    assert argv[5:] == ["--bind", "127.0.0.1:9000", "--workers", "3", "--threads", "2"]
    assert CliRunner().invoke(cli, ["serve", "--help"]).exit_code == 0


def test_demo_service_key_reads_every_connector(tmp_path: Path) -> None:
    warehouse = tmp_path / "demo.duckdb"
    service = prepare_demo_service(warehouse, tmp_path / ".odc-demo")
    again = prepare_demo_service(warehouse, tmp_path / ".odc-demo")  # recreated, not appended
    store = SQLiteControlStore(again.control_db, DEMO_PEPPER.encode())
    assert store.authenticate_key(service.key) is None  # the old folder is gone
    principal = store.authenticate_key(again.key)
    assert principal is not None and principal.tenant.id == "demo"
    today = dt.date.today()
    assert all(principal.subscription_for(c, today) for c in CONNECTORS)
    assert again.env["ODC_CONTROL_DB"] == str(again.control_db)
