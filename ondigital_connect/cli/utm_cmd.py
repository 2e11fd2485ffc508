"""``ondigital-connect utm``: build a UTM-tagged link that is traced to the intended channel."""

from __future__ import annotations

import click

from ondigital_connect.errors import ConfigError
from ondigital_connect.kpi.channels import UNTRACED, channels
from ondigital_connect.kpi.utm import build_link

_TAGGABLE = [c for c in channels() if c not in UNTRACED]


@click.command("utm")
@click.option("--url", required=True, help="The landing page, e.g. https://shop.example/sale.")
@click.option("--channel", required=True, type=click.Choice(_TAGGABLE, case_sensitive=False),
              help="The channel the link's visits must be counted in.")
@click.option("--source", required=True, help="Where the link is placed: facebook, google, ...")
@click.option("--campaign", required=True, help="Campaign name (lowercased, spaces to _).")
@click.option("--medium", help="Override the channel's usual medium (e.g. cpc, paid_social).")
@click.option("--content", help="utm_content: the ad or link variant.")
@click.option("--term", help="utm_term: the keyword.")
def utm(url: str, channel: str, source: str, campaign: str, medium: str | None,
        content: str | None, term: str | None) -> None:
    """Print a tagged link, checked against the channel rules the reports use."""
    channel = next(c for c in _TAGGABLE if c.lower() == channel.lower())
    try:
        link = build_link(url, channel=channel, source=source, campaign=campaign, medium=medium,
                          content=content, term=term)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(link.url)
