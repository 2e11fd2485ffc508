"""Runs a compiled query under Shopify's cost rules: max cost, leaky bucket, cost extension."""

from __future__ import annotations

from typing import Any

from ondigital_connect.sandbox.shopify_cost import CostBucket, actual_cost, requested_cost
from ondigital_connect.sandbox.shopify_graphql import Compiled, QueryFailure
from ondigital_connect.sandbox.shopify_values import Env

RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"


def cost_extension(requested: int, actual: int | None, status: dict) -> dict:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": status}}


def throttled(requested: int, status: dict) -> dict:
    """Shopify's THROTTLED answer (HTTP 200, no data)."""
    return {"errors": [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": RATE_LIMIT_DOCS}}],
        "extensions": cost_extension(requested, None, status)}


def max_cost_exceeded(requested: int, max_cost: int, status: dict) -> dict:
    """Shopify's answer to a query whose requested cost is over the single-query limit."""
    return {"errors": [{"message": f"Query cost is {requested}, which exceeds the single query "
                                   f"max cost limit ({max_cost}).",
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                                       "maxCost": max_cost}}],
            "extensions": cost_extension(requested, None, status)}


def requested_or_zero(compiled: Compiled | None, variables: dict | None) -> int:
    """The requested cost of a query, 0 when it cannot be computed (bad query/variables)."""
    if compiled is None:
        return 0
    try:
        return requested_cost(compiled.cost_nodes, compiled.variables(variables))
    except QueryFailure:
        return 0


def run_query(compiled: Compiled, given: dict | None, env: Env, bucket: CostBucket,
              max_cost: int | None) -> tuple[dict, int | None]:
    """The response body of one query and its actual cost (None when nothing ran)."""
    try:
        variables = compiled.variables(given)
    except QueryFailure as exc:
        return {"errors": exc.errors}, None
    requested = requested_cost(compiled.cost_nodes, variables)
    if max_cost is not None and requested > max_cost:
        return max_cost_exceeded(requested, max_cost, bucket.status()), None
    if not bucket.try_spend(requested):
        return throttled(requested, bucket.status()), None
    patched = env.overrides.patching  # patched nodes: dicts, walked by the generic rules
    text = compiled.run_text is not None and not patched
    run_env = Env(env.store, env.shop, env.as_of, variables, env.overrides,
                  env.repeat_cursor_row, [] if text else None, env.memo if text else None)
    try:
        data: Any = (compiled.run_text if text else compiled.run)(run_env)
    except QueryFailure as exc:
        bucket.refund(requested)
        return {"errors": exc.errors, "data": None,
                "extensions": cost_extension(requested, 0, bucket.status())}, 0
    if text:
        actual = sum(run_env.tally)
    else:
        actual = actual_cost(compiled.cost_nodes, data) if patched else compiled.actual(data)
    bucket.refund(requested - actual)
    return {"data": data, "extensions": cost_extension(requested, actual, bucket.status())}, actual
