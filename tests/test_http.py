"""HttpClient and RetryPolicy against a real loopback server: classification, backoff, secrecy."""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ondigital_connect.errors import (
    MalformedResponse,
    QueryRejected,
    RateLimited,
    Retryable,
    SourceAuthError,
    SourceUnavailable,
)
from ondigital_connect.http import HttpClient, RetryPolicy, parse_retry_after

TOKEN = "sk_live_do_not_leak_42"




@pytest.fixture
def sleeps() -> list[float]:
    return []


def client(srv: HTTPServer, sleeps: list[float], **retry: Any) -> HttpClient:
    retry.setdefault("jitter", 0.0)
    return HttpClient(
        "acme", base_url=srv.url_for("/"), headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=2, retry=RetryPolicy(sleeper=sleeps.append, **retry),
    )


def queue(srv: HTTPServer, *replies: tuple[int, bytes, dict[str, str]]) -> None:
    for status, body, headers in replies:
        srv.expect_ordered_request("/v1/things").respond_with_data(
            body, status=status, headers=headers,
            content_type=headers.pop("Content-Type", "application/json"))


OK = (200, b'{"things": [1, 2]}', {})


# -- RetryPolicy -------------------------------------------------------------------------------


def test_backoff_grows_exponentially_within_jitter_and_caps():
    policy = RetryPolicy(base_delay=0.5, max_delay=10, jitter=0.1)
    error = SourceUnavailable("acme", "down")
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)]:
        delays = {policy.delay(attempt, error) for _ in range(50)}
        assert all(base * 0.9 <= d <= base * 1.1 for d in delays)
        assert len(delays) > 1  # jittered
    assert policy.delay(10, error) <= 10


def test_retry_after_wins_and_is_capped():
    policy = RetryPolicy(max_delay=60, jitter=0.5)
    assert policy.delay(1, RateLimited("acme", retry_after=7.5)) == 7.5
    assert policy.delay(1, RateLimited("acme", retry_after=3600)) == 60


def test_only_retryable_errors_are_retried():
    sleeps: list[float] = []
    calls: list[int] = []

    def auth_fails() -> None:
        calls.append(1)
        raise SourceAuthError("acme", "expired")

    with pytest.raises(SourceAuthError):
        RetryPolicy(sleeper=sleeps.append).run(auth_fails)
    assert calls == [1] and sleeps == []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise MalformedResponse("acme", "truncated")
        return "ok"

    calls.clear()
    assert RetryPolicy(sleeper=sleeps.append, jitter=0).run(flaky) == "ok"
    assert sleeps == [0.5, 1.0, 2.0]
    assert issubclass(MalformedResponse, Retryable)


def test_parse_retry_after():
    now = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(later, now=now) == 90
    assert parse_retry_after("Sun, 01 Nov 2026 11:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# -- classification over real HTTP ----------------------------------------------------------------


def test_retry_after_seconds_is_honoured(http, sleeps):
    queue(http, (429, b'{"error": "slow down"}', {"Retry-After": "7"}), OK)
    payload, headers = client(http, sleeps).get_json("/v1/things")
    assert payload == {"things": [1, 2]} and sleeps == [7.0]
    assert headers["Content-Type"] == "application/json"


def test_retry_after_http_date_is_honoured_and_capped(http, sleeps):
    soon = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30),
                                       usegmt=True)
    far = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
                                      usegmt=True)
    queue(http, (429, b"{}", {"Retry-After": soon}), (503, b"{}", {"Retry-After": far}), OK)
    client(http, sleeps, max_delay=60).get_json("/v1/things")
    assert 25 <= sleeps[0] <= 30
    assert sleeps[1] == 60


def test_server_error_then_success(http, sleeps):
    queue(http, (503, b"<html>busy</html>", {"Content-Type": "text/html"}),
          (500, b"{}", {}), OK)
    payload, _ = client(http, sleeps).get_json("/v1/things")
    assert payload == {"things": [1, 2]}
    assert sleeps == [0.5, 1.0]


