"""The control database behind the connector service: tenants, subscriptions, API keys, limits.

A library package (no Flask): the service, the CLI and tests all use the same store. Only
HMACs of key secrets are stored; bad credentials give None, bad input a ConfigError.
"""

from __future__ import annotations

from ondigital_connect.control.keys import ParsedKey, format_key, hash_secret, parse_key
from ondigital_connect.control.plans import ENTERPRISE, PLANS, PRO, STARTER, Plan, plan
from ondigital_connect.control.ratelimit import RateDecision, SQLiteRateLimiter
from ondigital_connect.control.sqlite_store import SCHEMA_VERSION, SQLiteControlStore
from ondigital_connect.control.store import (
    ACTIVE,
    CANCELLED,
    STATUSES,
    SUSPENDED,
    ApiKeyInfo,
    ControlStore,
    Principal,
    Subscription,
    Tenant,
)

__all__ = [
    "ACTIVE", "CANCELLED", "ENTERPRISE", "PLANS", "PRO", "SCHEMA_VERSION", "STARTER", "STATUSES",
    "SUSPENDED", "ApiKeyInfo", "ControlStore", "ParsedKey", "Plan", "Principal", "RateDecision",
    "SQLiteControlStore", "SQLiteRateLimiter", "Subscription", "Tenant", "format_key",
    "hash_secret", "parse_key", "plan",
]
