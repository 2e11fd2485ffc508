"""Skimming a page body reads its cursor and throttle status, or declines: never wrong."""

from __future__ import annotations

import json

import pytest

from ondigital_connect.sources.shopify.skim import PageSkim

EXTENSIONS = {"cost": {"requestedQueryCost": 52, "actualQueryCost": 12, "throttleStatus": {
    "maximumAvailable": 1000.0, "currentlyAvailable": 988, "restoreRate": 50.0}}}
INFO = {"hasNextPage": True, "endCursor": "eyJsYXN0X2lkIjo1fQ=="}


def body(*, info: object = INFO, nodes: object = ({"id": "gid://shopify/Order/1"},),
         extensions: object = EXTENSIONS, indent: int | None = None,
         first: str = "pageInfo") -> bytes:
    conn = ({"pageInfo": info, "nodes": list(nodes)} if first == "pageInfo"
            else {"nodes": list(nodes), "pageInfo": info})
    reply: dict[str, object] = {"data": {"orders": conn}}
    if extensions is not None:
        reply["extensions"] = extensions
    return json.dumps(reply, indent=indent, ensure_ascii=False).encode()


@pytest.mark.parametrize("indent", [None, 2])
def test_a_plain_page_gives_its_cursor_and_throttle_status(indent: int | None) -> None:
    skimmed = PageSkim("orders").read(body(indent=indent))
    assert skimmed == {"data": {"orders": {"pageInfo": INFO}}, "extensions": EXTENSIONS}


def test_a_cursor_beside_non_ascii_text_is_still_read() -> None:
    info = {"hasNextPage": True, "endCursor": "abc", "note": "Göteborg ÅÄÖ"}
    skimmed = PageSkim("orders").read(body(info=info))
    assert skimmed is not None and skimmed["data"]["orders"]["pageInfo"] == info


def test_the_last_page_says_so() -> None:
    skimmed = PageSkim("orders").read(body(info={"hasNextPage": False, "endCursor": None}))
    assert skimmed is not None
    assert skimmed["data"]["orders"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("content", [
    body(first="nodes"),  # pageInfo after the nodes: not where we look
    body(extensions=None),  # no extensions: the throttle status would be lost
    body(info={"hasNextPage": "yes"}),  # a cursor flag that is not a boolean
    body()[:-1],  # truncated
    b'{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],' + body()[1:],
    body(nodes=({"id": "gid://shopify/Order/1", "note": "errors"},)),  # maybe errors
    b"<html>502 Bad Gateway</html>",
    body().replace(b'"orders"', b'"customers"', 1),  # another root
])
def test_anything_but_a_plain_page_is_left_to_the_full_decoder(content: bytes) -> None:
    assert PageSkim("orders").read(content) is None


def test_a_nested_extensions_key_is_not_taken_for_the_top_level_one() -> None:
    nested = body(nodes=({"id": "gid://shopify/Order/1", "extensions": {"a": 1}},),
                  extensions=None)
    assert PageSkim("orders").read(nested) is None
