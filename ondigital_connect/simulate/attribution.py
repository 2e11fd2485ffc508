"""Attribution of web orders: UTM parameters, landing pages, click ids and referrers."""

from __future__ import annotations

from bisect import bisect_right

from ondigital_connect.simulate.catalog import NO_UTM_MEDIUMS, REFERRERS
from ondigital_connect.simulate.model import Campaign

SHOP_URL = "https://demo-shop.example/"
AD_CONTENT = ("video_a", "carousel_b", "static_c")
SEARCH_TERMS = ("demo shop", "nordic wool", "winter jacket", "sneakers")
CLICK_PREFIX = {"gclid": "Cj0KCQ", "fbclid": "IwAR", "msclkid": "", "ttclid": "E."}
NO_UTM: tuple[None, ...] = (None,) * 7
_VARIANTS = 8
Utm = tuple[str | None, str | None, str | None, str | None, str | None, str | None, str | None]


class CampaignTable:
    """Campaigns by weight, each with a few prebuilt UTM/landing-page variants."""

    def __init__(self, campaigns: tuple[Campaign, ...]) -> None:
        total = sum(c.weight for c in campaigns)
        acc = 0.0
        self._cum: list[int] = []
        self._variants: list[list[tuple[str | None, ...]]] = []
        for c in campaigns:
            acc += c.weight
            self._cum.append(min((1 << 32) - 1, int(acc / total * (1 << 32))))
            self._variants.append([_variant(c, v) for v in range(_VARIANTS)])

    def pick(self, h: int, click_id: int) -> Utm:
        """(source, medium, campaign, content, term, landing page, referrer) for a draw."""
        at = min(bisect_right(self._cum, h >> 32), len(self._cum) - 1)
        source, medium, campaign, content, term, url, referrer, click = \
            self._variants[at][h & (_VARIANTS - 1)]
        if click is not None:
            url = f"{url}&{click}{click_id:016x}"
        return source, medium, campaign, content, term, url, referrer


def _variant(c: Campaign, v: int) -> tuple[str | None, ...]:
    """One UTM variant of a campaign: ad content for paid social, a search term for cpc."""
    referrer = REFERRERS.get((c.utm_source, c.utm_medium))
    if c.utm_medium in NO_UTM_MEDIUMS:
        return (None, None, None, None, None, SHOP_URL + c.landing_path, referrer, None)
    content = AD_CONTENT[v % len(AD_CONTENT)] if c.utm_medium == "paid_social" else None
    term = SEARCH_TERMS[v % len(SEARCH_TERMS)] if c.utm_medium == "cpc" else None
    query = f"utm_source={c.utm_source}&utm_medium={c.utm_medium}&utm_campaign={c.utm_campaign}"
    if content:
        query += f"&utm_content={content}"
    if term:
        query += f"&utm_term={term.replace(' ', '+')}"
    click = f"{c.click_param}={CLICK_PREFIX.get(c.click_param, '')}" if c.click_param else None
    return (c.utm_source, c.utm_medium, c.utm_campaign, content, term,
            f"{SHOP_URL}{c.landing_path}?{query}", referrer, click)
