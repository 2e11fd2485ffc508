"""The Looker Studio protocol: list connectors, getSchema and getData for one of them.

Every route authenticates first, then checks the subscription (and counts the request against
its plan), and only then reads the body. Answers to getData are cached by tenant, connector,
normalised request and the warehouse's data version.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from connector_service.access import Grant
from connector_service.cache import CacheKey, request_digest
from connector_service.errors import UnknownConnector
from connector_service.protocol import (
    data_response,
    date_range,
    normalised,
    parse_data_request,
    schema,
    to_query,
)
from connector_service.services import services
from connector_service.warehouses import built_currency, data_version, reader
from ondigital_connect.connectors import CONNECTORS, Connector, DataQuery
from ondigital_connect.errors import QueryError

connectors = Blueprint("connectors", __name__, url_prefix="/v1/connectors")
log = logging.getLogger("odc.service")


@connectors.get("")
def list_connectors() -> Response:
    """The connectors this credential may use, with plan and paid-up date."""
    gate = services().gate
    principal = gate.principal(request.headers)
    g.principal = principal
    subs = gate.connectors(principal)
    items = [{"id": s.connector, "label": CONNECTORS[s.connector].label,
              "description": CONNECTORS[s.connector].description, "plan": s.plan,
              "current_period_end": s.current_period_end.isoformat()}
             for s in subs if s.connector in CONNECTORS]
    return _private(jsonify(tenant=principal.tenant.name, connectors=items))


@connectors.post("/<connector_id>/schema")
def get_schema(connector_id: str) -> Response:
    """getSchema: every field of the connector, typed for the tenant's currency."""
    connector, grant = _authorised(connector_id)
    _body()
    return _private(jsonify(schema=schema(connector, grant.principal.tenant.reporting_currency)))


@connectors.post("/<connector_id>/data")
def get_data(connector_id: str) -> Response:
    """getData: the asked fields in request order, filtered when every filter could be."""
    connector, grant = _authorised(connector_id)
    req = parse_data_request(_body())
    start, end = date_range(req, grant.plan.max_days)
    query = to_query(req, start, end, grant.plan.max_rows)
    tenant = grant.principal.tenant
    key = CacheKey(tenant.id, connector.id,
                   request_digest([normalised(req, grant.plan.max_rows),
                                   tenant.reporting_currency]),
                   data_version(tenant.warehouse_url))
    body, outcome = services().cache.get_or_compute(
        key, lambda: _answer(connector, query, tenant.warehouse_url,
                             tenant.reporting_currency))
    g.cache = outcome
    return _private(Response(body, mimetype="application/json"))


def _answer(connector: Connector, query: DataQuery, url: str, currency: str) -> bytes:
    with reader(url) as warehouse:
        result = connector.run(warehouse, query)
        built = built_currency(warehouse)
    if built and built != currency:  # the numbers are in the currency they were built in
        log.warning("tenant reports in %s but its rollups were built in %s", currency, built)
    return orjson.dumps(data_response(connector, result, built or currency))


def _authorised(connector_id: str) -> tuple[Connector, Grant]:
    gate = services().gate
    principal = gate.principal(request.headers)
    g.principal = principal
    connector = CONNECTORS.get(connector_id)
    if connector is None:
        raise UnknownConnector(f"unknown connector {connector_id[:60]!r}")
    return connector, gate.grant(principal, connector.id)


def _body() -> Any:
    """The JSON body (413 beyond the size limit, 400 when not JSON).

    Flask's own limit is one byte above ours: a chunked body (no Content-Length) is cut there
    without an error, so a body that reaches it is too large, never silently truncated."""
    data = request.get_data(cache=True)
    if len(data) > services().settings.max_body_bytes:
        raise RequestEntityTooLarge()
    if not data:
        return {}
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise QueryError("the body is not valid JSON") from None


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response
