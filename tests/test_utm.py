"""UTM link builder: every link it builds is traced to the channel it was built for."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ondigital_connect.cli import cli
from ondigital_connect.errors import ConfigError
from ondigital_connect.kpi.channels import UNTRACED, Touch, channel_of, channels
from ondigital_connect.kpi.utm import MEDIUM_FOR, build_link, normalise

SOURCE_FOR = {"Paid Search": "google", "Organic Search": "bing", "Paid Social": "facebook",
              "Paid Video": "youtube", "Paid Shopping": "prisjakt", "Organic Shopping": "prisjakt",
              "Organic Social": "instagram", "Organic Video": "vimeo", "SMS": "sms"}
TAGGABLE = [c for c in channels() if c not in UNTRACED]


def traced(url: str) -> str:
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return channel_of(Touch(q.get("utm_source"), q.get("utm_medium"), q.get("utm_campaign")))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TAGGABLE), st.text(min_size=1, max_size=30).filter(str.strip))
def test_a_built_link_is_traced_to_its_channel(channel: str, campaign: str) -> None:
    if channel == "Cross-network":
        campaign = f"{campaign} cross-network"
    source = SOURCE_FOR.get(channel, "partner")
    try:
        link = build_link("https://shop.example/sale", channel=channel, source=source,
                          campaign=campaign)
    except ConfigError:
        # refused only when the campaign itself moves the link (e.g. one with "shopping")
        medium = MEDIUM_FOR[channel]
        assert channel_of(Touch(source, medium, normalise(campaign))) != channel
        return
    assert traced(link.url) == channel


def test_values_are_normalised_and_the_url_is_kept() -> None:
    link = build_link("https://shop.example/p?color=red&UTM_SOURCE=old&utm_medium=x#top",
                      channel="Paid Social", source=" Facebook ", campaign="Black  Friday",
                      content="Video A")
    parts = urlsplit(link.url)
    assert parts.fragment == "top" and parts.path == "/p"
    assert parse_qs(parts.query) == {"color": ["red"], "utm_source": ["facebook"],
                                     "utm_medium": ["paid_social"],
                                     "utm_campaign": ["black_friday"], "utm_content": ["video_a"]}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"channel": "Paid Search", "source": "newsletter"}, "needs a source among: google"),
    ({"channel": "Direct", "source": "x"}, "cannot tag a link for channel 'Direct'"),
    ({"channel": "Paid Socials", "source": "x"}, "cannot tag"),
    ({"channel": "Email", "source": "news", "medium": "cpc"}, "traced to 'Paid Other'"),
    ({"channel": "Email", "source": "  "}, "utm_source must not be empty"),
])
def test_links_that_would_not_trace_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_link("https://shop.example/", campaign="c", **kwargs)


@pytest.mark.parametrize("url", ["ftp://shop.example/", "shop.example/x", "https:///x"])
def test_only_http_urls_are_tagged(url: str) -> None:
    with pytest.raises(ConfigError, match="not an http"):
        build_link(url, channel="Email", source="newsletter", campaign="c")


def test_cli_prints_the_link_or_the_reason() -> None:
    ok = CliRunner().invoke(cli, ["utm", "--url", "https://shop.example/", "--channel",
                                  "paid search", "--source", "Google", "--campaign", "Brand"])
    assert ok.exit_code == 0, ok.output
    assert traced(ok.output.strip()) == "Paid Search"
    bad = CliRunner().invoke(cli, ["utm", "--url", "https://shop.example/", "--channel",
                                   "Paid Search", "--source", "newsletter", "--campaign", "x"])
    assert bad.exit_code == 2 and "needs a source among" in bad.output
