"""Every error as JSON ``{error, message}`` with its status; no stack trace, secret or SQL.

Messages come from our own exceptions, which name what is wrong without echoing credentials.
Anything unexpected is logged with a request id and answered with only that id.
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ondigital_connect.errors import (
    AuthenticationError,
    LimitExceeded,
    OnDigitalError,
    PermissionDenied,
    QueryError,
    RequestsExhausted,
    WarehouseError,
)

log = logging.getLogger("odc.service")


class UnknownConnector(QueryError):
    """No connector by that name (404)."""


class WarehouseNotServed(OnDigitalError):
    """The tenant's warehouse type is not one the service reads yet (501)."""


#: our error -> (status, code); the first match in order wins
_STATUS: tuple[tuple[type[OnDigitalError], int, str], ...] = (
    (AuthenticationError, 401, "unauthorized"),
    (PermissionDenied, 403, "forbidden"),
    (RequestsExhausted, 429, "rate_limited"),
    (LimitExceeded, 403, "plan_limit"),
    (UnknownConnector, 404, "not_found"),
    (WarehouseNotServed, 501, "not_implemented"),
    (QueryError, 400, "bad_request"),
)


def error_response(status: int, code: str, message: str) -> Response:
    """A JSON error that is never cached by anyone."""
    response = jsonify(error=code, message=message)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return response


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""
    app.register_error_handler(OnDigitalError, _ours)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)


def _ours(exc: OnDigitalError) -> Response:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            response = error_response(status, code, str(exc))
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="ondigital-connect"'
            if isinstance(exc, RequestsExhausted):
                response.headers["Retry-After"] = str(max(1, round(exc.retry_after or 1)))
            return response
    if isinstance(exc, WarehouseError):
        log.warning("warehouse unavailable: %s", exc)
        response = error_response(503, "data_unavailable",
                                  "the data is not available right now (a sync or build may be "
                                  "running); try again in a minute")
        response.headers["Retry-After"] = "30"
        return response
    return _unexpected(exc)


def _http(exc: HTTPException) -> Response:
    code = (exc.name or "error").lower().replace(" ", "_")
    messages = {413: "the request body is too large", 404: "no such endpoint",
                405: "method not allowed for this endpoint"}
    status = exc.code or 500
    return error_response(status, code, messages.get(status, exc.description or code))


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http(exc)
    incident = uuid.uuid4().hex[:12]
    log.exception("unexpected error, incident %s", incident)
    return error_response(500, "internal", f"internal error (incident {incident})")
