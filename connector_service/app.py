"""``create_app(settings)``: the Flask app for Looker Studio, ready for gunicorn.

Per process it builds the control store, the cross-process rate limiter, the response cache and
(when configured) the identity-token verifier, and registers one blueprint per concern.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask

from connector_service import errors, logs
from connector_service.access import Gate
from connector_service.blueprints.admin import admin
from connector_service.blueprints.connectors import connectors
from connector_service.blueprints.health import health
from connector_service.cache import ResponseCache
from connector_service.identity import IdentityVerifier
from connector_service.services import Services
from connector_service.settings import ServiceSettings
from ondigital_connect.control import ControlStore, SQLiteControlStore, SQLiteRateLimiter


def create_app(settings: ServiceSettings | None = None, *, store: ControlStore | None = None,
               verifier: IdentityVerifier | None = None,
               today: Callable[[], dt.date] | None = None) -> Flask:
    """The service. ``store``, ``verifier`` and ``today`` replace the defaults (tests)."""
    settings = settings or ServiceSettings()
    app = Flask("connector_service", static_folder=None)
    # One byte of headroom: the views refuse a body that reaches it (see connectors._body).
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes + 1, JSON_SORT_KEYS=False)
    if store is None:
        store = SQLiteControlStore(settings.control_db,
                                   settings.key_pepper.get_secret_value().encode())
    if verifier is None and settings.identity_audiences:
        verifier = IdentityVerifier(settings.identity_audiences, settings.identity_certs_url)
    gate = Gate(store, SQLiteRateLimiter(settings.limiter_path()), verifier,
                today or _utc_today)
    cache = ResponseCache(settings.cache_max_bytes, settings.cache_ttl_seconds)
    app.extensions["odc"] = Services(settings, gate, cache)
    for blueprint in (health, connectors, admin):
        app.register_blueprint(blueprint)
    errors.register(app)
    logs.register(app)
    return app


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
