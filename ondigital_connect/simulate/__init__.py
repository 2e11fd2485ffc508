"""A seeded, deterministic simulated Nordic e-commerce business (demo, sandboxes, tests)."""

from __future__ import annotations

from ondigital_connect.simulate.business import SimulatedBusiness
from ondigital_connect.simulate.model import (
    Campaign,
    Market,
    SimCustomer,
    SimInventoryLevel,
    SimLine,
    SimOrder,
    SimProduct,
    SimRefund,
    SimRefundLine,
)
from ondigital_connect.simulate.orders import (
    LINE_ID_BASE,
    ORDER_ID_BASE,
    REFUND_ID_BASE,
    REFUND_LINE_ID_BASE,
)

__all__ = [
    "LINE_ID_BASE",
    "ORDER_ID_BASE",
    "REFUND_ID_BASE",
    "REFUND_LINE_ID_BASE",
    "Campaign",
    "Market",
    "SimCustomer",
    "SimInventoryLevel",
    "SimLine",
    "SimOrder",
    "SimProduct",
    "SimRefund",
    "SimRefundLine",
    "SimulatedBusiness",
]
