"""Mint Google-style identity tokens offline, for the identity verifier and the service's tests.

A test makes an RSA key (``make_rsa_key``), serves ``{kid: public_pem(key)}`` as the certificates
document from a loopback server, and mints tokens with ``mint(key, kid, **claims)``. The default
claims are those of a valid Apps Script identity token for ``AUDIENCE``; a claim passed as
``None`` is left out of the token.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

AUDIENCE = "1234567890-appsscript.apps.googleusercontent.com"
ISSUER = "https://accounts.google.com"
EMAIL = "ana@example.com"
SUBJECT = "110248495921238986420"


def make_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 private key (the size Google signs identity tokens with)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    """The key's public half as a self-signed x509 certificate in PEM, as Google publishes it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test.identity.invalid")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def claims(**overrides: Any) -> dict[str, Any]:
    """A valid identity token's claims (issued now, for an hour), with ``overrides`` applied."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER, "aud": AUDIENCE, "azp": AUDIENCE, "sub": SUBJECT,
        "email": EMAIL, "email_verified": True, "iat": now, "exp": now + 3600,
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not None}


def mint(private_key: rsa.RSAPrivateKey, kid: str | None, **overrides: Any) -> str:
    """An RS256 token signed by ``private_key``; ``kid=None`` leaves the key id out."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = crypt.RSASigner.from_string(pem, key_id=kid)
    return jwt.encode(signer, claims(**overrides)).decode("ascii")


def _segment(value: dict[str, Any]) -> str:
    """One unpadded base64url JSON segment."""
    raw = json.dumps(value, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def mint_alg_none(**overrides: Any) -> str:
    """An unsigned token (``alg: none``, empty signature): what a forger sends."""
    header = {"alg": "none", "typ": "JWT"}
    return f"{_segment(header)}.{_segment(claims(**overrides))}."
