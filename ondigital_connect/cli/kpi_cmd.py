"""``ondigital-connect kpi-dictionary``: the KPI dictionary rendered from the metric registry."""

from __future__ import annotations

from pathlib import Path

import click

from ondigital_connect.kpi import METRICS
from ondigital_connect.kpi.dictionary import render_dictionary


@click.command("kpi-dictionary")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (e.g. docs/kpis.md) instead of printing.")
def kpi_dictionary(output: Path | None) -> None:
    """Print (or write) the KPI dictionary: every metric, its formula, basis and traps."""
    text = render_dictionary(METRICS)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} ({len(METRICS)} metrics)")
