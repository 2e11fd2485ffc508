"""Channel grouping: GA4's default channel groups as ordered rules, in Python and in SQL.

A touch (utm source, medium and campaign; a click id; a referrer) is first completed: a gclid
without UTMs is google / cpc, a referrer from a search engine is organic search. Then the rules
run in GA4's order and the first that matches names the channel; none matching is
``Unassigned``. Tenants may put their own rules first. The same rules render to SQL for the
transforms, and a test holds the two renderings equal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ondigital_connect.errors import ConfigError

SEARCH_SITES = ("google", "bing", "yahoo", "duckduckgo", "baidu", "yandex", "ecosia", "ask",
                "aol", "naver", "seznam", "startpage", "qwant", "brave", "msn", "sogou", "daum")
SOCIAL_SITES = ("facebook", "fb", "instagram", "ig", "linkedin", "lnkd", "twitter", "t", "x",
                "tiktok", "pinterest", "snapchat", "reddit", "threads", "tumblr", "vk",
                "whatsapp", "messenger", "telegram", "discord", "quora", "weibo")
VIDEO_SITES = ("youtube", "vimeo", "twitch", "dailymotion")
SHOPPING_SITES = ("shopping", "prisjakt", "pricerunner", "prisguiden", "hintaopas", "klarna",
                  "amazon", "ebay", "etsy", "idealo", "kelkoo")
PAID = r"(.*cp.*|ppc|retargeting|paid.*)"
SHOPPING_CAMPAIGN = r"(.*(([^a-df-z]|^)shop|shopping).*)"
DIRECT, UNASSIGNED = "Direct", "Unassigned"
UNTRACED = (DIRECT, UNASSIGNED)  # no marketing touch can be traced

#: click id -> (source, medium) it stands for when the landing page has no UTMs
CLICK_IDS = {"gclid": ("google", "cpc"), "wbraid": ("google", "cpc"),
             "gbraid": ("google", "cpc"), "dclid": ("dv360", "display"),
             "msclkid": ("bing", "cpc"), "ttclid": ("tiktok", "cpc"),
             "fbclid": ("facebook", "referral")}  # fbclid is on organic links too

_HOST = r"^(?:[a-z][a-z0-9+.-]*://)?([^/:?#]+)"
_PREFIX = r"^(?:www|m|l|lm|mobile|web)\."
_SITE = r"([a-z0-9-]+)\.(?:co\.|com\.|org\.)?[a-z]+$"


@dataclass(frozen=True, slots=True)
class Rule:
    """``channel`` when every given condition holds. ``sites`` tests the source's site name;
    regexes must match the whole (lowercased) value. ``any_of`` makes the conditions ORed."""

    channel: str
    sites: tuple[str, ...] = ()
    medium: str | None = None
    source: str | None = None
    campaign: str | None = None
    any_of: bool = False
    and_medium: str | None = None  # a medium pattern that must hold as well (after any_of)


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(DIRECT, source=r"\(direct\)", medium=r"\(not set\)|\(none\)"),
    Rule("Cross-network", campaign=r".*cross-network.*"),
    Rule("Paid Shopping", sites=SHOPPING_SITES, campaign=SHOPPING_CAMPAIGN, any_of=True,
         and_medium=PAID),
    Rule("Paid Search", sites=SEARCH_SITES, medium=PAID),
    Rule("Paid Social", sites=SOCIAL_SITES, medium=PAID),
    Rule("Paid Video", sites=VIDEO_SITES, medium=PAID),
    Rule("Display", medium=r"display|banner|expandable|interstitial|cpm"),
    Rule("Paid Other", medium=PAID),
    Rule("Organic Shopping", sites=SHOPPING_SITES, campaign=SHOPPING_CAMPAIGN, any_of=True),
    Rule("Organic Social", sites=SOCIAL_SITES,
         medium=r"social|social-network|social-media|sm|social network|social media",
         any_of=True),
    Rule("Organic Video", sites=VIDEO_SITES, medium=r".*video.*", any_of=True),
    Rule("Organic Search", sites=SEARCH_SITES, medium="organic", any_of=True),
    Rule("Referral", medium="referral|app|link"),
    Rule("Email", source="email|e-mail|e_mail|e mail", medium="email|e-mail|e_mail|e mail",
         any_of=True),
    Rule("Affiliates", medium="affiliate"),
    Rule("Audio", medium="audio"),
    Rule("SMS", source="sms", medium="sms", any_of=True),
    Rule("Mobile Push Notifications", source="firebase",
         medium=r".*push$|.*mobile.*|.*notification.*", any_of=True),
)


@dataclass(frozen=True, slots=True)
class Touch:
    """What an order or session knows of how the visitor came (any part may be missing)."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    click_id_param: str | None = None  # e.g. "gclid"
    referrer: str | None = None


def site_of(source: str) -> str:
    """The site name of a source: ``www.google.se`` -> ``google``, ``facebook`` stays."""
    match = re.match(_HOST, source.lower().strip())
    host = re.sub(_PREFIX, "", match.group(1) if match else "")
    site = re.search(_SITE, host) if "." in host else None
    return site.group(1) if site else host


