"""IdentityVerifier against offline-minted tokens and a loopback certificates server."""

from __future__ import annotations

import socket
import threading
import time
import traceback
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer

from connector_service import identity
from connector_service.identity import IdentityVerifier, VerifiedIdentity
from ondigital_connect.errors import AccessError, AuthenticationError, ConfigError
from tests.idtokens import (
    AUDIENCE,
    EMAIL,
    SUBJECT,
    make_rsa_key,
    mint,
    mint_alg_none,
    public_pem,
)

KID = "kid-2026-10"
OTHER_AUDIENCE = "999-other.apps.googleusercontent.com"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return make_rsa_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return make_rsa_key()


class Clock:
    """A settable monotonic clock for the certificates cache."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def certs(http: HTTPServer, key: rsa.RSAPrivateKey) -> HTTPServer:
    """The loopback server publishing ``{KID: key's certificate}`` at /certs."""
    http.expect_request("/certs", method="GET").respond_with_json({KID: public_pem(key)})
    return http


@pytest.fixture
def make_verifier(http: HTTPServer, clock: Clock) -> Callable[..., IdentityVerifier]:
    """Build a verifier on the loopback /certs with the test clock (overridable kwargs)."""
    def make(**kwargs: object) -> IdentityVerifier:
        kwargs.setdefault("audiences", [AUDIENCE])
        kwargs.setdefault("certs_url", http.url_for("/certs"))
        return IdentityVerifier(timer=clock, **kwargs)  # type: ignore[arg-type]
    return make


@pytest.fixture
def verifier(certs: HTTPServer, make_verifier: Callable[..., IdentityVerifier]) -> IdentityVerifier:
    return make_verifier()


def rejected(verifier: IdentityVerifier, token: str) -> AuthenticationError:
    """Verify ``token``, expecting a rejection; return the error."""
    with pytest.raises(AuthenticationError) as caught:
        verifier.verify(token)
    return caught.value


# --- accepted ------------------------------------------------------------------------------------

def test_valid_token_gives_the_verified_email(verifier: IdentityVerifier, key: object) -> None:
    assert verifier.verify(mint(key, KID)) == VerifiedIdentity(email=EMAIL, subject=SUBJECT)


def test_token_without_kid_is_checked_against_every_published_key(
    verifier: IdentityVerifier, key: rsa.RSAPrivateKey,
) -> None:
    assert verifier.verify(mint(key, None)).email == EMAIL


@pytest.mark.parametrize("issuer", ["accounts.google.com", "https://accounts.google.com"])
def test_both_google_issuer_spellings_are_accepted(
    verifier: IdentityVerifier, key: rsa.RSAPrivateKey, issuer: str,
) -> None:
    assert verifier.verify(mint(key, KID, iss=issuer)).email == EMAIL


def test_legacy_string_email_verified_is_accepted(
    verifier: IdentityVerifier, key: rsa.RSAPrivateKey,
) -> None:
    assert verifier.verify(mint(key, KID, email_verified="true")).email == EMAIL


def test_either_of_two_configured_audiences_is_accepted(
    certs: HTTPServer, make_verifier: Callable[..., IdentityVerifier], key: rsa.RSAPrivateKey,
) -> None:
    verifier = make_verifier(audiences=[AUDIENCE, OTHER_AUDIENCE])
    assert verifier.verify(mint(key, KID, aud=OTHER_AUDIENCE)).email == EMAIL
    assert verifier.verify(mint(key, KID, aud=AUDIENCE)).email == EMAIL
    assert "wrong audience" in str(rejected(verifier, mint(key, KID, aud="third.example")))


def test_expiry_within_clock_skew_is_tolerated(
    verifier: IdentityVerifier, key: rsa.RSAPrivateKey,
) -> None:
    now = int(time.time())
    assert verifier.verify(mint(key, KID, iat=now - 3600, exp=now - 3)).email == EMAIL


# --- rejected ------------------------------------------------------------------------------------

def test_wrong_audience_is_a_401(verifier: IdentityVerifier, key: rsa.RSAPrivateKey) -> None:
    err = rejected(verifier, mint(key, KID, aud=OTHER_AUDIENCE))
    assert str(err) == "identity token rejected: wrong audience"
    assert isinstance(err, AccessError)


def test_audience_text_cannot_steer_the_reason(
    verifier: IdentityVerifier, key: rsa.RSAPrivateKey,
) -> None:
    err = rejected(verifier, mint(key, KID, aud="Token expired"))
    assert str(err) == "identity token rejected: wrong audience"


@pytest.mark.parametrize(("token_claims", "reason"), [
    ({"iat": -7200, "exp": -3600}, "expired"),
    ({"iat": 600, "exp": 4200}, "not yet valid"),
    ({"exp": None}, "missing claim"),
    ({"iss": "https://evil.example.com"}, "wrong issuer"),
    ({"iss": None}, "wrong issuer"),
    ({"email_verified": False}, "email not verified"),
    ({"email_verified": None}, "email not verified"),
    ({"email_verified": "yes"}, "email not verified"),
    ({"email": None}, "no email"),
    ({"email": ""}, "no email"),
    ({"sub": None}, "no subject"),
    ({"aud": [AUDIENCE, OTHER_AUDIENCE]}, "wrong audience"),
])
def test_bad_claims_are_rejected(
    verifier: IdentityVerifier, key: rsa.RSAPrivateKey, token_claims: dict[str, object],
    reason: str,
) -> None:
    now = int(time.time())
    shifted = {k: now + v if k in ("iat", "exp") and isinstance(v, int) else v
               for k, v in token_claims.items()}
    err = rejected(verifier, mint(key, KID, **shifted))
    assert str(err) == f"identity token rejected: {reason}"


def test_token_signed_by_another_key_is_rejected(
    verifier: IdentityVerifier, other_key: rsa.RSAPrivateKey,
) -> None:
    assert str(rejected(verifier, mint(other_key, KID))).endswith(": signature")
    assert str(rejected(verifier, mint(other_key, None))).endswith(": signature")


def test_unknown_key_id_is_rejected(verifier: IdentityVerifier, key: rsa.RSAPrivateKey) -> None:
    assert str(rejected(verifier, mint(key, "kid-unknown"))).endswith(": unknown signing key")


def test_unsigned_alg_none_token_is_rejected(verifier: IdentityVerifier) -> None:
    assert str(rejected(verifier, mint_alg_none())).endswith(": unsupported algorithm")


@pytest.mark.parametrize("token", [
    "not-a-jwt", "a.b", "a.b.c", "....", "e30.e30.", "W10.W10.", "eyJhbGciOiJSUzI1NiJ9.%%%.sig",
    "x" * 9000,
])
def test_garbage_is_rejected_not_a_crash(verifier: IdentityVerifier, token: str) -> None:
    assert str(rejected(verifier, token)).startswith("identity token rejected: ")


def test_missing_token_is_rejected(verifier: IdentityVerifier) -> None:
    assert str(rejected(verifier, "")) == "identity token missing"


def test_unknown_google_auth_message_still_rejects() -> None:
    assert identity._reason(ValueError("some future google-auth message")) == "malformed"


def test_error_never_carries_the_token(
    verifier: IdentityVerifier, key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey,
) -> None:
    tokens = [
        mint(key, KID, aud=OTHER_AUDIENCE), mint(other_key, KID), mint(key, "kid-unknown"),
        mint_alg_none(), mint(key, KID, iss="https://evil.example.com"),
        mint(key, KID, exp=int(time.time()) - 3600), "abc.def", "abc.e30.sig",
    ]
    for token in tokens:
        err = rejected(verifier, token)
        assert err.__cause__ is None and err.__context__ is None
        told = str(err) + "".join(traceback.format_exception(err))
        for part in [token, *token.split(".")]:
            assert len(part) < 3 or part not in told, "the token leaked into the error"


# --- certificates: fetched once, kept, and failing closed ---------------------------------------

def test_certificates_are_cached(
    verifier: IdentityVerifier, certs: HTTPServer, key: rsa.RSAPrivateKey, clock: Clock,
) -> None:
    for _ in range(3):
        verifier.verify(mint(key, KID))
    assert len(certs.log) == 1
    clock.now += 3599
    verifier.verify(mint(key, KID))
    assert len(certs.log) == 1
    clock.now += 1
    verifier.verify(mint(key, KID))
    assert len(certs.log) == 2


def test_concurrent_first_verifications_fetch_once(
    verifier: IdentityVerifier, certs: HTTPServer, key: rsa.RSAPrivateKey,
) -> None:
    token = mint(key, KID)
    emails: list[str] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        emails.append(verifier.verify(token).email)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert emails == [EMAIL] * 8
    assert len(certs.log) == 1


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_certs_server_down_fails_closed(key: rsa.RSAPrivateKey) -> None:
    verifier = IdentityVerifier([AUDIENCE], certs_url=f"http://127.0.0.1:{closed_port()}/certs")
    assert str(rejected(verifier, mint(key, KID))) == (
        "identity token rejected: certificates unavailable")


@pytest.mark.parametrize("reply", [
    {"response_data": "oops", "status": 500},
    {"response_data": "<html>maintenance</html>", "status": 200},
    {"response_data": "{}", "status": 200},
    {"response_data": "[1, 2]", "status": 200},
])
def test_bad_certs_response_fails_closed(
    http: HTTPServer, make_verifier: Callable[..., IdentityVerifier], key: rsa.RSAPrivateKey,
    reply: dict[str, object],
) -> None:
    http.expect_oneshot_request("/certs").respond_with_data(**reply)  # type: ignore[arg-type]
    err = rejected(make_verifier(), mint(key, KID))
    assert str(err) == "identity token rejected: certificates unavailable"


def test_failure_is_not_cached_but_retried_after_a_pause(
    http: HTTPServer, make_verifier: Callable[..., IdentityVerifier], key: rsa.RSAPrivateKey,
    clock: Clock,
) -> None:
    http.expect_ordered_request("/certs").respond_with_data("down", status=503)
    http.expect_ordered_request("/certs").respond_with_json({KID: public_pem(key)})
    verifier = make_verifier()
    token = mint(key, KID)
    assert str(rejected(verifier, token)).endswith("certificates unavailable")
    assert str(rejected(verifier, token)).endswith("certificates unavailable")
    assert len(http.log) == 1  # no stampede on a failing endpoint
    clock.now += identity.RETRY_AFTER_FAILURE_SECONDS
    assert verifier.verify(token).email == EMAIL
    assert len(http.log) == 2


# --- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"audiences": []},
    {"audiences": ()},
    {"audiences": AUDIENCE},
    {"audiences": [""]},
    {"audiences": [AUDIENCE, None]},
    {"audiences": [AUDIENCE], "certs_url": "http://www.googleapis.com/oauth2/v1/certs"},
    {"audiences": [AUDIENCE], "certs_url": "ftp://127.0.0.1/certs"},
    {"audiences": [AUDIENCE], "clock_skew_seconds": -1},
    {"audiences": [AUDIENCE], "clock_skew_seconds": 3600},
    {"audiences": [AUDIENCE], "cert_ttl_seconds": -1},
    {"audiences": [AUDIENCE], "timeout": 0},
])
def test_bad_configuration_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        IdentityVerifier(**kwargs)  # type: ignore[arg-type]


def test_defaults_point_at_google() -> None:
    verifier = IdentityVerifier([AUDIENCE])
    assert verifier.audiences == (AUDIENCE,)
    assert identity.GOOGLE_CERTS_URL == "https://www.googleapis.com/oauth2/v1/certs"
    assert verifier._certs_url == identity.GOOGLE_CERTS_URL
