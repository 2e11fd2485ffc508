"""The HTTP boundary every source uses: timeouts, retries with backoff and typed error classes."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
import requests
import requests.auth
import urllib3.exceptions

from ondigital_connect.errors import (
    MalformedResponse,
    QueryRejected,
    RateLimited,
    Retryable,
    SourceAuthError,
    SourceUnavailable,
)

T = TypeVar("T")
Headers = Mapping[str, str]
#: Called with (status, decoded body) for 2xx and header-less 429 replies; may raise SourceError.
Inspector = Callable[[int, Any], None]
#: Turns a body into a value; a ValueError (e.g. orjson's JSONDecodeError) = malformed body.
Decoder = Callable[[bytes], Any]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter for ``Retryable`` errors; ``Retry-After`` wins when given.

    ``jitter`` is a fraction (0.1 = +/-10 %). ``sleeper`` is injectable so tests never sleep.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0
    jitter: float = 0.1
    sleeper: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, error: BaseException) -> float:
        """Seconds to wait after failed ``attempt`` (1-based) ended with ``error``."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(max(float(retry_after), 0.0), self.max_delay)
        base = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        spread = random.uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        return min(max(base * (1.0 + spread), 0.0), self.max_delay)

    def run(self, call: Callable[[], T]) -> T:
        """Call ``call`` until it succeeds, a non-retryable error occurs or attempts run out."""
        attempt = 1
        while True:
            try:
                return call()
            except Exception as exc:
                if not isinstance(exc, Retryable) or attempt >= self.max_attempts:
                    raise
                self.sleeper(self.delay(attempt, exc))
                attempt += 1


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP-date; None if unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max((when - now).total_seconds(), 0.0)


def _url_path(url: str) -> str:
    """The path of ``url`` only: no scheme, host, query string or fragment in messages."""
    return urlsplit(url).path or "/"


def _looks_like_html(content: bytes, content_type: str) -> bool:
    return "html" in content_type.lower() or content[:64].lstrip()[:1] == b"<"


