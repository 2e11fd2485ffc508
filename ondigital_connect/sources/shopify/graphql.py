"""The Shopify Admin GraphQL transport: cost-based pacing, throttle retries, typed errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from ondigital_connect.errors import (
    MalformedResponse,
    QueryRejected,
    RateLimited,
    SourceAuthError,
)
from ondigital_connect.gcpause import gc_paused
from ondigital_connect.http import HttpClient, RetryPolicy
from ondigital_connect.sources.shopify.payloads import JsonValidator
from ondigital_connect.sources.shopify.skim import PageSkim

log = logging.getLogger(__name__)
SOURCE = "shopify"


class CostExceeded(QueryRejected):
    """``MAX_COST_EXCEEDED``: the query asks for too much at once; a smaller page may pass."""

    def __init__(self, message: str, *, cost: float | None, max_cost: float | None) -> None:
        self.cost = cost
        self.max_cost = max_cost
        super().__init__(SOURCE, message)

    def smaller(self, first: int) -> int:
        """A page size at most half of ``first``, smaller still if the reported cost says so."""
        size = first // 2
        if self.cost and self.max_cost and self.cost > 0:
            size = min(size, int(first * self.max_cost // self.cost))
        return max(size, 1)


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    """``extensions.cost`` of the last reply: the leaky bucket and what the query asked for."""

    requested: float
    available: float
    maximum: float
    restore_rate: float

    def wait_before(self, cost: float | None = None) -> float:
        """Seconds until the bucket holds ``cost`` points (default: the last requested cost)."""
        need = self.requested if cost is None else cost
        if self.available >= need or self.restore_rate <= 0:
            return 0.0
        return (min(need, self.maximum) - self.available) / self.restore_rate


@dataclass(frozen=True, slots=True)
class Reply:
    """A decoded reply: ``payload`` has ``data``/``errors``/``extensions``; ``typed`` says the
    whole ``data`` already passed the page validator, ``content`` is the raw body.
    ``skimmed`` says only ``pageInfo`` and ``extensions`` were read (see ``skim``): the nodes
    are still in ``content``.
    """

    payload: dict[str, Any]
    typed: bool
    content: bytes
    skimmed: bool = False


def _throttle(payload: Mapping[str, Any]) -> ThrottleStatus | None:
    try:
        cost = payload["extensions"]["cost"]
        status = cost["throttleStatus"]
        return ThrottleStatus(
            requested=float(cost.get("requestedQueryCost") or 0),
            available=float(status["currentlyAvailable"]),
            maximum=float(status["maximumAvailable"]),
            restore_rate=float(status["restoreRate"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _codes(errors: list[Any]) -> list[str]:
    codes = []
    for error in errors:
        ext = error.get("extensions") if isinstance(error, dict) else None
        codes.append(str(ext.get("code", "")) if isinstance(ext, dict) else "")
    return codes


def _cost_limits(errors: list[Any]) -> tuple[float | None, float | None]:
    for error in errors:
        ext = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(ext, dict) and ext.get("code") == "MAX_COST_EXCEEDED":
            cost, limit = ext.get("cost"), ext.get("maxCost")
            if isinstance(cost, int | float) and isinstance(limit, int | float):
                return float(cost), float(limit)
    return None, None


def _message(errors: Any) -> str:
    if isinstance(errors, str):
        return errors[:300]
    first = errors[0] if isinstance(errors, list) and errors else {}
    text = first.get("message", "") if isinstance(first, dict) else str(first)
    more = f" (and {len(errors) - 1} more)" if isinstance(errors, list) and len(errors) > 1 else ""
    return f"{str(text).strip()[:300]}{more}"


class GraphQLClient:
    """POSTs documents to ``/admin/api/{version}/graphql.json`` and paces by query cost.

    Before each query it waits (through the retry policy's sleeper) while the bucket holds
    fewer points than the last query requested. ``THROTTLED`` replies (HTTP 200 or 429) raise
    ``RateLimited`` with the wait the bucket implies and are retried by the HTTP client.
    """

    def __init__(self, http: HttpClient, path: str, *, retry: RetryPolicy | None = None) -> None:
        self.http = http
        self.path = path
        self.sleeper: Callable[[float], None] = (retry or http.retry).sleeper
        self.throttle: ThrottleStatus | None = None
        self._sizes: dict[str, int] = {}  # query -> the largest page size Shopify accepted

    def execute(
        self, query: str, variables: Mapping[str, Any], *,
        page: JsonValidator | PageSkim | None = None,
    ) -> Reply:
        """Run ``query``; with ``page``, validate the whole reply with it in the same pass
        (or, with a ``PageSkim``, read only its page info and extensions)."""
        self.pace()
        body = {"query": query, "variables": dict(variables)}
        reply: Reply = self.http.post_json(
            self.path, body, inspect=self._inspect, decode=self._decoder(page),
        )
        return reply

    def data(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Run ``query`` and return its raw ``data`` object."""
        return self.execute(query, variables).payload["data"]

    def pace(self) -> None:
        """Sleep until the bucket can pay for a query as costly as the last one."""
        if self.throttle is None:
            return
        wait = self.throttle.wait_before()
        if wait > 0:
            self.sleeper(wait)
            self.throttle = None

    @staticmethod
    def decode(content: bytes, page: JsonValidator) -> Reply:
        """A body decoded as ``execute`` would with ``page`` (MalformedResponse if not JSON)."""
        try:
            return GraphQLClient._decoder(page)(content)
        except ValueError as exc:
            raise MalformedResponse(SOURCE, f"reply is not a JSON object: {exc}") from None

    @staticmethod
    def _decoder(page: JsonValidator | PageSkim | None) -> Callable[[bytes], Reply]:
        def decode(content: bytes) -> Reply:
            if isinstance(page, PageSkim):
                skimmed = page.read(content)
                if skimmed is not None:
                    return Reply(skimmed, False, content, skimmed=True)
                return full(content, None)
            return full(content, page)

        def full(content: bytes, page: JsonValidator | None) -> Reply:
            with gc_paused():  # a page is ~10^5 acyclic containers: no collections meanwhile
                if page is not None:
                    try:
                        return Reply(page.validate_json(content), True, content)
                    except ValidationError:
                        pass  # a bad node or a bad body: look at the raw JSON to tell which
                payload = orjson.loads(content)  # JSONDecodeError -> MalformedResponse upstream
            if not isinstance(payload, dict):
                raise ValueError("GraphQL reply is not a JSON object")
            return Reply(payload, False, content)

        return decode

    def _inspect(self, status: int, reply: Reply) -> None:
        payload = reply.payload
        throttle = _throttle(payload)
        if throttle is not None:
            self.throttle = throttle
        errors = payload.get("errors")
        if errors:
            self._raise_for_errors(errors, throttle)
        if status == 200 and not isinstance(payload.get("data"), dict):
            raise MalformedResponse(SOURCE, f"POST {self.path} returned no data object")

    def _raise_for_errors(self, errors: Any, throttle: ThrottleStatus | None) -> None:
        codes = _codes(errors) if isinstance(errors, list) else []
        message = _message(errors)
        if "THROTTLED" in codes:
            wait = throttle.wait_before() if throttle is not None else None
            raise RateLimited(SOURCE, "query cost throttled", retry_after=wait or None)
        if "MAX_COST_EXCEEDED" in codes:
            cost, limit = _cost_limits(errors)
            raise CostExceeded(f"query too costly: {message}", cost=cost, max_cost=limit)
        if "ACCESS_DENIED" in codes:
            raise SourceAuthError(
                SOURCE, f"access denied: {message}; check the token's access scopes")
        raise QueryRejected(SOURCE, f"GraphQL error: {message}")

    def connection(
        self, query: str, variables: Mapping[str, Any], path: tuple[str, ...], *,
        first: int, after: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield the raw connection objects at ``path`` page by page (halving on cost)."""
        cursor = after
        while True:
            reply, first = self.sized(query, {**variables, "after": cursor}, first)
            conn = dig(reply.payload["data"], path)
            yield conn
            cursor = next_cursor(conn, path)
            if cursor is None:
                return

    def sized(
        self, query: str, variables: Mapping[str, Any], first: int, *,
        page: JsonValidator | PageSkim | None = None,
    ) -> tuple[Reply, int]:
        """Run with ``$first`` = ``first``, at least halving it on ``MAX_COST_EXCEEDED``.

        Returns the reply and the page size that worked; below 1 it fails with QueryRejected.
        A size that had to shrink is remembered, so later pages and reads start there.
        """
        first = min(first, self._sizes.get(query, first))
        while True:
            try:
                reply = self.execute(query, {**variables, "first": first}, page=page)
                if first < self._sizes.get(query, first + 1):
                    self._sizes[query] = first
                return reply, first
            except CostExceeded as exc:
                if first <= 1:
                    raise QueryRejected(
                        SOURCE, f"{exc} (already at page size 1; lower the nested page "
                        "sizes in ShopifySettings)") from None
                first = exc.smaller(first)
                log.warning("shopify: query cost too high, retrying with page size %d", first)


def dig(data: Any, path: tuple[str, ...]) -> dict[str, Any]:
    """The object at ``path`` in ``data``; MalformedResponse if it is missing."""
    for key in path:
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            raise MalformedResponse(SOURCE, f"reply lacks {'.'.join(path)}")
        data = data[key]
    return data


def next_cursor(conn: Mapping[str, Any], path: tuple[str, ...] = ()) -> str | None:
    """``endCursor`` when ``hasNextPage``; None on the last page."""
    info = conn.get("pageInfo")
    if not isinstance(info, dict) or not info.get("hasNextPage"):
        return None
    cursor = info.get("endCursor")
    if not isinstance(cursor, str) or not cursor:
        where = ".".join(path) or "connection"
        raise MalformedResponse(SOURCE, f"{where} has a next page but no endCursor")
    return cursor
