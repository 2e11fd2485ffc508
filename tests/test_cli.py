"""The command line: help everywhere, status on a real warehouse, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from ondigital_connect.cli import cli
from ondigital_connect.sync import SyncEngine
from ondigital_connect.warehouse import DuckDBWarehouse
from tests.conftest import NOW
from tests.fakes import ListSource, record


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out += _commands(cmd, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_status_shows_runs_counts_and_rejects(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "s.duckdb"
    wh = DuckDBWarehouse(path)
    records = [record(i, hours=i) for i in range(5)]
    records[1]["amount"] = "n/a"
    SyncEngine(wh, lock_dir=tmp_path / "locks", clock=lambda: NOW).run(
        ListSource(records), "orders")
    wh.close()
    result = CliRunner().invoke(cli, ["status", "--warehouse", f"duckdb://{path}"])
    assert result.exit_code == 0, result.output
    assert "fake/acct/orders" in result.output
    assert "succeeded" in result.output
    assert "not a decimal" in result.output
    assert "│ orders           │ 4    │" in result.output


def test_sync_without_token_says_which_variable(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODC_SHOPIFY_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["sync", "shopify", "--shop", "x.myshopify.com",
                                      "--warehouse", f"duckdb://{tmp_path}/w.duckdb"])
    assert result.exit_code != 0
    assert "ODC_SHOPIFY_TOKEN" in result.output


def test_status_on_a_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["status", "--warehouse", "duckdb://"])
    assert result.exit_code != 0
    assert "DuckDB URL" in result.output


def test_the_cli_syncs_every_stream_the_shopify_source_has() -> None:
    from ondigital_connect.demo import SHOPIFY_STREAMS
    from ondigital_connect.sources.shopify import ShopifySource

    assert set(SHOPIFY_STREAMS) == set(ShopifySource.streams)


def test_kpi_dictionary_prints_and_writes_the_registry(tmp_path: Path) -> None:
    printed = CliRunner().invoke(cli, ["kpi-dictionary"])
    assert printed.exit_code == 0 and "### AOV (`aov`)" in printed.output
    out = tmp_path / "kpis.md"
    written = CliRunner().invoke(cli, ["kpi-dictionary", "--output", str(out)])
    assert written.exit_code == 0 and "metrics" in written.output
    assert out.read_text(encoding="utf-8") == printed.output


def test_sync_shopify_against_the_sandbox_then_builds_the_kpi_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ondigital_connect.sandbox import ShopifySandbox
    from ondigital_connect.simulate import SimulatedBusiness
    from ondigital_connect.warehouse import DuckDBWarehouse

    business = SimulatedBusiness(seed=3, orders=150, lines_per_order=2)
    monkeypatch.setenv("ODC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SANDBOX_TOKEN", "shpat_cli")
    db = tmp_path / "shop.duckdb"
    rules = tmp_path / "rules.toml"  # the tenant's own rule: every medium is "Everything"
    rules.write_text('[[channel_rules]]\nchannel = "Everything"\nmedium = ".*"\n')
    with ShopifySandbox(business, token="shpat_cli", plan="unlimited",
                        max_query_cost=None) as sandbox:
        result = CliRunner().invoke(cli, [
            "sync", "shopify", "--shop", business.shop_domain, "--warehouse", f"duckdb:///{db}",
            "--token-env", "SANDBOX_TOKEN", "--base-url", sandbox.url, "--stream", "orders",
            "--channel-rules", str(rules)])
    assert result.exit_code == 0, result.output
    assert "built KPI facts in SEK" in result.output
    wh = DuckDBWarehouse(db, read_only=True)
    orders = wh.fetch("SELECT count(*) FROM orders WHERE NOT is_test")[0][0]
    assert wh.fetch("SELECT count(*) FROM order_facts") == [(orders,)]
    # the sync's build used the tenant's rules (GA4's defaults have no such channel)
    assert wh.fetch("SELECT count(*) FROM order_facts WHERE channel = 'Everything'")[0][0] > 0
    wh.close()


def test_sync_shopify_page_workers_reach_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--page-workers 2`` syncs the same orders (and is passed to the source's settings)."""
    from ondigital_connect.sandbox import ShopifySandbox
    from ondigital_connect.simulate import SimulatedBusiness
    from ondigital_connect.sources.shopify import ShopifySource
    from ondigital_connect.warehouse import DuckDBWarehouse

    seen: list[int] = []
    real_init = ShopifySource.__init__

    def spy(self: ShopifySource, settings: Any, **kwargs: Any) -> None:
        seen.append(settings.page_workers)
        real_init(self, settings, **kwargs)

    monkeypatch.setattr(ShopifySource, "__init__", spy)
    business = SimulatedBusiness(seed=3, orders=150, lines_per_order=2)
    monkeypatch.setenv("ODC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SANDBOX_TOKEN", "shpat_cli")
    db = tmp_path / "shop.duckdb"
    with ShopifySandbox(business, token="shpat_cli", plan="unlimited",
                        max_query_cost=None) as sandbox:
        result = CliRunner().invoke(cli, [
            "sync", "shopify", "--shop", business.shop_domain, "--warehouse", f"duckdb:///{db}",
            "--token-env", "SANDBOX_TOKEN", "--base-url", sandbox.url, "--stream", "orders",
            "--page-workers", "2", "--no-build"])
        held = len(list(business.orders(as_of=sandbox.as_of)))
    assert result.exit_code == 0, result.output
    assert seen == [2]
    wh = DuckDBWarehouse(db, read_only=True)
    assert wh.fetch("SELECT count(*) FROM orders") == [(held,)]
    wh.close()
