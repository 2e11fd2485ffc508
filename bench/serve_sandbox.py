"""Serve a simulated shop on a loopback Shopify sandbox until stdin closes (benchmark helper).

With ``--warm`` the sandbox keeps each rendered order (``NodeMemo``) and reads every order once
before it prints its address: the fake shop's rendering then happens before the clock starts,
as Shopify's does on Shopify's hardware, and the measured machine's two cores go to the client.
"""

from __future__ import annotations

import argparse
import sys
import time

from ondigital_connect.http import HttpClient
from ondigital_connect.sandbox import NodeMemo, ShopifySandbox
from ondigital_connect.simulate import SimulatedBusiness
from ondigital_connect.sources.shopify import ShopifySettings
from ondigital_connect.sources.shopify import queries as q
from ondigital_connect.sources.shopify.graphql import GraphQLClient


def warm_up(sandbox: ShopifySandbox, shop: str) -> int:
    """Read every order once with the client's default nested page sizes; return the count."""
    settings = ShopifySettings(shop=shop, token=sandbox.token, base_url=sandbox.url)
    http = HttpClient("shopify", base_url=settings.endpoint_base,
                      headers={"X-Shopify-Access-Token": sandbox.token})
    gql = GraphQLClient(http, settings.graphql_path)
    variables = {"query": None, "lines": settings.line_items_page_size,
                 "refunds": settings.refunds_page_size,
                 "refundLines": settings.refund_lines_page_size}
    try:
        return sum(len(page["nodes"]) for page in gql.connection(
            q.ORDERS, variables, ("orders",), first=250))
    finally:
        http.close()


def main() -> None:
    """Build the business, warm its indexes (and renders), print URL, token and shop; serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warm", action="store_true", help="Render every order before serving.")
    args = parser.parse_args()
    business = SimulatedBusiness(seed=args.seed, orders=args.orders, lines_per_order=args.lines)
    business.updated_at_us()  # build the sort index before the clock starts
    memo = NodeMemo() if args.warm else None
    with ShopifySandbox(business, plan="unlimited", max_query_cost=None, memo=memo) as sandbox:
        if memo is not None:
            start = time.perf_counter()
            read = warm_up(sandbox, business.shop_domain)
            print(f"warmed {read} orders ({len(memo)} kept) in {time.perf_counter() - start:.1f}s",
                  file=sys.stderr, flush=True)
        print(sandbox.url, sandbox.token, business.shop_domain, flush=True)
        sys.stdin.read()  # the parent closes stdin to stop us


if __name__ == "__main__":
    main()
