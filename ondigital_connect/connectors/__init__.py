"""Looker Studio connectors, defined once here and served by ``connector_service``.

A connector is a named set of fields with a way to answer a data request (see
:mod:`.base`). Adding one is a module of its own plus one line in ``CONNECTORS``.
"""

from __future__ import annotations

from ondigital_connect.connectors.base import Connector, DataQuery, Result
from ondigital_connect.connectors.fields import Field, looker_value
from ondigital_connect.connectors.planned import CONTROL_TOWER, INVENTORY
from ondigital_connect.connectors.table import SHOPIFY_ORDERS
from ondigital_connect.errors import QueryError

__all__ = ["CONNECTORS", "Connector", "DataQuery", "Field", "Result", "get_connector",
           "looker_value"]

CONNECTORS: dict[str, Connector] = {c.id: c for c in (CONTROL_TOWER, SHOPIFY_ORDERS, INVENTORY)}


def get_connector(connector_id: str) -> Connector:
    """The connector with this id; QueryError (never echoing long input) otherwise."""
    try:
        return CONNECTORS[connector_id]
    except KeyError:
        raise QueryError(f"unknown connector {connector_id[:60]!r}; known: "
                         f"{', '.join(CONNECTORS)}") from None
