"""One page of a top-level connection as the Shopify source handles it: decoded or skimmed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from ondigital_connect.sources.shopify import payloads as p
from ondigital_connect.sources.shopify.graphql import GraphQLClient, Reply, dig
from ondigital_connect.sources.shopify.nested import Missing


class Page:
    """The nodes of one reply: validated already (fast path) or raw, with raw on demand.

    ``missing`` maps a node's index to what its nested connections lacked (fetched already).
    """

    def __init__(self, reply: Reply, root: str) -> None:
        self.reply = reply
        self.root = root
        self.missing: dict[int, Missing] = {}
        if reply.skimmed:  # nodes still in the body: a worker decodes them, or ``decoded``
            self.nodes: list[Any] = []
            self._raw: list[Any] | None = None
            return
        self.nodes = dig(reply.payload["data"], (root,))["nodes"]
        self._raw = None if reply.typed else self.nodes

    def decoded(self, envelope: p.JsonValidator) -> Page:
        """This page with its nodes decoded (a skimmed page is decoded now, in full)."""
        if not self.reply.skimmed:
            return self
        reply = GraphQLClient.decode(self.reply.content, envelope)
        return Page(reply, self.root)

    def raw(self, index: int) -> Any:
        """The node as Shopify sent it (re-read from the body only when needed)."""
        if self._raw is None:
            self._raw = orjson.loads(self.reply.content)["data"][self.root]["nodes"]
        return self._raw[index]


def prepared(pages: Iterator[Page], prepare: Callable[[Page], None]) -> Iterator[Page]:
    """Each page after ``prepare`` (its follow-up queries) ran on the consumer's thread."""
    try:
        for page in pages:
            prepare(page)
            yield page
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def skimmed_body(page: Page) -> bytes | None:
    return page.reply.content if page.reply.skimmed else None
