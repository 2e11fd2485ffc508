"""UTM link builder: tagged links that the channel rules are sure to trace as intended.

``build_link(url, channel="Paid Social", source="facebook", campaign="Black Friday")`` picks the
medium GA4 expects for the channel, normalises every value (lowercase, trimmed, spaces to
``_``, so one campaign is not three in the reports), tags the URL (other query parameters and
the fragment are kept, old ``utm_*`` replaced) and checks the link against the same rules the
transforms use: a link whose channel would differ is refused with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ondigital_connect.errors import ConfigError
from ondigital_connect.kpi.channels import (
    DEFAULT_RULES,
    SEARCH_SITES,
    SHOPPING_SITES,
    SOCIAL_SITES,
    UNTRACED,
    VIDEO_SITES,
    Rule,
    Touch,
    channel_of,
    channels,
)

#: The medium a link for each channel gets unless one is given.
MEDIUM_FOR = {
    "Cross-network": "cpc", "Paid Shopping": "cpc", "Paid Search": "cpc",
    "Paid Social": "paid_social", "Paid Video": "cpv", "Display": "display", "Paid Other": "paid",
    "Organic Shopping": "referral", "Organic Social": "social", "Organic Video": "video",
    "Organic Search": "organic", "Referral": "referral", "Email": "email",
    "Affiliates": "affiliate", "Audio": "audio", "SMS": "sms",
    "Mobile Push Notifications": "push",
}
_SITES_FOR = {"Paid Search": SEARCH_SITES, "Paid Social": SOCIAL_SITES, "Paid Video": VIDEO_SITES,
              "Paid Shopping": SHOPPING_SITES, "Organic Search": SEARCH_SITES}
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


@dataclass(frozen=True, slots=True)
class TaggedLink:
    """A built link and the values it carries."""

    url: str
    channel: str
    source: str
    medium: str
    campaign: str
    content: str | None = None
    term: str | None = None


def normalise(value: str) -> str:
    """Lowercase, trimmed, inner whitespace as one ``_``."""
    return re.sub(r"\s+", "_", value.strip().lower())


def build_link(
    url: str, *, channel: str, source: str, campaign: str, medium: str | None = None,
    content: str | None = None, term: str | None = None, rules: Sequence[Rule] = DEFAULT_RULES,
) -> TaggedLink:
    """Tag ``url`` for ``channel``; ConfigError says what to change when it would not trace."""
    if channel in UNTRACED or channel not in channels(rules):
        known = ", ".join(c for c in channels(rules) if c not in UNTRACED)
        raise ConfigError(f"cannot tag a link for channel {channel!r}; channels: {known}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"not an http(s) URL: {url!r}")
    values = {"utm_source": normalise(source), "utm_campaign": normalise(campaign),
              "utm_medium": normalise(medium or MEDIUM_FOR.get(channel, ""))}
    for key, value in (("utm_content", content), ("utm_term", term)):
        if value and value.strip():
            values[key] = normalise(value)
    empty = [k for k in ("utm_source", "utm_medium", "utm_campaign") if not values[k]]
    if empty:
        raise ConfigError(f"{', '.join(empty)} must not be empty")
    got = channel_of(Touch(values["utm_source"], values["utm_medium"], values["utm_campaign"]),
                     rules)
    if got != channel:
        raise ConfigError(_why(channel, got, values))
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in UTM_KEYS]
    query = urlencode(kept + [(k, values[k]) for k in UTM_KEYS if k in values])
    return TaggedLink(urlunsplit(parts._replace(query=query)), channel, values["utm_source"],
                      values["utm_medium"], values["utm_campaign"], values.get("utm_content"),
                      values.get("utm_term"))


def _why(channel: str, got: str, values: dict[str, str]) -> str:
    said = f"source {values['utm_source']!r} / medium {values['utm_medium']!r}"
    hint = ""
    sites = _SITES_FOR.get(channel)
    if sites:
        hint = f"; {channel} needs a source among: {', '.join(sites)}"
    return f"{said} would be traced to {got!r}, not {channel!r}{hint}"
