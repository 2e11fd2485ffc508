"""Verify the Google OpenID identity tokens that the Apps Script connector sends.

The Looker Studio connector runs as an Apps Script; it calls ``ScriptApp.getIdentityToken()``
and sends the token with each request. The token is a JWT signed by Google whose ``aud`` is the
script's OAuth client id, so verifying it proves *which Google user* is asking, through *our*
script. :class:`IdentityVerifier` checks, in this order: the RS256 signature against Google's
published certificates, ``iat``/``exp`` (with a small clock skew), the audience (always: an empty
audience list is a configuration error), the issuer, and a verified e-mail address.

Google's certificates change about once a day, so they are fetched through
:class:`CachingCertsRequest`, which keeps a good response for ``cert_ttl_seconds`` instead of
refetching on every request. If they cannot be fetched, verification fails closed.

Every failure is an :class:`~ondigital_connect.errors.AuthenticationError` whose message is a
short, fixed reason; it never carries the token, and google-auth's own messages (which quote
token segments) are dropped from the exception chain.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from google.auth import exceptions as google_exceptions
from google.auth import transport
from google.auth.transport.requests import Request as RequestsRequest
from google.oauth2 import id_token

from ondigital_connect.errors import AuthenticationError, ConfigError

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
MAX_TOKEN_CHARS = 8192  # Google identity tokens are ~1 KB; anything far larger is not one
RETRY_AFTER_FAILURE_SECONDS = 2.0  # a failed certs fetch is not retried sooner than this
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

# google-auth signals every verification failure with a ValueError subclass whose message
# starts with one of these; the rest of its message may quote the token, so only the prefix is
# used. An unknown message (a google-auth upgrade) still rejects, with the reason "malformed".
_REASONS: tuple[tuple[str, str], ...] = (
    ("Token expired", "expired"),
    ("Token used too early", "not yet valid"),
    ("Token has wrong audience", "wrong audience"),
    ("Could not verify token signature", "signature"),
    ("Certificate for key id", "unknown signing key"),
    ("Unsupported signature algorithm", "unsupported algorithm"),
    ("Certificate key type does not match", "unsupported algorithm"),
    ("Token does not contain required claim", "missing claim"),
)


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Who the token says is calling: a verified e-mail address and Google's stable user id."""

    email: str
    subject: str


class _StoredResponse(transport.Response):
    """A certificates response kept in memory (google-auth reads ``status`` and ``data``)."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self._status = status
        self._headers = dict(headers)
        self._data = data

    @property
    def status(self) -> int:
        """The HTTP status (always 200: only good responses are stored)."""
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers as received."""
        return self._headers

    @property
    def data(self) -> bytes:
        """The response body: Google's ``{key id: PEM certificate}`` JSON object."""
        return self._data


@dataclass(frozen=True, slots=True)
class _CachedCerts:
    """A good certificates response and when it stops being fresh (on the ``timer`` clock)."""

    response: _StoredResponse
    expires: float


