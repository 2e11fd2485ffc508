"""Transform SQL written once (DuckDB) and rendered per dialect: every statement renders for
BigQuery, parses, keeps no DuckDB-only construct, declares money as NUMERIC (38, 9), resolves
its columns against the canonical tables, and DuckDB builds run exactly the rendered
statements. Each invariant has a twin with the defect it guards against injected."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify

from ondigital_connect.cli import cli
from ondigital_connect.errors import ConfigError
from ondigital_connect.kpi.channels import channel_sql, touch_sql
from ondigital_connect.models.tables import TABLES
from ondigital_connect.transforms import (
    Statement,
    bigquery,
    build,
    order_facts,
    runner,
    statements,
)
from ondigital_connect.transforms.dialect import date_bucket, local_date, render
from ondigital_connect.warehouse import DuckDBWarehouse
from ondigital_connect.warehouse.ddl import column_type
from tests.defects import SOUND_OR_DEFECT, expect
from tests.kpi_shop import AD_MARKETS, load_shop

BOTH = pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])


@pytest.fixture(scope="module")
def rendered() -> dict[bool, list[Statement]]:
    """The BigQuery statements of a full and of an incremental build (rendered once)."""
    return {inc: statements("bigquery", incremental=inc) for inc in (False, True)}


def bq(sql: str, params: tuple[str, ...] = ()) -> str:
    return render(sql, "bigquery", name="t", params=params)


def without_check(monkeypatch: pytest.MonkeyPatch, *dropped: Callable) -> None:
    """Defect: the final check is off (sqlglot's too) and the given rules are skipped."""
    monkeypatch.setattr(bigquery, "check", lambda sql, name: None)
    monkeypatch.setattr(bigquery, "UNSUPPORTED", sqlglot.ErrorLevel.IGNORE)
    monkeypatch.setattr(bigquery, "RULES", tuple(r for r in bigquery.RULES if r not in dropped))


# --- every statement renders and parses -------------------------------------------------------

@BOTH
def test_every_statement_renders_for_bigquery_and_parses(
        incremental: bool, rendered: dict[bool, list[Statement]]) -> None:
    duck = statements("duckdb", incremental=incremental)
    big = rendered[incremental]
    assert [s.name for s in duck] == [s.name for s in big] and len(big) > 30
    for statement in big:
        tree = sqlglot.parse_one(statement.sql, read="bigquery",
                                 error_level=sqlglot.ErrorLevel.RAISE)
        assert len(statement.sql) < 1_000_000  # BigQuery's limit on a query's length
        assert not tree.find(exp.Placeholder), statement.name  # no positional ? left
        assert {p.name for p in tree.find_all(exp.Parameter)} == set(statement.params)


# --- nothing DuckDB-only remains --------------------------------------------------------------

_TYPES = (exp.DType.TEXT, exp.DType.BIGINT, exp.DType.DECIMAL, exp.DType.DATE,
          exp.DType.TIMESTAMPTZ, exp.DType.BOOLEAN)


def duckdb_only(tree: exp.Expr) -> list[str]:
    """What in a parsed BigQuery statement only DuckDB has, or would mean something else."""
    found = [type(n).__name__ for n in tree.find_all(
        exp.Filter, exp.Lateral, exp.Escape, exp.Div, exp.RegexpFullMatch, exp.ArgMax,
        exp.ArgMin)]
    found += [n.name for n in tree.find_all(exp.Anonymous) if n.name.upper() != "IEEE_DIVIDE"]
    found += ["ASOF" for j in tree.find_all(exp.Join) if j.args.get("method")]
    found += ["GROUP BY ALL" for g in tree.find_all(exp.Group) if g.args.get("all")]
    found += ["BY NAME" for i in tree.find_all(exp.Insert) if i.args.get("by_name")]
    found += [t.sql("bigquery") for t in tree.find_all(exp.DataType)
              if t.expressions or t.this not in _TYPES]
    found += ["regexp group/flag" for r in tree.find_all(exp.RegexpExtract, exp.RegexpLike)
              if r.args.get("position") or r.args.get("flag")]
    return found


def check_nothing_duckdb_only(rendered: list[Statement]) -> None:
    for statement in rendered:
        tree = sqlglot.parse_one(statement.sql, read="bigquery")
        assert not duckdb_only(tree), (statement.name, duckdb_only(tree))


def test_no_duckdb_only_construct_remains(rendered: dict[bool, list[Statement]]) -> None:
    check_nothing_duckdb_only([*rendered[False], *rendered[True]])


@pytest.mark.parametrize("rule", ["_regexes", "_arg_min_max", "_local_dates", "_group_by_all",
                                  "_insert_by_name", "_float_division", "_asof_joins", "_now",
                                  "_like_escapes"])
def test_no_duckdb_only_construct_remains_defect(rule: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The twin of the test above: the rule skipped and nothing checking after it."""
    without_check(monkeypatch, getattr(bigquery, rule))
    expect(True, lambda: check_nothing_duckdb_only(statements("bigquery", incremental=True)))


@pytest.mark.parametrize("rule", [r for r in bigquery.RULES if r is not bigquery._types],
                         ids=lambda r: r.__name__)
def test_without_any_one_rule_the_check_refuses_a_statement(
        rule: Callable, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each rule is needed, and the final check notices when it did not run (``_types``
    only matters for decimals other than money: see below)."""
    monkeypatch.setattr(bigquery, "RULES", tuple(r for r in bigquery.RULES if r is not rule))
    with pytest.raises(ConfigError, match="cannot be rendered for BigQuery"):
        statements("bigquery", incremental=True)


@pytest.mark.parametrize("sql", [
    "SELECT list(x) FROM t", "SELECT epoch(ts) FROM t", "SELECT strftime(d, '%Y') FROM t",
    "SELECT regexp_matches(x, 'a', 'i') FROM t", "SELECT regexp_extract(x, 'a(b)', 1) FROM t",
    "SELECT regexp_replace(x, 'a', 'b') FROM t", "SELECT x LIKE p ESCAPE '!' FROM t",
    "SELECT CAST(x AS TIMESTAMP) FROM t", "SELECT CAST(x AS HUGEINT) FROM t",
    "SELECT * FROM o ASOF LEFT JOIN rates r ON r.k = o.k AND r.d <= o.d",
    "SELECT * FROM o ASOF LEFT JOIN _fx x ON x.currency = o.c AND x.next_date <= o.d",
    "SELECT timezone('UTC', ts) FROM t", "SELECT a, 1 AS n FROM t GROUP BY ALL"])
def test_what_no_rule_renders_faithfully_is_refused_by_name(sql: str) -> None:
    with pytest.raises(ConfigError, match="statement 'q' cannot be rendered for BigQuery"):
        render(sql, "bigquery", name="q")


def test_parameters_are_named_on_bigquery_and_counted() -> None:
    assert bq("SELECT '?' AS q, ? AS p WHERE c = ?", ("p", "c")) == (
        "SELECT '?' AS q, @p AS p WHERE c = @c")
    with pytest.raises(ConfigError, match="binds 2 values but 1 are named"):
        bq("SELECT ?, ?", ("p",))


# --- the rules, against hand-written BigQuery -------------------------------------------------

@pytest.mark.parametrize(("duckdb", "expected"), [
    ("SELECT * FROM o ASOF LEFT JOIN _fx x ON x.currency = o.currency "
     "AND x.rate_date <= o.order_date",
     "SELECT * FROM o LEFT JOIN _fx AS x ON (x.currency = o.currency AND x.rate_date <= "
     "o.order_date) AND (x.next_date IS NULL OR o.order_date < x.next_date)"),
    ("SELECT CAST(x AS DECIMAL(38, 9)), x::VARCHAR, CAST(y AS TIMESTAMPTZ) FROM t",
     "SELECT CAST(x AS NUMERIC), CAST(x AS STRING), CAST(y AS TIMESTAMP) FROM t"),
    ("SELECT CAST(timezone(z.zone, l.created_at) AS DATE) FROM l, z",
     "SELECT DATE(l.created_at, z.zone) FROM l, z"),
    ("SELECT regexp_full_match(s, 'a|b'), regexp_matches(s, '[?&]x=') FROM t",
     "SELECT REGEXP_CONTAINS(s, '^(?:a|b)$'), REGEXP_CONTAINS(s, '[?&]x=') FROM t"),
    ("SELECT coalesce(regexp_extract(s, '^x(y)', 1), ''), coalesce(regexp_extract(s, 'z'), '')",
     "SELECT COALESCE(REGEXP_EXTRACT(s, '^x(y)'), ''), COALESCE(REGEXP_EXTRACT(s, 'z'), '')"),
    (r"SELECT regexp_replace(s, '\s+', '_', 'g'), regexp_replace(s, '^www\.', '') FROM t",
     r"SELECT REGEXP_REPLACE(s, '\\s+', '_'), REGEXP_REPLACE(s, '^www\\.', '') FROM t"),
    ("SELECT x FROM t WHERE x LIKE p ESCAPE '\\'", "SELECT x FROM t WHERE x LIKE p"),
    ("SELECT k, arg_max(v, d) AS a, arg_min(v, d) AS b FROM t GROUP BY ALL",
     "SELECT k, ARRAY_AGG(IF(d IS NULL, NULL, v) IGNORE NULLS ORDER BY d DESC LIMIT 1)"
     "[SAFE_OFFSET(0)] AS a, ARRAY_AGG(IF(d IS NULL, NULL, v) IGNORE NULLS ORDER BY d ASC "
     "LIMIT 1)[SAFE_OFFSET(0)] AS b FROM t GROUP BY 1"),
    ("INSERT INTO t BY NAME SELECT a, b AS c FROM x",
     "INSERT INTO t (a, c) SELECT a, b AS c FROM x"),
    ("INSERT INTO t VALUES (now())", "INSERT INTO t VALUES (CURRENT_TIMESTAMP())"),
    ("SELECT 1 / rate FROM t", "SELECT IEEE_DIVIDE(1, rate) FROM t"),
    ("SELECT count(*) FILTER (WHERE a), count(DISTINCT k) FILTER (WHERE b) FROM t",
     "SELECT COUNTIF(a), COUNT(DISTINCT IF(b, k, NULL)) FROM t"),
    ("SELECT x FROM t ORDER BY x", "SELECT x FROM t ORDER BY x NULLS LAST"),
])
def test_each_rule_writes_the_bigquery_sql_expected(duckdb: str, expected: str) -> None:
    assert bq(duckdb) == expected


def normalised(sql: str) -> exp.Expr:
    """Parsed BigQuery with raw strings as plain ones and parentheses dropped."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    tree = tree.transform(lambda n: exp.Literal.string(n.this)
                          if isinstance(n, exp.RawString) else n)
    return tree.transform(lambda n: n.this if isinstance(n, exp.Paren) else n)


def test_channel_rules_rendered_from_duckdb_equal_their_own_bigquery_rendering() -> None:
    """channels.py writes its SQL for BigQuery by hand too: both renderings agree."""
    pairs = [(channel_sql("s", "m", "c"), channel_sql("s", "m", "c", dialect="bigquery"))]
    args = ("o.a", "o.b", "o.c", "o.d", "o.e")
    pairs += zip(touch_sql(*args), touch_sql(*args, dialect="bigquery"), strict=True)
    for duck, big in pairs:
        assert normalised(bq(f"SELECT {duck}")) == normalised(f"SELECT {big}")


# --- money --------------------------------------------------------------------------------------

def money_casts(sql: str, read: str) -> list[exp.DataType]:
    return [c.to for c in sqlglot.parse_one(sql, read=read).find_all(exp.Cast)
            if c.to.this in (exp.DType.DECIMAL, exp.DType.BIGDECIMAL)]


def check_money_is_numeric(big: list[Statement]) -> None:
    """Every DECIMAL(38, 9) cast stays a money cast, and BigQuery's is NUMERIC: fixed at
    precision 38, scale 9 (a CAST may not name them), never BIGNUMERIC or DECIMAL(18, 3)."""
    duck = statements("duckdb", incremental=True)
    for source, target in zip(duck, big, strict=True):
        casts = money_casts(source.sql, "duckdb")
        assert [t.sql("duckdb") for t in casts] == ["DECIMAL(38, 9)"] * len(casts)
        assert [t.sql("bigquery") for t in money_casts(target.sql, "bigquery")] == (
            ["NUMERIC"] * len(casts)), target.name
    assert sum(len(money_casts(s.sql, "duckdb")) for s in duck) > 20


def bignumeric(tree: exp.Expr, name: str) -> exp.Expr:
    for node in tree.find_all(exp.DataType):
        if node.this == exp.DType.DECIMAL:
            node.set("this", exp.DType.BIGDECIMAL)
    return tree


@SOUND_OR_DEFECT
def test_money_is_numeric_38_9_on_bigquery(defect: bool, rendered: dict[bool, list[Statement]],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # money widened to BIGNUMERIC, which does not round at 9 decimals as DuckDB does
        without_check(monkeypatch)
        monkeypatch.setattr(bigquery, "RULES", (*bigquery.RULES, bignumeric))
        expect(defect, lambda: check_money_is_numeric(statements("bigquery", incremental=True)))
    else:
        check_money_is_numeric(rendered[True])


def refused(sql: str) -> bool:
    try:
        bq(sql)
    except ConfigError:
        return True
    return False


def check_other_decimals_are_refused() -> None:
    for decimal in ("DECIMAL(18, 3)", "DECIMAL", "DECIMAL(38, 2)"):
        assert refused(f"SELECT CAST(x AS {decimal}) FROM t"), decimal


@SOUND_OR_DEFECT
def test_a_decimal_other_than_money_is_refused_not_widened(
        defect: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlglot alone writes any DECIMAL as NUMERIC: DuckDB's DECIMAL (18, 3) rounds at 3
    places, BigQuery's NUMERIC at 9, so the numbers would differ silently."""
    if defect:  # sqlglot's own mapping let through
        monkeypatch.setattr(bigquery, "RULES",
                            tuple(r for r in bigquery.RULES if r is not bigquery._types))
    expect(defect, check_other_decimals_are_refused)


# --- columns resolve against the canonical tables -----------------------------------------------

def canonical_schema() -> dict[str, dict[str, str]]:
    return {name: {c.name: column_type(c, "bigquery") for c in spec.columns}
            for name, spec in TABLES.items()}


def qualify_all(big: list[Statement], schema: dict[str, dict[str, str]]) -> list[str]:
    """Qualify each statement's columns against ``schema``, which grows with the tables the
    statements make; the problems found."""
    problems = []
    for statement in big:
        tree = sqlglot.parse_one(statement.sql, read="bigquery")
        if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
            schema[tree.this.this.name] = {c.name: c.args["kind"].sql("bigquery")
                                      for c in tree.this.expressions}
            continue
        if isinstance(tree, exp.Alter):
            schema[tree.this.name].update({a.name: "STRING" for a in tree.actions})
            continue
        if statement.name == "tables":  # INFORMATION_SCHEMA
            continue
        select = tree.expression if isinstance(tree, (exp.Create, exp.Insert)) else tree
        if isinstance(tree, exp.Delete):
            select = exp.select("*").from_(tree.this.copy()).where(tree.args["where"].this)
        try:
            qualify(select.copy(), schema=schema, dialect="bigquery",
                    validate_qualify_columns=True, identify=False)
        except OptimizeError as exc:
            problems.append(f"{statement.name}: {exc}")
        if isinstance(tree, exp.Create):
            schema[tree.this.name] = {n: "STRING" for n in select.named_selects}
    return problems


def check_columns_resolve(full: list[Statement], incremental: list[Statement]) -> None:
    schema = canonical_schema()
    assert qualify_all(full, schema) == []
    assert qualify_all(incremental, schema) == []  # on the tables a full build left


@SOUND_OR_DEFECT
def test_columns_resolve_against_the_canonical_tables(
        defect: bool, rendered: dict[bool, list[Statement]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # a column the orders table does not have
        monkeypatch.setattr(order_facts, "_ORDER_FACTS", order_facts._ORDER_FACTS.replace(
            "o.country_code", "o.country"))
        expect(defect, lambda: check_columns_resolve(
            statements("bigquery"), statements("bigquery", incremental=True)))
    else:
        check_columns_resolve(rendered[False], rendered[True])


# --- dates, written per dialect -------------------------------------------------------------

@pytest.mark.parametrize(("grain", "duckdb", "bigquery_sql"), [
    ("day", "date", "date"),
    ("week", "CAST(date_trunc('week', date) AS DATE)", "DATE_TRUNC(date, ISOWEEK)"),
    ("month", "CAST(date_trunc('month', date) AS DATE)", "DATE_TRUNC(date, MONTH)"),
    ("quarter", "CAST(date_trunc('quarter', date) AS DATE)", "DATE_TRUNC(date, QUARTER)"),
    ("year", "CAST(date_trunc('year', date) AS DATE)", "DATE_TRUNC(date, YEAR)"),
])
def test_calendar_buckets_are_written_for_each_dialect(grain: str, duckdb: str,
                                                      bigquery_sql: str) -> None:
    assert date_bucket(grain, "date", "duckdb") == duckdb
    assert date_bucket(grain, "date", "bigquery") == bigquery_sql


def test_sqlglot_alone_would_start_weeks_on_sunday() -> None:
    """Why the buckets are written by hand: sqlglot turns DuckDB's ISO week into BigQuery's
    WEEK, which starts on Sunday (and returns a TIMESTAMP truncation)."""
    assert "WEEK)" in sqlglot.transpile(date_bucket("week", "d", "duckdb"), read="duckdb",
                                        write="bigquery")[0]


def test_duckdb_buckets_and_local_dates_give_dates(warehouse: DuckDBWarehouse) -> None:
    import datetime as dt

    sunday = "DATE '2026-03-01'"
    row = warehouse.fetch("SELECT " + ", ".join(
        date_bucket(g, sunday, "duckdb") for g in ("week", "month", "quarter", "year")) + ", "
        + local_date("TIMESTAMPTZ '2026-03-01 23:30:00+00'", "'Europe/Stockholm'", "duckdb"))
    assert row == [(dt.date(2026, 2, 23), dt.date(2026, 3, 1), dt.date(2026, 1, 1),
                    dt.date(2026, 1, 1), dt.date(2026, 3, 2))]


def check_lead_dates_are_local(big: list[Statement]) -> None:
    by_name = {s.name: s.sql for s in big}
    assert local_date("l.created_at", "z.zone", "bigquery") == "DATE(l.created_at, z.zone)"
    assert "DATE(l.created_at, z.zone) AS date" in by_name["insert lead_facts"]
    assert "DATE(l.created_at, z.zone) AS date" in by_name["_lead_dates"]


@SOUND_OR_DEFECT
def test_lead_dates_are_shop_local_dates_on_bigquery(
        defect: bool, rendered: dict[bool, list[Statement]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # sqlglot's own rendering of DuckDB's timezone()
        without_check(monkeypatch, bigquery._local_dates)
        expect(defect, lambda: check_lead_dates_are_local(statements("bigquery",
                                                                     incremental=True)))
    else:
        check_lead_dates_are_local(rendered[True])


# --- the as-of rate join: BigQuery's range join picks the same rate ---------------------------

def range_joined(sql: str) -> str:
    """A DuckDB statement with only the as-of rule applied, back in DuckDB's dialect."""
    return bigquery._asof_joins(sqlglot.parse_one(sql, read="duckdb"), "t").sql("duckdb")


def check_range_join_equals_asof(wh: DuckDBWarehouse) -> None:
    (facts,) = [s for s in statements("duckdb") if s.name == "order_facts"]
    select = facts.sql.split(" AS\n", 1)[1]
    asof = wh.fetch(f"SELECT * FROM ({select}) ORDER BY ALL", ["SEK"])
    ranged = wh.fetch(f"SELECT * FROM ({range_joined(select)}) ORDER BY ALL", ["SEK"])
    assert ranged == asof and any(r[13] not in (None, Decimal(1)) for r in asof)


@SOUND_OR_DEFECT
def test_the_bigquery_range_join_picks_the_as_of_rate(
        defect: bool, warehouse: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = load_shop(warehouse)
    build(shop, reporting_currency="SEK")
    if defect:  # the range join bounded by the wrong column
        monkeypatch.setattr(bigquery, "ASOF_UNTIL", {"_fx": ("currency", "rate_date", "rate_date")})
    expect(defect, lambda: check_range_join_equals_asof(shop))


def test_a_day_quoted_both_ways_keeps_the_higher_rate(warehouse: DuckDBWarehouse) -> None:
    shop = load_shop(warehouse)
    shop.fetch("INSERT INTO fx_rates BY NAME SELECT DATE '2026-01-31' AS rate_date, "
               "'SEK' AS base_currency, 'EUR' AS quote_currency, 0.08 AS rate, "
               "'test' AS rate_source")  # 1 / 0.08 = 12.5 SEK, above the 11.5 quoted
    build(shop, reporting_currency="SEK")
    assert shop.fetch("SELECT fx_rate FROM order_facts WHERE order_key = 'C'") == [
        (Decimal("12.5"),)]


# --- DuckDB builds run exactly these statements ----------------------------------------------

def executed_sql(shop: DuckDBWarehouse) -> list[str]:
    """The SQL a build of the shop runs, in order (a statement repeated for several rows once)."""
    seen: list[str] = []
    real = shop.fetch

    def fetch(sql: str, params: object = ()) -> list:
        if not seen or seen[-1] != sql:
            seen.append(sql)
        return real(sql, params)
    with pytest.MonkeyPatch.context() as spy:
        spy.setattr(shop, "fetch", fetch)
        build(shop, reporting_currency="SEK", markets=AD_MARKETS)
    return seen


def in_order(executed: list[str], listed: list[str]) -> bool:
    remaining = iter(listed)
    return all(any(sql == s for s in remaining) for sql in executed)


def check_builds_run_the_statements(shop: DuckDBWarehouse) -> None:
    for incremental in (False, True):
        listed = [s.sql for s in statements("duckdb", incremental=incremental)]
        executed = executed_sql(shop)
        assert set(executed) <= set(listed) and in_order(executed, listed)
        assert len(executed) >= len(listed) - 4  # only ad-market rows or a count may be skipped
        shop.fetch("UPDATE orders SET _synced_at = now() WHERE order_key = 'B'")


@SOUND_OR_DEFECT
def test_duckdb_builds_run_the_rendered_statements(
        defect: bool, warehouse: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    if defect:  # a side copy: the runner runs its own edition of one statement
        real = runner.execute
        monkeypatch.setattr(runner, "execute", lambda wh, st, values=None: real(
            wh, dataclasses.replace(st, sql=st.sql.replace("SELECT zone", "SELECT zone ")),
            values))
    shop = load_shop(warehouse)
    expect(defect, lambda: check_builds_run_the_statements(shop))


def test_build_refuses_to_run_on_bigquery_and_says_when() -> None:
    class BigQueryLike:
        dialect = "bigquery"

    with pytest.raises(ConfigError, match="arrives with the BigQuery warehouse"):
        build(BigQueryLike(), reporting_currency="SEK")  # type: ignore[arg-type]


# --- the command line -------------------------------------------------------------------------

def test_cli_prints_every_statement_for_bigquery(tmp_path) -> None:
    rules = tmp_path / "channels.toml"
    rules.write_text('[[channel_rules]]\nchannel = "Newsletter"\nmedium = "email"\n')
    out = CliRunner().invoke(cli, ["build", "--print-sql", "--dialect", "bigquery",
                                   "--channel-rules", str(rules)])
    assert out.exit_code == 0, out.output
    parts = [p for p in out.output.split(";\n") if p.strip()]
    assert len(parts) == len(statements("bigquery"))
    assert all(sqlglot.parse_one(p, read="bigquery") for p in parts)
    assert "-- order_facts (binds currency)\nCREATE OR REPLACE TABLE order_facts" in out.output
    assert "@currency AS reporting_currency" in out.output and "'Newsletter'" in out.output
    assert re.search(r"-- insert rollup_sales\nINSERT INTO rollup_sales \(", CliRunner().invoke(
        cli, ["build", "--print-sql", "--dialect", "bigquery", "--incremental"]).output)


def test_cli_build_needs_a_warehouse_unless_it_prints() -> None:
    out = CliRunner().invoke(cli, ["build", "--currency", "SEK"])
    assert out.exit_code == 2 and "--warehouse and --currency are required" in out.output
    duck = CliRunner().invoke(cli, ["build", "--print-sql"])
    assert duck.exit_code == 0 and "? AS reporting_currency" in duck.output
