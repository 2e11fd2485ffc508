"""The Looker Studio contract through HTTP: getSchema and getData bodies as Looker Studio sends
them, against tenant alpha (tests/service_env.py; the shop of tests/kpi_shop.py, in SEK).

February by channel, net sales: Email 80 (Feb 1), Organic Search 92 (Feb 1), Direct 40 (Feb 5)
+ 40 (Feb 10), Paid Search -90 (a refund on Feb 20, no order).
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ondigital_connect.control import Plan
from tests.service_env import Env, app_for, auth, clause, data_body, make_env


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    return make_env(tmp_path_factory.mktemp("contract"))


@pytest.fixture
def client(env: Env) -> FlaskClient:
    return app_for(env).test_client()


def get_data(client: FlaskClient, env: Env, body: dict, connector: str = "control_tower"):
    return client.post(f"/v1/connectors/{connector}/data", json=body, headers=auth(env.alpha_key))


def values(response) -> list[list]:  # noqa: ANN001
    assert response.status_code == 200, response.json
    return [r["values"] for r in response.json["rows"]]


def test_connectors_lists_only_active_subscriptions(client: FlaskClient, env: Env) -> None:
    listed = client.get("/v1/connectors", headers=auth(env.alpha_key)).json
    assert [c["id"] for c in listed["connectors"]] == ["control_tower", "shopify"]  # inventory
    assert listed["connectors"][0]["plan"] == "pro"                                 # lapsed


def test_schema_types_follow_the_tenant_currency(client: FlaskClient, env: Env) -> None:
    response = client.post("/v1/connectors/control_tower/schema", json={"configParams": {}},
                           headers=auth(env.alpha_key))
    fields = {f["name"]: f for f in response.json["schema"]}
    assert fields["revenue"]["semantics"] == {
        "conceptType": "METRIC", "semanticType": "CURRENCY_SEK", "semanticGroup": "CURRENCY",
        "isReaggregatable": True}
    assert fields["cos"]["semantics"]["semanticType"] == "PERCENT"
    for ratio in ("cos", "aov", "cr", "returning_customers", "inventory_value"):
        assert fields[ratio]["semantics"]["isReaggregatable"] is False, ratio
    assert fields["date"]["semantics"]["semanticType"] == "YEAR_MONTH_DAY"
    assert fields["month"]["semantics"]["semanticType"] == "YEAR_MONTH"
    assert fields["channel"]["semantics"]["conceptType"] == "DIMENSION"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_data_in_request_order_with_looker_dates(client: FlaskClient, env: Env) -> None:
    response = get_data(client, env, data_body("revenue", "date", "orders"))
    assert [f["name"] for f in response.json["schema"]] == ["revenue", "date", "orders"]
    assert values(response) == [["172", "20260201", "2"], ["40", "20260205", "1"],
                                ["40", "20260210", "1"], ["-90", "20260220", "0"]]
    assert response.json["filtersApplied"] is True


def test_coarser_date_fields_come_from_the_finest(client: FlaskClient, env: Env) -> None:
    # by day, with the month and year of each day beside it (as a month filter not pushed
    # down would ask); and by month with its quarter: AOV of February = 162 / 4
    assert values(get_data(client, env, data_body("date", "month", "year", "orders"))) == [
        ["20260201", "202602", "2026", "2"], ["20260205", "202602", "2026", "1"],
        ["20260210", "202602", "2026", "1"], ["20260220", "202602", "2026", "0"]]
    assert values(get_data(client, env, data_body("quarter", "month", "aov"))) == [
        ["20261", "202602", "40.5"]]


def test_ratios_are_computed_at_the_asked_grain(client: FlaskClient, env: Env) -> None:
    # AOV for February = 162 / 4, not the mean of the daily AOVs (86, 40, 40, none).
    assert values(get_data(client, env, data_body("month", "aov"))) == [["202602", "40.5"]]


def test_shopify_connector_natural_fields(client: FlaskClient, env: Env) -> None:
    body = data_body("country_code", "order_status", "orders", "net_sales")
    assert values(get_data(client, env, body, "shopify")) == [
        [None, "cancelled", 1, "40"], [None, "open", 3, "212"]]


FILTER_CASES = [
    ([[clause("channel", "EQUALS", "Direct")]], "80"),
    ([[clause("channel", "EQUALS", "Direct", exclude=True)]], "82"),
    ([[clause("channel", "CONTAINS", "Search")]], "2"),
    ([[clause("channel", "REGEXP_PARTIAL_MATCH", "mail")]], "80"),
    ([[clause("channel", "REGEXP_EXACT_MATCH", "Email|Direct")]], "160"),
    ([[clause("channel", "IN_LIST", "Email", "Organic Search")]], "172"),
    ([[clause("market", "IS_NULL")]], "162"),
    ([[clause("channel", "BETWEEN", "Direct", "Email")]], "160"),
    ([[clause("date", "NUMERIC_GREATER_THAN", "20260205")]], "-50"),
    ([[clause("date", "NUMERIC_GREATER_THAN_OR_EQUAL", "20260205")]], "-10"),
    ([[clause("date", "NUMERIC_LESS_THAN", "20260205")]], "172"),
    ([[clause("date", "NUMERIC_LESS_THAN_OR_EQUAL", "20260205")]], "212"),
    ([[clause("channel", "EQUALS", "Email"), clause("channel", "EQUALS", "Direct")],
      [clause("customer_type", "EQUALS", "returning")]], "120"),
]


@pytest.mark.parametrize(("filters", "revenue"), FILTER_CASES)
def test_every_operator_is_pushed_down(client: FlaskClient, env: Env, filters: list,
                                       revenue: str) -> None:
    fields = {c["fieldName"] for group in filters for c in group}
    response = get_data(client, env, data_body("revenue", filters=filters,
                                                filter_only=tuple(sorted(fields))))
    assert values(response) == [[revenue]]
    assert response.json["filtersApplied"] is True
    assert [f["name"] for f in response.json["schema"]] == ["revenue"]  # filter-only left out


def test_filters_not_pushable_are_all_left_to_looker(client: FlaskClient, env: Env) -> None:
    # A month filter cannot be pushed down, so neither is the channel one: every row comes
    # back unfiltered with the filter-only fields, and Looker Studio filters them itself.
    filters = [[clause("month", "EQUALS", "202602")], [clause("channel", "EQUALS", "Email")]]
    response = get_data(client, env, data_body("revenue", filters=filters,
                                                filter_only=("month", "channel")))
    assert response.json["filtersApplied"] is False
    assert [f["name"] for f in response.json["schema"]] == ["revenue", "month", "channel"]
    assert ["80", "202602", "Email"] in values(response)
    assert ["-90", "202602", "Paid Search"] in values(response)


def test_dimension_only_request_lists_values(client: FlaskClient, env: Env) -> None:
    # every source's values: Paid Social has ad spend in February but no sales
    assert values(get_data(client, env, data_body("channel"))) == [
        ["Direct"], ["Email"], ["Organic Search"], ["Paid Search"], ["Paid Social"]]
    assert values(get_data(client, env, data_body("customer_type"))) == [
        ["guest"], ["new"], ["returning"]]


def test_no_data_in_range_is_an_empty_answer(client: FlaskClient, env: Env) -> None:
    response = get_data(client, env, data_body("date", "revenue", start="2025-06-01",
                                                end="2025-06-30"))
    assert response.json["rows"] == []
    assert [f["name"] for f in response.json["schema"]] == ["date", "revenue"]


def test_sample_extraction_gets_a_few_rows(client: FlaskClient, env: Env) -> None:
    fields = ("date", "channel", "source", "campaign", "revenue", "sessions", "marketing_cost")
    full = data_body(*fields, start="2026-01-01", end="2026-04-30")
    assert len(values(get_data(client, env, full))) > 10  # more rows than a sample holds
    sample = {**full, "scriptParams": {"sampleExtraction": True}}
    assert len(values(get_data(client, env, sample))) == 10


@pytest.mark.parametrize(("body", "status", "message"), [
    (data_body("revenue", start="", end=""), 400, "dateRange"),
    ({"fields": [{"name": "revenue"}]}, 400, "dateRange"),
    (data_body("revenue", start="2026-02-28", end="2026-02-01"), 400, "reversed"),
    (data_body("revenue", start="2026-02-30", end="2026-03-01"), 400, "not a date"),
    (data_body("revenue", start="2020-01-01", end="2026-02-28"), 403, "plan allows 1100"),
    (data_body("revenue", "nonsense"), 400, "unknown field 'nonsense'"),
    (data_body(), 400, "at least one field"),
    (data_body("revenue", "week", "month"), 400, "do not nest"),
    (data_body("revenue", filters=[[clause("channel", "LIKE", "x")]]), 400, "unknown filter"),
    (data_body("revenue", filters=[[clause("nope", "EQUALS", "x")]]), 400, "unknown field"),
    (data_body("customer_type", "marketing_cost"), 400, "cannot be broken down"),
    ({"fields": "revenue"}, 400, "invalid request at fields"),
    ([1, 2], 400, "JSON object"),
])
def test_bad_requests_get_a_clear_4xx(client: FlaskClient, env: Env, body: object, status: int,
                                      message: str) -> None:
    response = get_data(client, env, body)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.json["error"] in {"bad_request", "plan_limit"}
    assert message in response.json["message"]


def test_rows_beyond_the_plan_are_refused_not_cut(client: FlaskClient, env: Env,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    body = data_body("date", "revenue")
    assert len(values(get_data(client, env, body))) == 4
    monkeypatch.setattr("connector_service.access.plan", lambda name: Plan(name, 400, 3, 60))
    response = get_data(client, env, body)
    assert response.status_code == 403
    assert "more than 3 rows" in response.json["message"]
    # within the plan: a narrower question still works, and an empty answer is not an error
    assert len(values(get_data(client, env, data_body("date", "revenue", end="2026-02-10")))) == 3
    assert values(get_data(client, env, data_body("revenue", start="2025-01-01",
                                                   end="2025-01-31"))) == [["0"]]


def test_money_is_labelled_in_the_currency_it_was_built_in(env: Env) -> None:
    # a tenant set to EUR whose rollups were built in SEK: the numbers are SEK, and say so
    env.store.create_tenant("gamma", "Gamma", f"duckdb:///{env.alpha_db}", "EUR")
    env.store.create_subscription("gamma", "control_tower", "pro",
                                  env.store.list_subscriptions("alpha")[0].current_period_end)
    key, _ = env.store.create_key("gamma")
    response = app_for(env).test_client().post(
        "/v1/connectors/control_tower/data", json=data_body("revenue"), headers=auth(key))
    assert values(response) == [["162"]]
    assert response.json["schema"][0]["semantics"]["semanticType"] == "CURRENCY_SEK"
