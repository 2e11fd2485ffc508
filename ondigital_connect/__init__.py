"""Ondigital Connect: one source of truth for an e-commerce company's numbers."""

from __future__ import annotations

from typing import Any


def kpis(*args: Any, **kwargs: Any) -> Any:
    """KPIs as a DataFrame; see :func:`ondigital_connect.kpi.api.kpis`."""
    from ondigital_connect.kpi.api import kpis as compute

    return compute(*args, **kwargs)
