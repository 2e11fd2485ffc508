"""Admin endpoints, behind their own token (connector keys never reach them)."""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, jsonify, request

from connector_service.services import services
from ondigital_connect.errors import AuthenticationError, PermissionDenied

admin = Blueprint("admin", __name__, url_prefix="/v1/admin")


@admin.before_request
def _only_admins() -> None:
    token = services().settings.admin_token
    if token is None:
        raise PermissionDenied("admin endpoints are disabled (set ODC_ADMIN_TOKEN)")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise AuthenticationError("the admin token is missing or wrong")


@admin.get("/stats")
def stats() -> Response:
    """This worker's cache counters (each gunicorn worker has its own cache)."""
    return jsonify(worker=os.getpid(), cache=services().cache.stats())
