"""Every exception ondigital_connect raises on purpose, in one tree.

OnDigitalError
├── ConfigError                     bad settings or arguments; fix the configuration
├── SourceError  .source .stream    a vendor API failed
│   ├── SourceAuthError             credentials rejected or expired (never retried)
│   ├── RateLimited*                429 / throttled; carries retry_after seconds
│   ├── SourceUnavailable*          5xx, timeouts, connection errors
│   ├── MalformedResponse*          truncated JSON, an HTML page where JSON was due
│   └── QueryRejected               the vendor refused the query itself (4xx, GraphQL errors)
├── RecordValidationError           one record does not fit its model (goes to _rejects)
├── WarehouseError                  the warehouse refused or failed
│   └── WarehouseUnavailable*
├── SyncError
│   └── SyncAlreadyRunning          a second run of the same stream was refused
├── QueryError                      a KPI or status query is invalid (maps to HTTP 400)
│   └── LimitExceeded               the request is valid but beyond the plan (403)
└── AccessError                     who is calling, and may they?
    ├── AuthenticationError         missing, unknown, revoked key or bad identity token (401)
    ├── PermissionDenied            authenticated, but not for this connector or tenant (403)
    └── RequestsExhausted           the plan's requests per minute are used up (429)

(* = also ``Retryable``: repeating the same call later may succeed.)
Messages name the source/stream and what to fix; they never carry tokens or query strings.
"""

from __future__ import annotations


class OnDigitalError(Exception):
    """Root: ``except OnDigitalError`` catches only our errors.

    Errors pickle with their message and attributes (``source``, ``retry_after``...), even
    where ``__init__`` takes other arguments, so one raised in a worker process (a page
    worker) arrives in the parent as itself.
    """

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuilt, (type(self), self.args, dict(self.__dict__)))


def _rebuilt(cls: type[OnDigitalError], args: tuple[object, ...],
             state: dict[str, object]) -> OnDigitalError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class Retryable:
    """Marker mixin: the same call may succeed later, so retry loops test for it."""

    retry_after: float | None = None


class ConfigError(OnDigitalError):
    """The configuration or an argument is wrong; the message says which and how to fix it."""


class SourceError(OnDigitalError):
    """A vendor API call failed."""

    def __init__(self, source: str, message: str, *, stream: str | None = None) -> None:
        self.source = source
        self.stream = stream
        prefix = f"{source}/{stream}" if stream else source
        super().__init__(f"{prefix}: {message}")


class SourceAuthError(SourceError):
    """Credentials were rejected or have expired; retrying will not help."""


class RateLimited(SourceError, Retryable):
    """The vendor asked us to slow down (HTTP 429 or a throttle in the body)."""

    def __init__(
        self, source: str, message: str = "rate limited", *, retry_after: float | None = None,
        stream: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        hint = f", retry after {retry_after:g}s" if retry_after is not None else ""
        super().__init__(source, f"{message}{hint}", stream=stream)


class SourceUnavailable(SourceError, Retryable):
    """A 5xx, a timeout or a dropped connection: transient by nature."""


class MalformedResponse(SourceError, Retryable):
    """The body was not the JSON the API documents (truncated, HTML maintenance page...)."""


class QueryRejected(SourceError):
    """The vendor refused the request itself (a 4xx other than auth, or GraphQL errors)."""


class RecordValidationError(OnDigitalError):
    """One record does not fit its model; the sync engine sends it to ``_rejects``."""

    def __init__(self, reason: str, *, key: str | None = None) -> None:
        self.reason = reason
        self.key = key
        super().__init__(reason)


class WarehouseError(OnDigitalError):
    """The warehouse refused a statement or failed."""


class WarehouseUnavailable(WarehouseError, Retryable):
    """The warehouse could not be reached or is locked by another process."""


class SyncError(OnDigitalError):
    """A sync run could not proceed."""


class SyncAlreadyRunning(SyncError):
    """Another run holds the lock for this (tenant, source, account, stream)."""


class QueryError(OnDigitalError):
    """A query names an unknown table, field or filter, or its values are invalid."""


class LimitExceeded(QueryError):
    """The request is well formed but asks more than the subscription's plan allows."""


class AccessError(OnDigitalError):
    """The caller is not known, not allowed, or has used up its quota."""


class AuthenticationError(AccessError):
    """No valid credential: missing, malformed, unknown or revoked key, or a bad identity token.

    The message never says which of these it was beyond what the caller already knows."""


class PermissionDenied(AccessError):
    """The credential is valid but does not grant this connector (or its subscription lapsed)."""


class RequestsExhausted(AccessError):
    """The plan's requests per minute are used up; ``retry_after`` says when to come back."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
