"""The per-process parts the views share: settings, store, gate, cache (in ``app.extensions``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from connector_service.access import Gate
from connector_service.cache import ResponseCache
from connector_service.settings import ServiceSettings


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a request needs besides the request."""

    settings: ServiceSettings
    gate: Gate
    cache: ResponseCache


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["odc"]  # type: ignore[no-any-return]