def test_server_errors_forever_give_up_after_max_attempts(http, sleeps):
    queue(http, *[(502, b"bad gateway", {})] * 4)
    with pytest.raises(SourceUnavailable, match="HTTP 502"):
        client(http, sleeps, max_attempts=4).get_json("/v1/things")
    assert len(http.log) == 4 and sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(("body", "content_type", "why"), [
    (b'{"things": [1, 2', "application/json", "truncated"),
    (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html", "HTML"),
    (b"<html>proxy error</html>", "application/json", "HTML"),
    (b"", "application/json", "truncated"),
])
def test_a_malformed_200_is_retried(http, sleeps, body, content_type, why):
    queue(http, (200, body, {"Content-Type": content_type}), OK)
    payload, _ = client(http, sleeps).get_json("/v1/things")
    assert payload == {"things": [1, 2]} and len(sleeps) == 1


def test_a_malformed_200_forever_is_a_malformed_response(http, sleeps):
    queue(http, *[(200, b'{"things": [', {})] * 3)
    with pytest.raises(MalformedResponse, match="truncated"):
        client(http, sleeps, max_attempts=3).get_json("/v1/things")


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_not_retried_and_say_what_to_do(http, sleeps, status):
    queue(http, (status, b'{"errors": "Invalid API key or access token"}', {}))
    with pytest.raises(SourceAuthError) as info:
        client(http, sleeps).get_json("/v1/things")
    message = str(info.value)
    assert message.startswith("acme:") and "renew the acme token" in message
    assert len(http.log) == 1 and sleeps == []
    assert info.value.source == "acme"


def test_other_client_errors_are_query_rejected(http, sleeps):
    queue(http, (404, b'{"error": "not found"}', {}))
    with pytest.raises(QueryRejected, match="HTTP 404"):
        client(http, sleeps).get_json("/v1/things")
    assert sleeps == []


def test_messages_carry_no_token_and_no_query_string(http, sleeps):
    queue(http, *[(500, b"{}", {})] * 2, (400, b"{}", {}), (401, b"{}", {}))
    api = client(http, sleeps, max_attempts=2)
    params = {"access_token": "tok_in_query_99", "since": "2026-10-01"}
    messages = []
    for expected in (SourceUnavailable, QueryRejected, SourceAuthError):
        with pytest.raises(expected) as info:
            api.get_json("/v1/things", params)
        messages.append(str(info.value))
    assert http.log[0][0].args["access_token"] == "tok_in_query_99"  # it was sent...
    for message in messages:  # ...but never echoed
        assert "/v1/things" in message
        for secret in (TOKEN, "tok_in_query_99", "since", "?", "Bearer", "127.0.0.1"):
            assert secret not in message


def test_timeouts_are_retried(http, sleeps):
    def slow(_request: Request) -> Response:
        time.sleep(0.6)
        return Response(b"{}", content_type="application/json")

    http.expect_ordered_request("/v1/things").respond_with_handler(slow)
    queue(http, OK)
    # the server answers one request at a time: the retry waits ~0.2 s for the slow one to end
    api = HttpClient("acme", base_url=http.url_for("/"), headers={}, timeout=0.4,
                     retry=RetryPolicy(sleeper=sleeps.append, jitter=0))
    payload, _ = api.get_json("/v1/things")
    assert payload == {"things": [1, 2]} and sleeps == [0.5]


def test_connection_refused_is_unavailable(sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = HttpClient("acme", base_url=f"http://127.0.0.1:{port}", headers={"X-Key": TOKEN},
                     retry=RetryPolicy(max_attempts=2, sleeper=sleeps.append, jitter=0))
    with pytest.raises(SourceUnavailable, match="ConnectionError") as info:
        api.get_json("/v1/things", {"key": "q-secret"})
    assert "q-secret" not in str(info.value) and TOKEN not in str(info.value)
    assert sleeps == [0.5]


def test_post_json_sends_json_and_keeps_headers(http, sleeps):
    http.expect_ordered_request(
        "/graphql", method="POST", json={"query": "{ shop { name } }", "variables": {}},
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    ).respond_with_json({"data": {"shop": {"name": "Acme"}}},
                        headers={"X-Request-Id": "r-1"})
    api = client(http, sleeps)
    assert api.post_json("/graphql", {"query": "{ shop { name } }", "variables": {}}) == {
        "data": {"shop": {"name": "Acme"}}}
    assert api.last_response_headers["X-Request-Id"] == "r-1"


def test_inspect_can_turn_a_200_into_a_retried_throttle(http, sleeps):
    queue(http, (200, b'{"errors": [{"code": "THROTTLED"}]}', {}), OK)
    seen: list[int] = []

    def inspect(status: int, payload: Any) -> None:
        seen.append(status)
        if "errors" in payload:
            raise RateLimited("acme", "throttled in body", retry_after=1.25)

    payload, _ = client(http, sleeps).get_json("/v1/things", inspect=inspect)
    assert payload == {"things": [1, 2]} and sleeps == [1.25] and seen == [200, 200]


def test_get_lines_streams_a_body(http, sleeps):
    http.expect_ordered_request("/bulk.jsonl").respond_with_data(
        b'{"id": 1}\n{"id": 2}\n\n{"id": 3}\n', content_type="application/jsonl")
    lines = list(client(http, sleeps).get_lines("/bulk.jsonl"))
    assert lines == [b'{"id": 1}', b'{"id": 2}', b'{"id": 3}']


@pytest.mark.parametrize("defect", [False, True], ids=["sound", "defect"])
def test_credentials_never_come_from_netrc(defect: bool, http: HTTPServer,
                                           tmp_path: Any, monkeypatch: pytest.MonkeyPatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    seen: list[str | None] = []

    def answer(request: Request) -> Response:
        seen.append(request.headers.get("Authorization"))
        return Response(b"{}", content_type="application/json")
    http.expect_request("/v1/me").respond_with_handler(answer)
    c = HttpClient("acme", base_url=http.url_for("/"), headers={"X-Api-Key": "k"}, timeout=2)
    if defect:  # the session left as requests makes it
        c.session.auth = None
    c.get_json("v1/me")
    c.close()
    if defect:
        assert seen[0] is not None and seen[0].startswith("Basic ")
    else:
        assert seen == [None]
