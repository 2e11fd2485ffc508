"""Who is calling and what they may do: API keys, Google identity tokens, plans, rate limits.

The tenant comes only from the credential: an API key (``Authorization: Bearer odc_...``) or,
when enabled, a Google identity token (``X-Identity-Token``) whose verified e-mail is listed on
a subscription. When both are sent they must agree on the tenant. Nothing in the request body
(``configParams`` included) can choose a tenant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connector_service.identity import IdentityVerifier
from ondigital_connect.control import ControlStore, Plan, Principal, SQLiteRateLimiter, plan
from ondigital_connect.control.store import Subscription
from ondigital_connect.errors import AuthenticationError, PermissionDenied, RequestsExhausted

KEY_HEADER = "Authorization"
TOKEN_HEADER = "X-Identity-Token"  # noqa: S105 (a header name)
LIST_REQUESTS_PER_MINUTE = 120


@dataclass(frozen=True, slots=True)
class Grant:
    """An authenticated caller's right to one connector: its subscription and plan."""

    principal: Principal
    subscription: Subscription
    plan: Plan


@dataclass(frozen=True, slots=True)
class Gate:
    """Authentication and authorisation for the service (one per process)."""

    store: ControlStore
    limiter: SQLiteRateLimiter
    verifier: IdentityVerifier | None
    today: Callable[[], dt.date]

    def principal(self, headers: Mapping[str, str]) -> Principal:
        """The caller, from its key and/or identity token; AuthenticationError otherwise.

        With a key, the token is an extra check: ignored when this service does not verify
        tokens, and otherwise it must verify and must not belong to another tenant (an e-mail
        on no subscription is fine: the key decides). Without a key, the token must map to a
        subscription by its verified e-mail."""
        key = _bearer(headers.get(KEY_HEADER, ""))
        token = headers.get(TOKEN_HEADER, "").strip()
        if not key and not token:
            raise AuthenticationError("an API key is required (Authorization: Bearer odc_...)")
        if not key:
            return self._by_token(token)
        principal = self._by_key(key)
        if token and self.verifier is not None:
            email = self.verifier.verify(token).email
            other = self.store.principal_for_email(email)
            if other is not None and other.tenant.id != principal.tenant.id:
                raise AuthenticationError("the API key and the identity token do not match")
        return principal

    def _by_key(self, key: str) -> Principal:
        principal = self.store.authenticate_key(key)
        if principal is None:
            raise AuthenticationError("invalid or revoked API key")
        return principal

    def _by_token(self, token: str) -> Principal:
        if self.verifier is None:
            raise AuthenticationError("identity tokens are not accepted by this service")
        identity = self.verifier.verify(token)
        principal = self.store.principal_for_email(identity.email)
        if principal is None:
            raise PermissionDenied("this Google account has no subscription")
        return principal

    def grant(self, principal: Principal, connector: str) -> Grant:
        """The caller's active subscription to ``connector`` (PermissionDenied if none), with
        one request counted against its plan (RequestsExhausted when over)."""
        subscription = principal.subscription_for(connector, self.today())
        if subscription is None:
            raise PermissionDenied(
                f"no active subscription to the {connector!r} connector for this key")
        grant = Grant(principal, subscription, plan(subscription.plan))
        self.count(f"subscription:{subscription.id}", grant.plan.requests_per_minute)
        return grant

    def count(self, bucket: str, per_minute: int) -> None:
        """Count one request in ``bucket``; RequestsExhausted when the minute is used up."""
        decision = self.limiter.hit(bucket, per_minute)
        if not decision.allowed:
            raise RequestsExhausted(
                f"the plan allows {per_minute} requests per minute; retry in "
                f"{max(1, round(decision.retry_after))} s", decision.retry_after)

    def connectors(self, principal: Principal) -> list[Subscription]:
        """The caller's active subscriptions (one per connector), for listing."""
        self.count(f"list:{principal.via}", LIST_REQUESTS_PER_MINUTE)
        today = self.today()
        seen: dict[str, Subscription] = {}
        for sub in principal.subscriptions:
            best = principal.subscription_for(sub.connector, today)
            if best is not None:
                seen[sub.connector] = best
        return list(seen.values())


def _bearer(value: str) -> str:
    scheme, _, credential = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return credential.strip()
