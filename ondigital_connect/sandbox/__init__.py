"""Loopback vendor API sandboxes serving the simulated business (tests, demos, benchmarks)."""

from __future__ import annotations

from ondigital_connect.sandbox.faults import FaultPlan, FaultSpec, Overrides
from ondigital_connect.sandbox.shopify_memo import NodeMemo
from ondigital_connect.sandbox.shopify_server import ServedRequest, ShopifySandbox

__all__ = ["FaultPlan", "FaultSpec", "NodeMemo", "Overrides", "ServedRequest", "ShopifySandbox"]
