"""``ShopifySource``: orders, customers, products and inventory from the Admin GraphQL API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import ValidationError

from ondigital_connect.errors import ConfigError, MalformedResponse, RecordValidationError
from ondigital_connect.gcpause import gc_paused
from ondigital_connect.http import HttpClient, RetryPolicy
from ondigital_connect.models.columns import Columns
from ondigital_connect.sources.base import Batch, Drift, Reject, StreamSpec, Window, register
from ondigital_connect.sources.shopify import mapping as m
from ondigital_connect.sources.shopify import payloads as p
from ondigital_connect.sources.shopify import prefetch
from ondigital_connect.sources.shopify import queries as q
from ondigital_connect.sources.shopify.context import AmountError
from ondigital_connect.sources.shopify.graphql import GraphQLClient, Reply, dig, next_cursor
from ondigital_connect.sources.shopify.nested import Missing, Nested
from ondigital_connect.sources.shopify.pages import Page, prepared, skimmed_body
from ondigital_connect.sources.shopify.settings import ShopifySettings
from ondigital_connect.sources.shopify.skim import PageSkim
from ondigital_connect.sources.shopify.workers import (
    Decoded,
    PageWorkers,
    WorkerSetup,
    batches_in_workers,
    page_tables,
)
from ondigital_connect.warehouse.merge import PARENT_SEQ

ORDER_TABLES = ("orders", "order_lines", "refunds", "refund_lines")
_ENVELOPES = {
    "orders": p.ORDER.envelope("orders", amounts_as_text=True),
    "customers": p.CUSTOMER.envelope("customers"),
    "productVariants": p.VARIANT.envelope("productVariants"),
    "inventory": p.STOCKED.envelope("productVariants"),
}
_SKIMS = {"orders": PageSkim("orders")}


def _streams(lookback: dt.timedelta) -> Mapping[str, StreamSpec]:
    return MappingProxyType({
        "orders": StreamSpec("orders", ORDER_TABLES, "entity", True, lookback),
        "customers": StreamSpec("customers", ("customers",), "entity", True, lookback),
        "products": StreamSpec("products", ("products",), "entity", False, lookback),
        "inventory_levels": StreamSpec(
            "inventory_levels", ("inventory_levels",), "report", False, dt.timedelta(0)),
    })


def _iso(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ConfigError("shopify: window bounds must be timezone-aware datetimes")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def search_query(window: Window) -> str:
    """Shopify search syntax for ``updated_at`` within the window (both bounds inclusive)."""
    upper = f"updated_at:<='{_iso(window.end)}'"
    if window.start is None:
        return upper
    return f"updated_at:>='{_iso(window.start)}' AND {upper}"


def _new_batch(tables: tuple[str, ...], columnar: bool = False) -> Batch:
    return Batch(rows={table: Columns() if columnar else [] for table in tables})


def _later(a: dt.datetime | None, b: dt.datetime) -> dt.datetime:
    return b if a is None or b > a else a


@register
class ShopifySource:
    """One shop's orders, customers, products and stock, read as canonical rows.

    ``orders`` writes orders with their lines, refunds and refund lines (nested connections
    are followed, never truncated); ``customers`` is pseudonymous (keyed hash, no e-mail);
    ``products`` is every variant; ``inventory_levels`` is today's stock in shop time.
    A node that does not fit its shape becomes a ``Reject`` with all its rows withheld.
    """

    name: ClassVar[str] = "shopify"
    streams: ClassVar[Mapping[str, StreamSpec]] = _streams(dt.timedelta(days=2))

    def __init__(
        self, settings: ShopifySettings, *, pseudonym_key: bytes,
        http: HttpClient | None = None, retry: RetryPolicy | None = None,
    ) -> None:
        if not pseudonym_key:
            raise ConfigError("shopify: pseudonym_key must not be empty")
        self.settings = settings
        self._key = pseudonym_key
        self.http = http or HttpClient(
            "shopify", base_url=settings.endpoint_base, timeout=settings.timeout, retry=retry,
            headers={"X-Shopify-Access-Token": settings.token.get_secret_value()},
        )
        self.gql = GraphQLClient(self.http, settings.graphql_path, retry=retry)
        self.nested = Nested(self.gql, refunds_first=settings.refunds_page_size,
                             refund_lines_first=settings.refund_lines_page_size)
        self._ctx: m.ShopContext | None = None
        self.pages_in_workers = 0  # order pages the last read had mapped by workers
        if settings.lookback_days != 2:
            self.streams = _streams(dt.timedelta(days=settings.lookback_days))  # type: ignore[misc]

    @property
    def account_id(self) -> str:
        """The shop's myshopify domain."""
        return self.settings.shop

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()

    def use_context(self, ctx: m.ShopContext) -> None:
        """Take the shop's time zone and currency as known (a page worker's are sent)."""
        self._ctx = ctx

    def context(self) -> m.ShopContext:
        """Time zone and currency of the shop, fetched once per instance."""
        if self._ctx is None:
            data = self.gql.data(q.SHOP, {})
            result = p.SHOP.validate_one(data.get("shop"))
            if isinstance(result, str):
                raise MalformedResponse("shopify", f"shop reply does not fit: {result}")
            self._ctx = m.ShopContext(self.settings.shop, result["ianaTimezone"],
                                      result["currencyCode"], self._key)
        return self._ctx

    def read(self, stream: str, window: Window, *, batch_size: int) -> Iterator[Batch]:
        """Yield batches of about ``batch_size`` root records of ``stream`` for ``window``."""
        if stream not in self.streams:
            raise ConfigError(f"shopify has no stream {stream!r}; known: {', '.join(self.streams)}")
        if batch_size < 1:
            raise ConfigError("batch_size must be at least 1")
        if window.is_empty:
            return iter(())
        _iso(window.end)
        readers: dict[str, Callable[[Window, int], Iterator[Batch]]] = {
            "orders": self._read_orders, "customers": self._read_customers,
            "products": self._read_products, "inventory_levels": self._read_inventory,
        }
        return readers[stream](window, batch_size)

    # -- paging -----------------------------------------------------------------------------

    def _pages(
        self, query: str, variables: Mapping[str, Any], root: str, first: int, envelope: str,
        prepare: Callable[[Page], None] | None = None, *, skim: bool = False,
    ) -> Iterator[Page]:
        """Pages of a top-level connection, each with its nested follow-ups (``prepare``).

        With ``prefetch_pages`` a worker thread fetches (and validates) up to
        ``prefetch_depth`` pages ahead while the caller maps and loads, so the shop's time and
        ours overlap. Follow-ups are fetched on the caller's thread, so they do not hold up
        the next page. With ``skim`` pages come with only their cursor read (``skim``).
        """
        size = first

        decoder = _SKIMS[envelope] if skim else _ENVELOPES[envelope]

        def fetch(cursor: str | None) -> tuple[Page, str | None]:
            nonlocal size
            reply, size = self.gql.sized(
                query, {**variables, "after": cursor}, size, page=decoder)
            page = Page(reply, root)
            return page, next_cursor(dig(page.reply.payload["data"], (root,)), (root,))

        if self.settings.prefetch_pages:
            pages = prefetch.ahead(fetch, self.settings.prefetch_depth)
        else:
            pages = prefetch.sequential(fetch)
        return pages if prepare is None else prepared(pages, prepare)

    def _batches(
        self, pages: Iterator[Page], batch_size: int, tables: tuple[str, ...],
        handle: Callable[[Page, Batch, set[str]], None],
        report_dates: tuple[dt.date, dt.date] | None = None, *, columnar: bool = False,
    ) -> Iterator[Batch]:
        seen: set[str] = set()
        batch = _new_batch(tables, columnar)
        yielded = False
        for page in pages:
            with gc_paused():  # rows are acyclic: collections would only cost time
                handle(page, batch, seen)
            if batch.received >= batch_size:
                batch.report_dates = report_dates
                yield batch
                yielded = True
                batch = _new_batch(tables, columnar)
        if batch.received or (report_dates is not None and not yielded):
            batch.report_dates = report_dates
            yield batch

    # -- orders -----------------------------------------------------------------------------

    def _read_orders(self, window: Window, batch_size: int) -> Iterator[Batch]:
        s = self.settings
        variables = {"query": search_query(window), "lines": s.line_items_page_size,
                     "refunds": s.refunds_page_size, "refundLines": s.refund_lines_page_size}
        self.context()
        if s.page_workers:
            yield from self._orders_in_workers(variables, batch_size)
            return
        pages = self._pages(q.ORDERS, variables, "orders", s.orders_page_size, "orders",
                            prepare=self._order_follow_ups)
        yield from self._batches(pages, batch_size, ORDER_TABLES, self._orders_page,
                                 columnar=True)

    def _orders_in_workers(self, variables: dict[str, Any], batch_size: int,
                           ) -> Iterator[Batch]:
        """Orders with pages decoded and mapped by ``page_workers`` processes (``workers``)."""
        s, ctx = self.settings, self.context()
        workers = PageWorkers(s.page_workers, WorkerSetup(s, self._key, ctx.timezone,
                                                          ctx.currency))
        pages = self._pages(q.ORDERS, variables, "orders", s.orders_page_size, "orders",
                            skim=True)
        try:
            full_pages = -(-s.page_workers_after // s.orders_page_size)  # read here first
            yield from batches_in_workers(pages, workers, batch_size, body=skimmed_body,
                                          here=self._order_page_here, start_at=full_pages)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
            workers.close()
            self.pages_in_workers = workers.decoded

    def order_page(self, content: bytes) -> Decoded:
        """One skimmed page body decoded, completed and mapped (what a worker does)."""
        return self._order_page_here(Page(Reply({}, False, content, skimmed=True), "orders"))

    def _order_page_here(self, page: Page) -> Decoded:
        """One page decoded, completed and mapped in this process, as without workers."""
        page = page.decoded(_ENVELOPES["orders"])
        self._order_follow_ups(page)
        batch = _new_batch(ORDER_TABLES, columnar=True)
        with gc_paused():
            self._orders_page(page, batch, set())
            mapped = m.OrderColumns(*(batch.rows[table] for table in ORDER_TABLES))
            decoded = page_tables(mapped, batch.received, tuple(batch.drift))
        return decoded, batch.rejects

    def _key_of(self, raw: Any) -> str | None:
        gid = raw.get("id") if isinstance(raw, dict) else None
        return self.context().key(gid) if isinstance(gid, str) and gid else None

    def _validated(self, page: Page, index: int, shape: p.Shape[Any], missing: Missing | None,
                   batch: Batch, key_of: Callable[[Any], str | None]) -> Any:
        """The raw node at ``index`` completed and validated, or None after rejecting it."""
        raw = page.raw(index)
        try:
            if missing is not None and isinstance(raw, dict):
                self.nested.apply(raw, missing, typed=False)
            result = shape.validate_one(raw)
        except RecordValidationError as exc:
            result = exc.reason
        if isinstance(result, str):
            batch.rejects.append(Reject(result, m.redact(raw), key_of(raw)))
            return None
        return result

    def _complete(self, page: Page, index: int, shape: p.Shape[Any], missing: Missing | None,
                  batch: Batch, key_of: Callable[[Any], str | None]) -> Any:
        """Node ``index`` with what the page left out merged in, validated; None if rejected.

        Typed nodes take the fast path; anything that does not fit is redone from the raw
        JSON, so a reject carries the node as Shopify sent it and a path-named reason.
        """
        node = page.nodes[index]
        if page.reply.typed:
            if missing is None:
                return node
            try:
                return self.nested.apply(node, missing, typed=True)
            except (ValidationError, RecordValidationError):
                pass
        return self._validated(page, index, shape, missing, batch, key_of)

    def _order_follow_ups(self, page: Page) -> None:
        needy = [i for i, node in enumerate(page.nodes) if self.nested.order_needs_more(node)]
        found = self.nested.fetch_orders([page.nodes[i] for i in needy])
        page.missing = dict(zip(needy, found, strict=True))

    def _orders_page(self, page: Page, batch: Batch, seen: set[str]) -> None:
        nodes = []
        for i in range(len(page.nodes)):
            node = self._complete(page, i, p.ORDER, page.missing.get(i), batch, self._key_of)
            if node is not None:
                nodes.append((i, node))
        mapped = self._map_orders(page, nodes, batch)
        offset = len(batch.rows["orders"])
        for table, columns in zip(ORDER_TABLES, (mapped.orders, mapped.lines, mapped.refunds,
                                                 mapped.refund_lines), strict=True):
            if table != "orders" and offset:
                seqs = columns.data.get(PARENT_SEQ)
                if seqs is not None:
                    columns.data[PARENT_SEQ] = [seq + offset for seq in seqs]
            batch.rows[table].extend(columns)
        for _, node in nodes:
            drift = m.order_drift(node)
            if drift:
                self._note_drift(drift, batch, seen)
        updated = mapped.orders.data.get("updated_at")
        if updated:
            batch.cursor = _later(batch.cursor, max(updated))
        batch.received += len(page.nodes)

    def _map_orders(self, page: Page, nodes: list[tuple[int, Any]], batch: Batch,
                    ) -> m.OrderColumns:
        """The page's valid orders mapped in one pass.

        An amount that is a string but not a decimal only shows in the mapper (pages keep
        amounts as text): the orders are then mapped one by one, and one that fails is redone
        strictly for a path-named reason (and rejected).
        """
        ctx = self.context()
        try:
            return m.map_orders(ctx, [node for _, node in nodes])
        except AmountError:
            pass
        kept = []
        for i, node in nodes:
            try:
                m.map_orders(ctx, [node])
            except AmountError:
                node = self._validated(page, i, p.ORDER, page.missing.get(i), batch,
                                       self._key_of)
            if node is not None:
                kept.append((i, node))
        nodes[:] = kept
        return m.map_orders(ctx, [node for _, node in kept])

    @staticmethod
    def _note_drift(drift: list[Drift], batch: Batch, seen: set[str]) -> None:
        for d in drift:
            if d.field_path not in seen:
                seen.add(d.field_path)
                batch.drift.append(d)

    # -- customers, products, inventory -----------------------------------------------------

    def _customer_key_of(self, raw: Any) -> str | None:
        gid = raw.get("id") if isinstance(raw, dict) else None
        return self.context().customer_key(gid) if isinstance(gid, str) and gid else None

    def _simple_page(self, page: Page, batch: Batch, seen: set[str], shape: p.Shape[Any],
                     table: str, to_row: Callable[[Any], dict[str, Any]],
                     key_of: Callable[[Any], str | None]) -> None:
        rows = batch.rows[table]
        for i, node in enumerate(page.nodes):
            node = self._complete(page, i, shape, None, batch, key_of)
            if node is None:
                continue
            row = to_row(node)
            rows.append(row)
            self._note_drift(m.drift_of("", p.unknown_fields(node, shape.known)), batch, seen)
            batch.cursor = _later(batch.cursor, row["updated_at"])
        batch.received += len(page.nodes)

    def _read_customers(self, window: Window, batch_size: int) -> Iterator[Batch]:
        ctx = self.context()
        pages = self._pages(q.CUSTOMERS, {"query": search_query(window)}, "customers",
                            self.settings.customers_page_size, "customers")
        yield from self._batches(pages, batch_size, ("customers",), lambda pg, b, seen: (
            self._simple_page(pg, b, seen, p.CUSTOMER, "customers",
                              lambda n: m.map_customer(ctx, n), self._customer_key_of)))

    def _read_products(self, window: Window, batch_size: int) -> Iterator[Batch]:
        """Every variant on each run: a product or cost change need not touch the variant's
        ``updatedAt``, so an updated_at filter could miss it (catalogues are small)."""
        ctx = self.context()
        pages = self._pages(q.PRODUCT_VARIANTS, {"query": None}, "productVariants",
                            self.settings.variants_page_size, "productVariants")
        yield from self._batches(pages, batch_size, ("products",), lambda pg, b, seen: (
            self._simple_page(pg, b, seen, p.VARIANT, "products",
                              lambda n: m.map_variant(ctx, n), self._key_of)))

    def _read_inventory(self, window: Window, batch_size: int) -> Iterator[Batch]:
        ctx = self.context()
        today = window.end.astimezone(ctx.zone).date()
        pages = self._pages(q.INVENTORY, {"levels": self.settings.inventory_levels_page_size},
                            "productVariants", self.settings.variants_page_size, "inventory",
                            prepare=self._stock_follow_ups)
        yield from self._batches(pages, batch_size, ("inventory_levels",),
                             lambda pg, b, seen: self._inventory_page(pg, b, seen, today),
                             report_dates=(today, today))

    def _stock_follow_ups(self, page: Page) -> None:
        typed = page.reply.typed
        page.missing = {i: self.nested.fetch_stock(node, typed)
                        for i, node in enumerate(page.nodes)
                        if self.nested.stock_needs_more(node, typed)}

    def _inventory_page(self, page: Page, batch: Batch, seen: set[str], day: dt.date) -> None:
        ctx, rows = self.context(), batch.rows["inventory_levels"]
        for i in range(len(page.nodes)):
            node = self._complete(page, i, p.STOCKED, page.missing.get(i), batch, self._key_of)
            if node is None:
                continue
            try:
                rows += m.map_stock(ctx, node, day)
            except RecordValidationError as exc:
                batch.rejects.append(Reject(exc.reason, m.redact(page.raw(i)), exc.key))
            self._note_drift(m.drift_of("", p.unknown_fields(node, p.STOCKED.known)), batch, seen)
        batch.received += len(page.nodes)
