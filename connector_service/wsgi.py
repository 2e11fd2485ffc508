"""The WSGI entry point for gunicorn: ``connector_service.wsgi:app`` (settings from ODC_*)."""

from __future__ import annotations

from connector_service.app import create_app

app = create_app()
