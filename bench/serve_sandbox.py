"""Serve a simulated shop on a loopback Shopify sandbox until stdin closes (benchmark helper)."""

from __future__ import annotations

import argparse
import sys

from ondigital_connect.sandbox import ShopifySandbox
from ondigital_connect.simulate import SimulatedBusiness


def main() -> None:
    """Build the business, warm its indexes, print the sandbox URL and token, then serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    business = SimulatedBusiness(seed=args.seed, orders=args.orders, lines_per_order=args.lines)
    business.updated_at_us()  # build the sort index before the clock starts
    with ShopifySandbox(business, plan="unlimited", max_query_cost=None) as sandbox:
        print(sandbox.url, sandbox.token, business.shop_domain, flush=True)
        sys.stdin.read()  # the parent closes stdin to stop us


if __name__ == "__main__":
    main()
