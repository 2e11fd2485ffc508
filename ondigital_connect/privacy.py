"""Pseudonymisation: customer identifiers become keyed hashes, so no clear-text PII is stored."""

from __future__ import annotations

import hashlib
import hmac


def normalise_email(email: str) -> str:
    """Lower-case and trim an e-mail so the same person hashes the same way."""
    return email.strip().lower()


def pseudonymise(key: bytes, namespace: str, value: str) -> str:
    """Keyed HMAC-SHA256 of ``namespace:value``, hex, prefixed ``c_``.

    The key is per tenant, so the same person in two tenants gets different pseudonyms and a
    leaked table cannot be joined back to e-mails without the key.
    """
    digest = hmac.new(key, f"{namespace}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"c_{digest[:32]}"