class CachingCertsRequest(transport.Request):
    """A google-auth transport ``Request`` that keeps the certificates response for a while.

    Only GETs answered 200 with a non-empty JSON object are kept, per URL, for ``ttl_seconds``.
    Any fetch problem (connection, timeout, status, body) becomes a ``TransportError``, so the
    verifier can tell "certificates unavailable" from "bad token". Thread-safe: one lock, held
    during a fetch so concurrent misses make one request; after a failure, callers fail at once
    for ``RETRY_AFTER_FAILURE_SECONDS`` instead of queueing behind fetches that time out.
    """

    def __init__(
        self, inner: transport.Request, ttl_seconds: float, timeout: float,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._timeout = timeout
        self._timer = timer
        self._lock = threading.Lock()
        self._cached: dict[str, _CachedCerts] = {}
        self._failed_at: dict[str, float] = {}

    def __call__(
        self, url: str, method: str = "GET", body: bytes | None = None,
        headers: Mapping[str, str] | None = None, timeout: float | None = None, **kwargs: Any,
    ) -> transport.Response:
        """Answer a certificates GET from memory when fresh, else fetch, check and keep it."""
        if method != "GET" or body is not None:
            raise google_exceptions.TransportError("only GETs of certificates are supported")
        with self._lock:
            now = self._timer()
            cached = self._cached.get(url)
            if cached is not None and now < cached.expires:
                return cached.response
            failed_at = self._failed_at.get(url)
            if failed_at is not None and now - failed_at < RETRY_AFTER_FAILURE_SECONDS:
                raise google_exceptions.TransportError("certificates fetch failed moments ago")
            try:
                response = self._fetch(url, headers, timeout)
            except google_exceptions.TransportError:
                self._failed_at[url] = now
                raise
            self._failed_at.pop(url, None)
            self._cached[url] = _CachedCerts(response, now + self._ttl)
            return response

    def _fetch(
        self, url: str, headers: Mapping[str, str] | None, timeout: float | None,
    ) -> _StoredResponse:
        """GET ``url`` once and check it is a certificates document; raise TransportError if not."""
        try:
            response = self._inner(url, method="GET", headers=headers,
                                   timeout=timeout or self._timeout)
            status, data = response.status, bytes(response.data)
            response_headers = response.headers
        except Exception as exc:  # any failure to fetch means "unavailable", whatever raised it
            raise google_exceptions.TransportError("certificates fetch failed") from exc
        if status != 200:
            raise google_exceptions.TransportError(f"certificates endpoint answered {status}")
        try:
            certs = json.loads(data)
        except ValueError as exc:
            raise google_exceptions.TransportError("certificates are not JSON") from exc
        if not isinstance(certs, dict) or not certs:
            raise google_exceptions.TransportError("certificates are not a non-empty object")
        return _StoredResponse(status, response_headers, data)

    def forget(self) -> None:
        """Drop the kept certificates and failures (for tests and a manual key-rotation nudge)."""
        with self._lock:
            self._cached.clear()
            self._failed_at.clear()


def _rejected(reason: str) -> AuthenticationError:
    """The one error every verification failure becomes: a fixed, token-free message."""
    return AuthenticationError(f"identity token rejected: {reason}")


def _reason(exc: Exception) -> str:
    """Map a google-auth verification exception to a short reason that cannot leak the token."""
    message = str(exc)
    for prefix, reason in _REASONS:
        if message.startswith(prefix):
            return reason
    return "malformed"


def _check_audiences(audiences: Sequence[str]) -> tuple[str, ...]:
    """The configured OAuth client ids, or ConfigError: verifying without an audience is unsafe."""
    if isinstance(audiences, str | bytes):
        raise ConfigError("identity audiences must be a list of OAuth client ids, not one string")
    checked = tuple(audiences)
    if not checked:
        raise ConfigError("identity audiences are empty: set the Apps Script's OAuth client id")
    if not all(isinstance(a, str) and a.strip() for a in checked):
        raise ConfigError("identity audiences must be non-empty strings (OAuth client ids)")
    return checked


def _check_certs_url(url: str) -> str:
    """An https URL, or http on the loopback interface (tests and local development)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return url
    raise ConfigError(f"identity certs_url must be an https URL, got {url!r}")


def _check_number(name: str, value: float, low: float, high: float) -> None:
    """ConfigError unless ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"identity {name} must be between {low:g} and {high:g}, got {value!r}")


def _identity(claims: Mapping[str, Any]) -> VerifiedIdentity:
    """The caller's identity from verified claims, once issuer and e-mail pass muster."""
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise _rejected("wrong issuer")
    email, subject = claims.get("email"), claims.get("sub")
    if not isinstance(email, str) or not email:
        raise _rejected("no email")
    # Google sends a JSON boolean; some older Google tokens carried the string "true".
    if claims.get("email_verified") not in (True, "true"):
        raise _rejected("email not verified")
    if not isinstance(subject, str) or not subject:
        raise _rejected("no subject")
    return VerifiedIdentity(email=email, subject=subject)


class IdentityVerifier:
    """Verifies Apps Script identity tokens for the configured OAuth client ids (audiences).

    Build one per process and share it across threads: it holds the certificates cache.
    ``http`` (the google-auth transport under the cache) and ``timer`` (the cache's clock) are
    for tests.
    """

    def __init__(
        self, audiences: Sequence[str], certs_url: str = GOOGLE_CERTS_URL,
        clock_skew_seconds: int = 10, cert_ttl_seconds: float = 3600, timeout: float = 5, *,
        http: transport.Request | None = None, timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audiences = _check_audiences(audiences)
        self._certs_url = _check_certs_url(certs_url)
        _check_number("clock_skew_seconds", clock_skew_seconds, 0, 300)
        _check_number("cert_ttl_seconds", cert_ttl_seconds, 0, 86_400)
        _check_number("timeout", timeout, 0.001, 60)
        self._skew = int(clock_skew_seconds)
        self._request = CachingCertsRequest(
            http or RequestsRequest(), cert_ttl_seconds, timeout, timer)

    @property
    def audiences(self) -> tuple[str, ...]:
        """The OAuth client ids a token's ``aud`` must be one of."""
        return self._audiences

    def verify(self, token: str) -> VerifiedIdentity:
        """Return the verified caller of ``token`` or raise AuthenticationError (HTTP 401).

        Any exception google-auth raises on a hostile token (ValueError, TypeError, ...) is a
        rejection, never a 500; certificate trouble is "certificates unavailable" (fail closed).
        """
        if not isinstance(token, str) or not token:
            raise AuthenticationError("identity token missing")
        if len(token) > MAX_TOKEN_CHARS:
            raise _rejected("malformed")
        try:
            claims = id_token.verify_token(
                token, self._request, audience=list(self._audiences),
                certs_url=self._certs_url, clock_skew_in_seconds=self._skew)
        except google_exceptions.TransportError:
            reason = "certificates unavailable"
        except Exception as exc:  # hostile input may make google-auth raise anything: reject
            reason = _reason(exc)
        else:
            return _identity(claims)
        # Raised outside the handler so google-auth's exception (which quotes the token) is
        # neither the cause nor the context of ours: tracebacks and error reporters never see it.
        raise _rejected(reason)