def complete(touch: Touch) -> tuple[str, str, str]:
    """(source, medium, campaign) as GA4 would record them, lowercased and trimmed."""
    source, medium, campaign = (_clean(touch.source), _clean(touch.medium),
                                _clean(touch.campaign))
    if source or medium:
        return source or "(not set)", medium or "(not set)", campaign or "(not set)"
    if touch.click_id_param in CLICK_IDS:
        source, medium = CLICK_IDS[touch.click_id_param]
        return source, medium, campaign or "(not set)"
    match = re.match(_HOST, _clean(touch.referrer))
    if match:
        source, site = match.group(1), site_of(match.group(1))
        medium = "organic" if site in SEARCH_SITES else (
            "social" if site in SOCIAL_SITES else "referral")
        return source, medium, campaign or "(referral)"
    return "(direct)", "(none)", campaign or "(not set)"


def click_param(landing_page: str | None) -> str | None:
    """The click id parameter a landing page carries (gclid first, as the mapper reads it)."""
    query = _clean(landing_page).partition("#")[0]
    for name in CLICK_IDS:
        if re.search(f"[?&]{name}=[^&#]", query):
            return name
    return None


def touch_of(utm_source: str | None, utm_medium: str | None, utm_campaign: str | None,
             landing_page: str | None, referrer: str | None) -> Touch:
    """The touch of an order or session from its stored columns."""
    return Touch(utm_source, utm_medium, utm_campaign, click_param(landing_page), referrer)


def touch_sql(utm_source: str, utm_medium: str, utm_campaign: str, landing_page: str,
              referrer: str, *, dialect: str = "duckdb") -> tuple[str, str, str]:
    """SQL for :func:`complete` of :func:`touch_of`: (source, medium, campaign) expressions."""
    def lit(text: str) -> str:
        return _literal(text, dialect)

    def clean(expr: str) -> str:
        return f"lower(trim(coalesce({expr}, '')))"

    src, med, cmp, ref = clean(utm_source), clean(utm_medium), clean(utm_campaign), clean(referrer)
    every = ", 'g'" if dialect == "duckdb" else ""  # BigQuery always replaces every match
    query = f"regexp_replace({clean(landing_page)}, {lit('#.*$')}, ''{every})"
    has = "regexp_matches" if dialect == "duckdb" else "REGEXP_CONTAINS"
    clicks = [(f"{has}({query}, {lit('[?&]' + name + '=[^&#]')})", pair)
              for name, pair in CLICK_IDS.items()]
    group = ", 1" if dialect == "duckdb" else ""
    host = f"coalesce(regexp_extract({ref}, {lit(_HOST)}{group}), '')"
    site = _site_sql(host, dialect)
    utm = f"({src} <> '' OR {med} <> '')"
    click_source = " ".join(f"WHEN {c} THEN {lit(p[0])}" for c, p in clicks)
    click_medium = " ".join(f"WHEN {c} THEN {lit(p[1])}" for c, p in clicks)
    ref_medium = (f"CASE WHEN {site} IN ({', '.join(lit(s) for s in SEARCH_SITES)}) THEN "
                  f"'organic' WHEN {site} IN ({', '.join(lit(s) for s in SOCIAL_SITES)}) "
                  "THEN 'social' ELSE 'referral' END")
    source = (f"CASE WHEN {utm} THEN (CASE WHEN {src} = '' THEN '(not set)' ELSE {src} END) "
              f"{click_source} WHEN {host} <> '' THEN {host} ELSE '(direct)' END")
    medium = (f"CASE WHEN {utm} THEN (CASE WHEN {med} = '' THEN '(not set)' ELSE {med} END) "
              f"{click_medium} WHEN {host} <> '' THEN {ref_medium} ELSE '(none)' END")
    any_click = " OR ".join(c for c, _ in clicks)
    fallback = (f"CASE WHEN {utm} OR {any_click} OR {host} = '' THEN '(not set)' "
                "ELSE '(referral)' END")
    campaign = f"CASE WHEN {cmp} <> '' THEN {cmp} ELSE {fallback} END"
    return source, medium, campaign


def channel_of(touch: Touch, rules: Sequence[Rule] = DEFAULT_RULES) -> str:
    """The channel group of ``touch``: the first matching rule, else ``Unassigned``."""
    source, medium, campaign = complete(touch)
    site = site_of(source)
    for rule in rules:
        if _matches(rule, site, source, medium, campaign):
            return rule.channel
    return UNASSIGNED


def _matches(rule: Rule, site: str, source: str, medium: str, campaign: str) -> bool:
    tests = []
    if rule.sites:
        tests.append(site in rule.sites)
    for pattern, value in ((rule.source, source), (rule.medium, medium),
                           (rule.campaign, campaign)):
        if pattern is not None:
            tests.append(re.fullmatch(f"(?:{pattern})", value) is not None)
    if not tests or not (any(tests) if rule.any_of else all(tests)):
        return False
    return rule.and_medium is None or re.fullmatch(f"(?:{rule.and_medium})", medium) is not None


