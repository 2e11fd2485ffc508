"""A warm sandbox (``NodeMemo``) answers exactly as rendering does: same bytes, same cost."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
import requests

from ondigital_connect.sandbox import NodeMemo, ShopifySandbox
from ondigital_connect.simulate import SimulatedBusiness
from ondigital_connect.sources.shopify import queries as q

SHAPE = {"lines": 10, "refunds": 2, "refundLines": 5}


def read_all(sb: ShopifySandbox, shape: dict[str, Any], first: int = 40) -> list[dict]:
    """Every orders page: (data as parsed, actual cost)."""
    pages, cursor = [], None
    while True:
        reply = requests.post(sb.graphql_url(), headers={"X-Shopify-Access-Token": sb.token},
                              json={"query": q.ORDERS, "variables": {
                                  **shape, "first": first, "after": cursor, "query": None}},
                              timeout=10)
        body = orjson.loads(reply.content)
        pages.append({"data": body["data"],
                      "cost": body["extensions"]["cost"]["actualQueryCost"]})
        info = body["data"]["orders"]["pageInfo"]
        if not info["hasNextPage"]:
            return pages
        cursor = info["endCursor"]


@pytest.fixture(scope="module")
def business() -> SimulatedBusiness:
    return SimulatedBusiness(seed=11, orders=300, lines_per_order=3)


def serve(business: SimulatedBusiness, memo: NodeMemo | None) -> ShopifySandbox:
    return ShopifySandbox(business, plan="unlimited", max_query_cost=None, memo=memo)


def test_warm_answers_equal_rendered_ones(business: SimulatedBusiness) -> None:
    memo = NodeMemo()
    with serve(business, None) as cold, serve(business, memo) as warm:
        expected = read_all(cold, SHAPE)
        first = read_all(warm, SHAPE)
        assert memo.misses == 300 and memo.hits == 0
        again = read_all(warm, SHAPE)
    assert memo.hits == 300
    assert first == expected
    assert again == expected


def test_other_nested_page_sizes_render_anew(business: SimulatedBusiness) -> None:
    memo = NodeMemo()
    other = {"lines": 1, "refunds": 1, "refundLines": 1}
    with serve(business, None) as cold, serve(business, memo) as warm:
        read_all(warm, SHAPE)
        assert read_all(warm, other) == read_all(cold, other)
    assert memo.hits == 0 and memo.misses == 600


def test_an_order_changed_since_is_rendered_anew(business: SimulatedBusiness) -> None:
    memo = NodeMemo()
    earlier = business.now - dt.timedelta(days=20)
    with serve(business, None) as cold, serve(business, memo) as warm:
        warm.as_of = cold.as_of = earlier
        read_all(warm, SHAPE)
        warm.as_of = cold.as_of = None
        misses = memo.misses
        assert read_all(warm, SHAPE) == read_all(cold, SHAPE)
    assert memo.misses > misses  # the later instant saw other versions


def test_a_full_memo_keeps_serving_correctly(business: SimulatedBusiness) -> None:
    memo = NodeMemo(max_nodes=50)
    with serve(business, None) as cold, serve(business, memo) as warm:
        read_all(warm, SHAPE)
        assert read_all(warm, SHAPE) == read_all(cold, SHAPE)
    assert len(memo) == 50 and memo.hits == 50
