"""``/healthz`` (the process answers) and ``/readyz`` (control database and warehouses reachable).

Neither needs a credential, so neither names a tenant: ``/readyz`` only counts.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from connector_service.services import services
from connector_service.warehouses import data_version
from ondigital_connect.errors import OnDigitalError

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Response:
    """Liveness: the worker is up."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: the control database answers and every tenant's warehouse exists."""
    try:
        tenants = services().gate.store.list_tenants()
    except Exception:  # noqa: BLE001 - any failure of the control database means not ready
        return jsonify(status="unready", reason="control database unreachable"), 503
    missing = 0
    for tenant in tenants:
        try:
            data_version(tenant.warehouse_url)
        except OnDigitalError:
            missing += 1
    if missing:
        return jsonify(status="unready", tenants=len(tenants), unreachable=missing), 503
    return jsonify(status="ready", tenants=len(tenants)), 200
