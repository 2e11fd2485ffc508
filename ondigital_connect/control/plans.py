"""Subscription plans: how far back, how many rows and how many requests a connector may use.

Plans live in code rather than in the control database so a limit changes with a release
(reviewed, tested) and every worker process agrees on it without a reload.
"""

from __future__ import annotations

from dataclasses import dataclass

from ondigital_connect.errors import ConfigError


@dataclass(frozen=True)
class Plan:
    """The limits one subscription grants.

    ``max_days`` bounds a report's date range, ``max_rows`` the rows one response may carry,
    ``requests_per_minute`` the rate per tenant and connector.
    """

    name: str
    max_days: int
    max_rows: int
    requests_per_minute: int


STARTER = Plan("starter", max_days=400, max_rows=10_000, requests_per_minute=60)
PRO = Plan("pro", max_days=1100, max_rows=100_000, requests_per_minute=300)
ENTERPRISE = Plan("enterprise", max_days=3700, max_rows=1_000_000, requests_per_minute=1200)

PLANS: dict[str, Plan] = {p.name: p for p in (STARTER, PRO, ENTERPRISE)}


def plan(name: str) -> Plan:
    """The plan called ``name``; a ConfigError naming the valid plans for anything else."""
    try:
        return PLANS[name]
    except (KeyError, TypeError):
        valid = ", ".join(PLANS)
        raise ConfigError(f"unknown plan {name!r}; valid plans: {valid}") from None
