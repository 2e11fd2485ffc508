"""The security battery: credentials, authorisation, tenant isolation, injection, limits.

Two tenants with data nobody could confuse (tests/service_env.py): alpha (SEK, the hand-made
shop) and beta (EUR, one order of 7,900.80 from ``betasource`` in market FI).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from connector_service.identity import IdentityVerifier
from ondigital_connect.control import Plan
from ondigital_connect.control.keys import parse_key
from tests import idtokens
from tests.defects import SOUND_OR_DEFECT, expect
from tests.service_env import ADMIN_TOKEN, Env, app_for, auth, clause, data_body, make_env


def secret_of(key: str) -> str:
    """A key's secret part, split by the key's format (the secret may itself contain "_")."""
    parsed = parse_key(key)
    assert parsed is not None and len(parsed.secret) == 43
    return parsed.secret


BETA_MARKERS = ("betasource", "7900.8", "Beta Oy", "CURRENCY_EUR", '"FI"', "beta")
ALPHA_MARKERS = ("newsletter", "Organic Search", "Alpha AB", "CURRENCY_SEK", "162", "alpha")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    return make_env(tmp_path_factory.mktemp("security"))


@pytest.fixture
def client(env: Env) -> FlaskClient:
    return app_for(env).test_client()


def post(client: FlaskClient, key: str | None, body: object, connector: str = "control_tower",
         what: str = "data"):  # noqa: ANN201
    headers = auth(key) if key else {}
    return client.post(f"/v1/connectors/{connector}/{what}", json=body, headers=headers)


# -- credentials -------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Bearer odc_x"},
    {"Authorization": "Bearer odc_abcdefgh_" + "A" * 43}, {"Authorization": "Basic b2RjOng="},
    {"X-Api-Key": "whatever"},
])
def test_missing_or_invalid_key_is_401(client: FlaskClient, headers: dict) -> None:
    for response in (client.get("/v1/connectors", headers=headers),
                     client.post("/v1/connectors/control_tower/data", headers=headers,
                                 json=data_body("revenue"))):
        assert response.status_code == 401
        assert response.json["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_401_and_never_echoed(client: FlaskClient, env: Env) -> None:
    response = post(client, env.revoked_key, data_body("revenue"))
    assert response.status_code == 401
    assert secret_of(env.revoked_key) not in response.get_data(as_text=True)


def test_key_for_another_connector_is_403(client: FlaskClient, env: Env) -> None:
    assert post(client, env.beta_key, data_body("orders"), "shopify").status_code == 403
    assert post(client, env.beta_key, {}, "shopify", "schema").status_code == 403
    lapsed = post(client, env.alpha_key, data_body("inventory_value"), "inventory")
    assert lapsed.status_code == 403
    assert "no active subscription" in lapsed.json["message"]
    assert post(client, env.alpha_key, {}, "..%2Fbeta", "schema").status_code == 404


# -- tenant isolation --------------------------------------------------------------------------
def _everything(client: FlaskClient, key: str) -> list[str]:
    """Every kind of answer a key can get, as text: lists, schemas, data with filters, errors."""
    bodies = [
        data_body("date", "channel", "source", "market", "revenue", "orders"),
        data_body("revenue", filters=[[clause("market", "EQUALS", "FI")]]),
        data_body("revenue", filters=[[clause("source", "EQUALS", "betasource")]]),
        data_body("revenue", filters=[[clause("channel", "REGEXP_PARTIAL_MATCH", ".*")]]),
        data_body("revenue", configParams={"tenant": "beta", "tenant_id": "alpha"}),
        data_body("nonsense"), data_body("revenue", start="1999-01-01"),
    ]
    answers = [client.get("/v1/connectors", headers=auth(key)).get_data(as_text=True),
               post(client, key, {}, what="schema").get_data(as_text=True)]
    answers += [post(client, key, b).get_data(as_text=True) for b in bodies]
    answers += [post(client, key, data_body("orders"), "shopify").get_data(as_text=True)]
    return answers


def _no_leak(answers: list[str], markers: tuple[str, ...]) -> None:
    for text in answers:
        for marker in markers:
            assert marker not in text, f"{marker!r} leaked into {text[:200]}"


@SOUND_OR_DEFECT
def test_no_answer_carries_the_other_tenants_values(env: Env, defect: bool,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Both tenants on one plan, so identical requests normalise identically.
    monkeypatch.setattr("connector_service.access.plan", lambda name: Plan(name, 400, 100, 999))
    if defect:  # the cache key is the request alone (no tenant, currency or data version)
        import connector_service.blueprints.connectors as view

        real_key, real_digest = view.CacheKey, view.request_digest
        monkeypatch.setattr(view, "CacheKey",
                            lambda tenant, connector, digest, version: real_key(
                                "?", connector, digest, "?"))
        monkeypatch.setattr(view, "request_digest", lambda parts: real_digest(parts[0]))
    client = app_for(env).test_client()
    beta_answers = _everything(client, env.beta_key)  # beta first: its answers warm the cache
    alpha_answers = _everything(client, env.alpha_key)

    def check() -> None:
        _no_leak(alpha_answers, BETA_MARKERS)
        _no_leak(beta_answers, ALPHA_MARKERS)
        assert any("7900.8" in a for a in beta_answers)  # the markers are really there
        assert any("Organic Search" in a for a in alpha_answers)

    expect(defect, check)


def test_data_version_invalidates_the_cache(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    client = app_for(env).test_client()
    body = data_body("revenue")
    assert post(client, env.alpha_key, body).json["rows"] == [{"values": ["162"]}]
    assert post(client, env.alpha_key, body).json["rows"] == [{"values": ["162"]}]
    stats = client.get("/v1/admin/stats", headers=auth(ADMIN_TOKEN)).json["cache"]
    assert (stats["hits"], stats["misses"]) == (1, 1)
    import duckdb

    time.sleep(0.01)  # a visibly later modification time
    con = duckdb.connect(str(env.alpha_db))
    con.execute("UPDATE rollup_sales SET net_sales = net_sales * 2")
    con.close()
    assert post(client, env.alpha_key, body).json["rows"] == [{"values": ["324"]}]


# -- injection ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    "x' OR '1'='1", "'; DROP TABLE rollup_sales; --", "Direct\x00", "%", "\\", '") OR 1=1 --'])
def test_injection_in_filter_values_is_inert(client: FlaskClient, env: Env, value: str) -> None:
    for operator in ("EQUALS", "CONTAINS", "IN_LIST"):
        response = post(client, env.alpha_key, data_body(
            "revenue", filters=[[clause("channel", operator, value)]]))
        assert response.json["rows"] == [{"values": ["0"]}], (operator, value)
    assert post(client, env.alpha_key, data_body("revenue")).json["rows"] == [
        {"values": ["162"]}]  # the table is still there


@pytest.mark.parametrize("name", [
    "revenue; DROP TABLE rollup_sales", "revenue --", "channel) OR (1=1", "sum(revenue)",
    "rollup_sales.revenue", '"revenue"', "REVENUE"])
def test_injection_in_field_names_is_rejected(client: FlaskClient, env: Env, name: str) -> None:
    for body in (data_body(name), data_body("revenue", filters=[[clause(name, "EQUALS", "x")]])):
        response = post(client, env.alpha_key, body)
        assert response.status_code == 400
        assert "unknown field" in response.json["message"]


def test_oversized_body_is_413(client: FlaskClient, env: Env) -> None:
    body = data_body("revenue", configParams={"pad": "x" * 70_000})
    response = post(client, env.alpha_key, body)
    assert response.status_code == 413
    assert response.json == {"error": "request_entity_too_large",
                              "message": "the request body is too large"}


def test_rate_limit_is_429_with_retry_after(client: FlaskClient, env: Env,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connector_service.access.plan", lambda name: Plan(name, 400, 100, 2))
    statuses = [post(client, env.beta_key, {}, what="schema") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 429, 429]
    assert int(statuses[2].headers["Retry-After"]) >= 1
    assert statuses[2].json["error"] == "rate_limited"


# -- errors and logs ---------------------------------------------------------------------------
def test_unexpected_errors_say_nothing_but_an_incident(client: FlaskClient, env: Env,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("secret detail /srv/alpha.duckdb")

    monkeypatch.setattr("connector_service.blueprints.connectors._answer", boom)
    response = post(client, env.alpha_key, data_body("revenue", start="2026-02-02"))
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)
    assert response.json["message"].startswith("internal error (incident ")


def test_access_log_has_no_credentials(client: FlaskClient, env: Env,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="odc.access")
    post(client, env.alpha_key, data_body("revenue"))
    post(client, env.revoked_key, data_body("revenue"))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "odc.access"]
    assert [line["status"] for line in lines] == [200, 401]
    assert lines[0]["tenant"] == "alpha" and lines[0]["via"].startswith("key:")
    text = caplog.text
    for key in (env.alpha_key, env.revoked_key):
        assert secret_of(key) not in text and key not in text


def test_admin_endpoints_need_the_admin_token(client: FlaskClient, env: Env,
                                              tmp_path: Path) -> None:
    assert client.get("/v1/admin/stats").status_code == 401
    assert client.get("/v1/admin/stats", headers=auth(env.alpha_key)).status_code == 401
    assert client.get("/v1/admin/stats", headers=auth(ADMIN_TOKEN)).status_code == 200
    closed = app_for(make_env(tmp_path, admin_token=None)).test_client()
    assert closed.get("/v1/admin/stats", headers=auth(ADMIN_TOKEN)).status_code == 403


def test_readyz_counts_unreachable_warehouses_without_naming_them(env: Env,
                                                                  tmp_path: Path) -> None:
    client = app_for(env).test_client()
    assert client.get("/readyz").json == {"status": "ready", "tenants": 2}
    other = make_env(tmp_path)
    other.beta_db.unlink()
    response = app_for(other).test_client().get("/readyz")
    assert response.status_code == 503
    assert "beta" not in response.get_data(as_text=True)


# -- Google identity tokens --------------------------------------------------------------------
@pytest.fixture(scope="module")
def signing_key():  # noqa: ANN201
    return idtokens.make_rsa_key()


@pytest.fixture
def token_client(env: Env, signing_key: object, httpserver: HTTPServer) -> FlaskClient:
    httpserver.expect_request("/certs").respond_with_json(
        {"kid1": idtokens.public_pem(signing_key)})  # type: ignore[arg-type]
    verifier = IdentityVerifier([idtokens.AUDIENCE], httpserver.url_for("/certs"))
    return app_for(env, verifier=verifier).test_client()


def _token_headers(token: str, key: str | None = None) -> dict[str, str]:
    return {"X-Identity-Token": token, **(auth(key) if key else {})}


def test_identity_token_maps_to_the_subscription_by_email(token_client: FlaskClient,
                                                          signing_key: object,
                                                          env: Env) -> None:
    token = idtokens.mint(signing_key, "kid1", email="Ana@Alpha.example")  # type: ignore[arg-type]
    listed = token_client.get("/v1/connectors", headers=_token_headers(token))
    assert listed.status_code == 200
    assert listed.json["tenant"] == "Alpha AB"
    response = token_client.post("/v1/connectors/control_tower/data", json=data_body("revenue"),
                                 headers=_token_headers(token))
    assert response.json["rows"] == [{"values": ["162"]}]
    beta_key_with_alpha_token = token_client.get(
        "/v1/connectors", headers=_token_headers(token, env.beta_key))
    assert beta_key_with_alpha_token.status_code == 401


@pytest.mark.parametrize(("claims", "status"), [
    ({"aud": "someone-else.apps.googleusercontent.com"}, 401),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, 401),
    ({"iss": "https://evil.example"}, 401),
    ({"email_verified": False}, 401),
    ({"email": "stranger@example.com"}, 403),
])
def test_bad_identity_tokens_are_refused(token_client: FlaskClient, signing_key: object,
                                         claims: dict, status: int) -> None:
    token = idtokens.mint(signing_key, "kid1",  # type: ignore[arg-type]
                          **{"email": "ana@alpha.example", **claims})
    response = token_client.get("/v1/connectors", headers=_token_headers(token))
    assert response.status_code == status
    assert token not in response.get_data(as_text=True)


def test_tokens_signed_by_another_key_or_unsigned_are_refused(token_client: FlaskClient) -> None:
    forged = idtokens.mint(idtokens.make_rsa_key(), "kid1", email="ana@alpha.example")
    unsigned = idtokens.mint_alg_none(email="ana@alpha.example")
    for token in (forged, unsigned, "not.a.token"):
        assert token_client.get("/v1/connectors",
                                headers=_token_headers(token)).status_code == 401


def test_tokens_are_refused_when_the_service_does_not_accept_them(client: FlaskClient,
                                                                  signing_key: object,
                                                                  env: Env) -> None:
    token = idtokens.mint(signing_key, "kid1", email="ana@alpha.example")  # type: ignore[arg-type]
    assert client.get("/v1/connectors", headers=_token_headers(token)).status_code == 401
    # with a key, a token the service does not check is ignored: the key decides
    with_key = client.get("/v1/connectors", headers=_token_headers(token, env.alpha_key))
    assert with_key.status_code == 200


def test_with_a_key_the_token_must_still_verify(token_client: FlaskClient, signing_key: object,
                                                env: Env) -> None:
    stranger = idtokens.mint(signing_key, "kid1",  # type: ignore[arg-type]
                             email="stranger@example.com")
    assert token_client.get("/v1/connectors", headers=_token_headers(
        stranger, env.alpha_key)).status_code == 200  # on no subscription: the key decides
    forged = idtokens.mint(idtokens.make_rsa_key(), "kid1", email="ana@alpha.example")
    assert token_client.get("/v1/connectors", headers=_token_headers(
        forged, env.alpha_key)).status_code == 401


def test_a_warehouse_the_service_cannot_read_is_a_501(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    env.store.create_tenant("delta", "Delta", "bigquery://project/dataset", "EUR")
    env.store.create_subscription("delta", "control_tower", "pro",
                                  env.store.list_subscriptions("alpha")[0].current_period_end)
    key, _ = env.store.create_key("delta")
    response = post(app_for(env).test_client(), key, data_body("revenue"))
    assert response.status_code == 501
    assert response.json == {"error": "not_implemented", "message":
                             "this tenant's warehouse type is not served yet (DuckDB only)"}
