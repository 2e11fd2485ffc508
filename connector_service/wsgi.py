"""The WSGI entry point for gunicorn: ``connector_service.wsgi:app`` (settings from ODC_*).

The service's own loggers (``odc.access`` one JSON line per request, ``odc.service`` errors)
write to stderr next to gunicorn's log, unless the deployment configured logging already.
"""

from __future__ import annotations

import logging
import sys

from connector_service.app import create_app

_root = logging.getLogger("odc")
if not _root.handlers:
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    _root.addHandler(_handler)
    _root.setLevel(logging.INFO)

app = create_app()
