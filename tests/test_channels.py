"""Channel grouping: GA4's default groups, completed touches, overrides, and SQL == Python."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ondigital_connect.kpi.channels import (
    DEFAULT_RULES,
    Rule,
    Touch,
    channel_of,
    channel_sql,
    click_param,
    complete,
    site_of,
    touch_of,
    touch_sql,
    with_overrides,
)

# Hand-written expectations from GA4's published default channel group definitions.
CASES = [
    (Touch("google", "cpc"), "Paid Search"),
    (Touch("Google", " CPC "), "Paid Search"),
    (Touch("bing", "ppc"), "Paid Search"),
    (Touch("google", "cpc", "shopping_se"), "Paid Shopping"),
    (Touch("prisjakt", "cpc"), "Paid Shopping"),
    (Touch("prisjakt", "referral"), "Organic Shopping"),
    (Touch("facebook", "paid_social"), "Paid Social"),
    (Touch("instagram", "cpm"), "Paid Social"),  # cpm contains "cp": paid before Display
    (Touch("facebook", "social"), "Organic Social"),
    (Touch("linkedin", "post"), "Organic Social"),
    (Touch("youtube", "cpv"), "Paid Video"),
    (Touch("youtube", "referral"), "Organic Video"),
    (Touch("adform", "display"), "Display"),
    (Touch("adform", "banner"), "Display"),
    (Touch("partner", "paid"), "Paid Other"),
    (Touch("google", "organic"), "Organic Search"),
    (Touch("blog.example", "referral"), "Referral"),
    (Touch("newsletter", "email"), "Email"),
    (Touch("email", "weekly"), "Email"),
    (Touch("adtraction", "affiliate"), "Affiliates"),
    (Touch("spotify", "audio"), "Audio"),
    (Touch("sms", "text"), "SMS"),
    (Touch("firebase", "x"), "Mobile Push Notifications"),
    (Touch("app", "web_push"), "Mobile Push Notifications"),
    (Touch("google", "cpc", "pmax_cross-network"), "Cross-network"),
    (Touch("foo", "bar"), "Unassigned"),
    (Touch(None, "cpc"), "Paid Other"),
    (Touch(click_id_param="gclid"), "Paid Search"),
    (Touch(click_id_param="msclkid"), "Paid Search"),
    (Touch(click_id_param="ttclid"), "Paid Social"),
    (Touch(click_id_param="fbclid"), "Organic Social"),  # fbclid rides on organic links too
    (Touch(click_id_param="dclid"), "Display"),
    (Touch(referrer="https://www.google.se/"), "Organic Search"),
    (Touch(referrer="https://l.facebook.com/l.php?u=x"), "Organic Social"),
    (Touch(referrer="https://blog.example.org/post"), "Referral"),
    (Touch("newsletter", "email", click_id_param="gclid"), "Email"),  # UTMs win over click ids
    (Touch(), "Direct"),
]


@pytest.mark.parametrize(("touch", "channel"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_ga4_default_channel_groups(touch: Touch, channel: str) -> None:
    assert channel_of(touch) == channel


def test_sites_and_completion() -> None:
    assert [site_of(s) for s in ("www.google.se", "google", "https://m.facebook.com/x",
                                 "news.google.co.uk", "t.co", "")] == [
        "google", "google", "facebook", "google", "t", ""]
    assert complete(Touch()) == ("(direct)", "(none)", "(not set)")
    assert complete(Touch(click_id_param="gclid", campaign="Summer")) == (
        "google", "cpc", "summer")


def test_tenant_rules_come_first() -> None:
    rules = with_overrides([Rule("Prisjakt", sites=("prisjakt",))])
    assert channel_of(Touch("prisjakt", "cpc"), rules) == "Prisjakt"
    assert channel_of(Touch("google", "cpc"), rules) == "Paid Search"


VOCAB = st.sampled_from([
    "google", "www.google.se", "Facebook", "l.instagram.com", "youtube", "prisjakt", "(direct)",
    "email", "sms", "firebase", "foo", "blog.example.org", "https://t.co/x", "", "bing",
    "cpc", "ppc", "paid_social", "cpm", "display", "banner", "social", "organic", "referral",
    "affiliate", "audio", "video", "web_push", "(none)", "(not set)", "e-mail", "retargeting",
    "shopping_se", "brand", "pmax cross-network", "Summer Sale", "it's",
])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(VOCAB, VOCAB, VOCAB), min_size=1, max_size=40))
def test_sql_gives_the_same_channel_as_python(triples: list[tuple[str, str, str]]) -> None:
    completed = [complete(Touch(*t)) for t in triples]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INT, source VARCHAR, medium VARCHAR, campaign VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                    [(i, *c) for i, c in enumerate(completed)])
    case = channel_sql("source", "medium", "campaign")
    got = [row[0] for row in con.execute(f"SELECT {case} FROM t ORDER BY i").fetchall()]
    assert got == [channel_of(Touch(*t)) for t in triples]


def test_the_sql_agreement_test_has_teeth() -> None:
    broken = tuple(Rule(r.channel, r.sites, "cpc", r.source, r.campaign, r.any_of, r.and_medium)
                   if r.channel == "Paid Search" else r for r in DEFAULT_RULES)
    con = duckdb.connect()
    case = channel_sql("'google'", "'ppc'", "'x'", broken)
    assert con.execute(f"SELECT {case}").fetchone()[0] != channel_of(Touch("google", "ppc"))


def test_bigquery_rendering_uses_raw_regex_strings() -> None:
    sql = channel_sql("s", "m", "c", dialect="bigquery")
    assert 'REGEXP_CONTAINS(m, r"^(?:' in sql and "regexp_full_match" not in sql
    with pytest.raises(ValueError, match="raw string"):
        channel_sql("s", "m", "c", [Rule("X", medium='a"b')], dialect="bigquery")


LANDING = st.sampled_from([
    None, "", "https://shop.example/", "https://shop.example/p?gclid=abc",
    "https://shop.example/p?x=1&fbclid=zz#frag", "https://shop.example/p?msclkid=1&gclid=2",
    "https://shop.example/p#gclid=1", "https://shop.example/p?gclid=", "HTTPS://S.EX/?TTCLID=9",
    "https://shop.example/p?dclid=1", "https://shop.example/p?wbraid=1",
])
REFERRER = st.sampled_from([
    None, "", "  ", "https://www.google.se/", "https://l.facebook.com/l.php", "android-app://x",
    "https://blog.example.org/a", "bing.com", "https://news.google.co.uk/x", "/relative",
])
UTM = st.sampled_from([None, "", " ", "Google", "cpc", "email", "Summer Sale", "facebook",
                       "paid_social", "organic", "shopping", "(direct)"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(UTM, UTM, UTM, LANDING, REFERRER), min_size=1, max_size=30))
@example([(None, " ", None, None, "  "), ("", None, "x", "", "/relative"),
          (None, None, None, "https://s.example/?gclid=1", "https://www.google.se/"),
          (" ", "", None, "HTTPS://S.EX/?TTCLID=9", None)])
def test_completing_a_touch_in_sql_matches_python(rows: list[tuple]) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE o (i INT, s VARCHAR, m VARCHAR, c VARCHAR, lp VARCHAR, "
                "ref VARCHAR)")
    con.executemany("INSERT INTO o VALUES (?, ?, ?, ?, ?, ?)",
                    [(i, *r) for i, r in enumerate(rows)])
    source, medium, campaign = touch_sql("s", "m", "c", "lp", "ref")
    # as a transform does it: complete the touch once, then group the completed columns
    con.execute(f"CREATE TABLE t AS SELECT i, {source} AS source, {medium} AS medium, "
                f"{campaign} AS campaign FROM o")
    case = channel_sql("source", "medium", "campaign")
    got = con.execute(f"SELECT source, medium, campaign, {case} FROM t ORDER BY i")
    expected = [(*complete(touch_of(*r)), channel_of(touch_of(*r))) for r in rows]
    assert [tuple(row) for row in got.fetchall()] == expected


def test_click_ids_are_read_from_the_query_not_the_fragment() -> None:
    assert click_param("https://s.example/?msclkid=1&gclid=2") == "gclid"  # gclid first
    assert click_param("https://s.example/p#gclid=1") is None
    assert click_param("https://s.example/p?gclid=") is None


def test_tenant_rules_from_toml_go_first_and_bad_ones_are_named() -> None:
    from ondigital_connect.errors import ConfigError
    from ondigital_connect.kpi.channels import rules_from_toml

    rules = rules_from_toml("""
[[channel_rules]]
channel = "Price comparison"
sites = ["Prisjakt", "pricerunner"]
""")
    assert channel_of(Touch("prisjakt", "cpc"), rules) == "Price comparison"
    assert channel_of(Touch("google", "cpc"), rules) == "Paid Search"
    for text, message in [('[[channel_rules]]\nchannel = "X"\nmediun = "cpc"', "unknown keys"),
                          ('[[channel_rules]]\nsites = ["a"]', "needs a channel name"),
                          ('[[channel_rules]]\nchannel = "X"\nmedium = "(("', "not a regex"),
                          ("channel_rules = [", "not valid TOML")]:
        with pytest.raises(ConfigError, match=message):
            rules_from_toml(text)