def channel_sql(source: str, medium: str, campaign: str, rules: Sequence[Rule] = DEFAULT_RULES,
                *, dialect: str = "duckdb") -> str:
    """A SQL ``CASE`` giving the channel of completed source/medium/campaign expressions.

    The expressions should already be lowercased and trimmed (as :func:`complete` leaves them).
    Patterns are RE2 (DuckDB and BigQuery both use it) and must match whole values.
    """
    full = _FULL_MATCH[dialect]
    site = _site_sql(source, dialect)
    whens = []
    for rule in rules:
        tests = []
        if rule.sites:
            tests.append(f"{site} IN ({', '.join(_literal(s, dialect) for s in rule.sites)})")
        for pattern, value in ((rule.source, source), (rule.medium, medium),
                               (rule.campaign, campaign)):
            if pattern is not None:
                tests.append(full(value, pattern))
        cond = f" {'OR' if rule.any_of else 'AND'} ".join(f"({t})" for t in tests)
        if rule.and_medium is not None:
            cond = f"({cond}) AND ({full(medium, rule.and_medium)})"
        whens.append(f"WHEN {cond} THEN {_literal(rule.channel, dialect)}")
    return f"CASE {' '.join(whens)} ELSE {_literal(UNASSIGNED, dialect)} END"


def _site_sql(source: str, dialect: str) -> str:
    """SQL for :func:`site_of` (same regexes, RE2). Every ``regexp_extract`` is wrapped in
    ``coalesce(..., '')``: DuckDB gives '' where BigQuery gives NULL for no match."""
    group = ", 1" if dialect == "duckdb" else ""

    def lit(text: str) -> str:
        return _literal(text, dialect)
    host = f"regexp_extract(lower(trim({source})), {lit(_HOST)}{group})"
    host = f"regexp_replace(coalesce({host}, ''), {lit(_PREFIX)}, '')"
    site = f"coalesce(regexp_extract({host}, {lit(_SITE)}{group}), '')"
    return (f"(CASE WHEN strpos({host}, '.') > 0 AND {site} <> '' "
            f"THEN {site} ELSE coalesce({host}, '') END)")


def _literal(text: str, dialect: str = "duckdb") -> str:
    """A SQL string literal: standard quoting for DuckDB, a raw string for BigQuery (whose
    plain strings would read the regex backslashes as escapes)."""
    if dialect == "bigquery":
        if '"' in text or text.endswith("\\"):
            raise ValueError(f"cannot quote {text!r} as a BigQuery raw string")
        return f'r"{text}"'
    return "'" + text.replace("'", "''") + "'"


_FULL_MATCH = {
    "duckdb": lambda value, pattern: f"regexp_full_match({value}, {_literal(pattern)})",
    "bigquery": lambda value, pattern: (
        f"REGEXP_CONTAINS({value}, {_literal('^(?:' + pattern + ')$', 'bigquery')})"),
}


def _clean(value: str | None) -> str:
    return (value or "").strip().lower()


def with_overrides(overrides: Sequence[Rule]) -> tuple[Rule, ...]:
    """A tenant's own rules first, then GA4's defaults (the first match wins)."""
    return (*overrides, *DEFAULT_RULES)


def channels(rules: Sequence[Rule] = DEFAULT_RULES) -> tuple[str, ...]:
    """Every channel a rule can give, in rule order, then ``Unassigned``."""
    return (*dict.fromkeys(rule.channel for rule in rules), UNASSIGNED)


def rules_from_toml(text: str) -> tuple[Rule, ...]:
    """A tenant's channel rules from TOML, placed before GA4's defaults (:func:`with_overrides`).

    ``[[channel_rules]]`` tables with ``channel`` and any of ``sites`` (a list), ``source``,
    ``medium``, ``campaign`` (whole-value regexes), ``any_of`` and ``and_medium``.
    """
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"channel rules: not valid TOML: {exc}") from None
    return with_overrides([_rule(i + 1, item)
                           for i, item in enumerate(data.get("channel_rules", []))])


_RULE_KEYS = {"channel", "sites", "source", "medium", "campaign", "any_of", "and_medium"}


def _rule(number: int, item: dict) -> Rule:
    unknown = set(item) - _RULE_KEYS
    if unknown:
        raise ConfigError(f"channel rule {number}: unknown keys {', '.join(sorted(unknown))}")
    if not isinstance(item.get("channel"), str) or not item["channel"].strip():
        raise ConfigError(f"channel rule {number}: needs a channel name")
    for key in ("source", "medium", "campaign", "and_medium"):
        if item.get(key) is not None:
            try:
                re.compile(item[key])
            except re.error as exc:
                raise ConfigError(f"channel rule {number}: {key} is not a regex: {exc}") from None
    sites = tuple(str(s).lower() for s in item.get("sites", ()))
    return Rule(item["channel"].strip(), sites, item.get("medium"), item.get("source"),
                item.get("campaign"), bool(item.get("any_of", False)), item.get("and_medium"))
