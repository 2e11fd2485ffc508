"""API keys: ``odc_<prefix>_<secret>``, stored only as a peppered HMAC of the secret.

The prefix (8 hex characters) is an index, shown in listings and logs so a key can be named
and revoked without revealing it. The secret is ``secrets.token_urlsafe(32)`` (256 bits) and
is never stored: the database keeps ``HMAC-SHA256(pepper, secret)``, so a copy of the
database alone cannot be turned back into working keys. Verification always computes the
HMAC, even when the prefix is unknown, so response times do not reveal which prefixes exist.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "odc_"
PREFIX_LENGTH = 8
SECRET_BYTES = 32
_SECRET_LENGTH = 43  # len(secrets.token_urlsafe(32))
_KEY_RE = re.compile(r"odc_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
PREFIX_RE = re.compile(r"[0-9a-f]{8}")
_MAX_KEY_LENGTH = len(KEY_PREFIX) + PREFIX_LENGTH + 1 + _SECRET_LENGTH
# Compared against when the prefix is unknown or revoked, so that path costs the same.
_DUMMY_HASH = "0" * 64


@dataclass(frozen=True)
class ParsedKey:
    """A key split into its public prefix and its secret part (never logged)."""

    prefix: str
    secret: str

    def __repr__(self) -> str:
        """Show the prefix only, so a stray log line cannot leak the secret."""
        return f"ParsedKey(prefix={self.prefix!r}, secret='***')"


def new_key() -> ParsedKey:
    """A fresh random key: 32 bits of prefix (an index) and 256 bits of secret."""
    return ParsedKey(prefix=secrets.token_hex(PREFIX_LENGTH // 2),
                     secret=secrets.token_urlsafe(SECRET_BYTES))


def format_key(key: ParsedKey) -> str:
    """The string handed to the customer once: ``odc_<prefix>_<secret>``."""
    return f"{KEY_PREFIX}{key.prefix}_{key.secret}"


def parse_key(raw: object) -> ParsedKey | None:
    """Split a presented key, or None if it is not one of ours; never raises, never echoes it."""
    if not isinstance(raw, str) or len(raw) != _MAX_KEY_LENGTH:
        return None
    match = _KEY_RE.fullmatch(raw)
    if match is None:
        return None
    return ParsedKey(prefix=match.group(1), secret=match.group(2))


def hash_secret(pepper: bytes, secret: str) -> str:
    """``HMAC-SHA256(pepper, secret)`` as hex: what the database stores instead of the secret."""
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(pepper: bytes, secret: str, stored_hash: str | None) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``, in constant time.

    ``stored_hash`` is None when the prefix is unknown or unusable; the HMAC is computed and
    compared all the same so that case takes as long as a wrong secret.
    """
    computed = hash_secret(pepper, secret)
    expected = stored_hash if stored_hash is not None else _DUMMY_HASH
    same = hmac.compare_digest(computed.encode(), expected.encode())
    return same and stored_hash is not None
