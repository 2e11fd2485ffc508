"""Structured access logs: one JSON line per request, without credentials or bodies.

Logged: method, path, status, duration, the tenant and how it authenticated (key prefix or
e-mail), and the cache outcome. Never logged: headers, query strings, bodies, keys, tokens.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, Response, g, request

access_log = logging.getLogger("odc.access")


def register(app: Flask) -> None:
    """Time every request and log it when the response is ready."""
    app.before_request(_start)
    app.after_request(_log)


def _start() -> None:
    g.started = time.perf_counter()


def _log(response: Response) -> Response:
    if not access_log.isEnabledFor(logging.INFO):
        return response
    principal = g.get("principal")
    entry = {
        "method": request.method, "path": request.path, "status": response.status_code,
        "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
        "tenant": principal.tenant.id if principal else None,
        "via": principal.via if principal else None,
        "cache": g.get("cache"),
    }
    access_log.info(json.dumps(entry, separators=(",", ":")))
    return response
