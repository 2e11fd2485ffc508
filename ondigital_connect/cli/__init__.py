"""The ``ondigital-connect`` command line: sync, build, KPIs, the demo, the service and its keys."""

from __future__ import annotations

import click

from ondigital_connect.cli.build_cmd import build
from ondigital_connect.cli.control_cmd import keys, subscriptions, tenants
from ondigital_connect.cli.demo_cmd import demo
from ondigital_connect.cli.kpi_cmd import kpi_dictionary
from ondigital_connect.cli.kpi_query_cmd import kpi
from ondigital_connect.cli.serve_cmd import serve
from ondigital_connect.cli.status_cmd import status
from ondigital_connect.cli.sync_cmd import sync
from ondigital_connect.cli.utm_cmd import utm


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ondigital-connect")
def cli() -> None:
    """Ondigital Connect: sync sources into a warehouse, build the KPIs, serve them to Looker
    Studio, and manage the tenants, subscriptions and keys of the service."""


cli.add_command(sync)
cli.add_command(status)
cli.add_command(build)
cli.add_command(demo)
cli.add_command(kpi)
cli.add_command(kpi_dictionary)
cli.add_command(utm)
cli.add_command(tenants)
cli.add_command(subscriptions)
cli.add_command(keys)
cli.add_command(serve)


def main() -> None:
    """Console-script entry point."""
    cli()
