"""Metric formulas: a closed arithmetic language, rendered to SQL and evaluated from sums."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from ondigital_connect.errors import ConfigError
from ondigital_connect.kpi import parse


def test_reads_its_measures_in_order_and_knows_ratios() -> None:
    f = parse("(net_sales - cogs) / net_sales")
    assert f.measures == ("net_sales", "cogs")
    assert f.is_ratio
    assert not parse("net_sales - cogs - spend").is_ratio


@pytest.mark.parametrize("text", [
    "net_sales ** 2", "__import__('os')", "net_sales.real", "net_sales if spend else 0",
    "'x'", "net_sales > spend", "True + net_sales", "1 + 2", "", "net_sales // orders",
    "spend; orders", "[spend]", "lambda: spend",
])
def test_anything_but_arithmetic_on_measures_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="formula"):
        parse(text)


def test_evaluates_from_values_and_a_zero_denominator_gives_none() -> None:
    aov = parse("net_sales / orders")
    assert aov.evaluate({"net_sales": Decimal("1000"), "orders": 8}) == Decimal("125")
    assert aov.evaluate({"net_sales": Decimal("1000"), "orders": 0}) is None
    assert aov.evaluate({"net_sales": None, "orders": 3}) is None
    assert parse("-spend + 2.5 * clicks").evaluate({"spend": 10, "clicks": 4}) == Decimal("0")


def test_sql_divides_with_nullif_and_takes_the_measure_sql() -> None:
    sql = parse("spend / net_sales").sql(lambda m: f'SUM("{m}")')
    assert sql == '(SUM("spend") / NULLIF(SUM("net_sales"), 0))'


def test_a_ratio_over_a_month_is_the_ratio_of_the_sums_not_the_mean_of_days() -> None:
    # Two days: 1,000 over 4 orders (AOV 250) and 3,000 over 6 orders (AOV 500).
    # The month's AOV is 4,000 / 10 = 400, not (250 + 500) / 2 = 375.
    con = duckdb.connect()
    con.execute("CREATE TABLE daily (day INT, net_sales DECIMAL(18,2), orders INT)")
    con.execute("INSERT INTO daily VALUES (1, 1000, 4), (2, 3000, 6), (3, 0, 0)")
    aov = parse("net_sales / orders").sql(lambda m: f"SUM({m})")
    assert con.execute(f"SELECT {aov} FROM daily").fetchone()[0] == Decimal("400")
    by_day = con.execute(f"SELECT day, {aov} FROM daily GROUP BY day ORDER BY day").fetchall()
    assert by_day == [(1, Decimal("250")), (2, Decimal("500")), (3, None)]