class _SettingsOnly(requests.auth.AuthBase):
    """Credentials come from the source's settings (its headers) only: with an auth set,
    ``requests`` never adds a ``~/.netrc`` login for the vendor's host (nor looks for one on
    every request)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class HttpClient:
    """A ``requests`` session bound to one source: JSON in, typed ``SourceError``s out.

    Every call has a timeout, retries ``Retryable`` failures through ``retry`` and keeps the
    reply's headers in ``last_response_headers`` (throttle headers live there).
    """

    def __init__(
        self, source: str, *, base_url: str, headers: Mapping[str, str], timeout: float = 30,
        retry: RetryPolicy | None = None, session: requests.Session | None = None,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._headers = {"Accept": "application/json", **headers}
        self._own_session = session is None
        self.session = session or requests.Session()
        if self._own_session:
            self.session.auth = _SettingsOnly()
        self.last_response_headers: Headers = {}

    def url(self, path: str) -> str:
        """Absolute URL for ``path`` (absolute URLs, e.g. download links, pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def post_json(
        self, path: str, body: Any, *, inspect: Inspector | None = None,
        decode: Decoder = orjson.loads,
    ) -> Any:
        """POST ``body`` as JSON and return the decoded reply, retrying transient failures.

        ``inspect`` may raise a typed error for a reply that is valid JSON but an error
        (e.g. a GraphQL throttle in a 200); ``Retryable`` ones are retried like HTTP errors.
        """
        data = orjson.dumps(body)
        headers = {**self._headers, "Content-Type": "application/json"}
        return self.retry.run(lambda: self._attempt(
            "POST", path, headers=headers, data=data, inspect=inspect, decode=decode)[0])

    def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *,
        inspect: Inspector | None = None, decode: Decoder = orjson.loads,
    ) -> tuple[Any, Headers]:
        """GET ``path`` and return (decoded JSON, reply headers), retrying transient failures."""
        return self.retry.run(lambda: self._attempt(
            "GET", path, headers=self._headers, params=params, inspect=inspect, decode=decode))

    def get_lines(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[bytes]:
        """Stream a line-delimited body (e.g. JSONL); only opening the stream is retried."""
        response = self.retry.run(lambda: self._open_stream(path, params))
        with response:
            try:
                yield from (line for line in response.iter_lines() if line)
            except requests.RequestException:
                raise SourceUnavailable(
                    self.source, f"connection lost while streaming {_url_path(path)}"
                ) from None

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._own_session:
            self.session.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.url(path)
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise SourceUnavailable(
                self.source, f"{method} {_url_path(url)} timed out after {self.timeout:g}s"
            ) from None
        except requests.RequestException as exc:
            raise SourceUnavailable(
                self.source, f"{method} {_url_path(url)} failed: {type(exc).__name__}"
            ) from None

    def _fetch(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``_send`` with the body read in one call (``requests`` reads 10 KB at a time).

        The body ends up in ``response.content`` as usual; the connection goes back to the pool.
        """
        response = self._send(method, path, stream=True, **kwargs)
        try:
            content = response.raw.read(decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()
            where = f"{method} {_url_path(self.url(path))}"
            if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
                raise SourceUnavailable(
                    self.source, f"{where} timed out after {self.timeout:g}s") from None
            raise SourceUnavailable(self.source, f"{where} failed: {type(exc).__name__}") from None
        response._content = content or b""
        response._content_consumed = True
        response.close()  # content consumed: only returns the connection to the pool
        return response

    def _attempt(
        self, method: str, path: str, *, headers: Mapping[str, str], inspect: Inspector | None,
        decode: Decoder, data: bytes | None = None, params: Mapping[str, Any] | None = None,
    ) -> tuple[Any, Headers]:
        response = self._fetch(method, path, headers=headers, data=data, params=params)
        self.last_response_headers = response.headers
        where = f"{method} {_url_path(response.url or self.url(path))}"
        self._raise_for_status(response, where, inspect, decode)
        payload = self._parse(response, where, decode)
        if inspect is not None:
            inspect(response.status_code, payload)
        return payload, response.headers

    def _raise_for_status(
        self, response: requests.Response, where: str, inspect: Inspector | None,
        decode: Decoder = orjson.loads,
    ) -> None:
        status = response.status_code
        if status in (401, 403):
            raise SourceAuthError(
                self.source,
                f"HTTP {status} from {where}: the access token was rejected or has expired; "
                f"check or renew the {self.source} token and its scopes",
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None and inspect is not None:
                try:
                    payload = decode(response.content)
                except ValueError:
                    payload = None
                if payload is not None:
                    inspect(status, payload)
            raise RateLimited(self.source, f"HTTP 429 from {where}", retry_after=retry_after)
        if status >= 500:
            error = SourceUnavailable(self.source, f"HTTP {status} from {where}")
            error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise error
        if status >= 400:
            raise QueryRejected(self.source, f"HTTP {status} from {where}")

    def _parse(self, response: requests.Response, where: str, decode: Decoder) -> Any:
        content = response.content
        if _looks_like_html(content, response.headers.get("Content-Type", "")):
            raise MalformedResponse(self.source, f"{where} returned an HTML page, not JSON")
        try:
            return decode(content)
        except ValueError:
            raise MalformedResponse(
                self.source, f"{where} returned invalid or truncated JSON ({len(content)} bytes)"
            ) from None

    def _open_stream(self, path: str, params: Mapping[str, Any] | None) -> requests.Response:
        response = self._send("GET", path, headers=self._headers, params=params, stream=True)
        self.last_response_headers = response.headers
        try:
            self._raise_for_status(response, f"GET {_url_path(response.url or path)}", None)
        except Exception:
            response.close()
            raise
        return response
