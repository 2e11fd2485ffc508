"""The loopback Shopify sandbox: GraphQL shapes (checked against the published schema), cost,
throttling, pagination, faults, overrides and the REST orders.json."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import graphql
import pytest
import requests

from ondigital_connect.sandbox import ShopifySandbox
from ondigital_connect.sandbox.faults import Overrides
from ondigital_connect.sandbox.shopify_cost import actual_cost
from ondigital_connect.sandbox.shopify_graphql import compile_query
from ondigital_connect.sandbox.shopify_render import TYPES
from ondigital_connect.sandbox.shopify_roots import ROOT
from tests.sandbox_fakes import EARLY, LATE_REFUND, NOW, T0, FakeBusiness, order_id

SCHEMA_FILE = (Path(__file__).resolve().parents[1]
               / ".cache/shopify-dev-mcp/package/dist/data/admin_2026-10.json.gz")
AUTH_BODY = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                       "password)"}
ORDERS_BY_UPDATED_NOW = [0, 1, 3, 4, 5, 7, 8, 9, 10, 11, 2, 6]  # order indexes, see the fake


# -- helpers ----------------------------------------------------------------------------------
class Clock:
    """A settable monotonic clock for the buckets."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def post(sb: ShopifySandbox, query: str, variables: dict | None = None, *,
         version: str = "2026-10", token: str | None = None, timeout: float = 10,
         operation: str | None = None) -> requests.Response:
    body: dict[str, Any] = {"query": query, "variables": variables or {}}
    if operation:
        body["operationName"] = operation
    headers = {"X-Shopify-Access-Token": sb.token if token is None else token}
    return requests.post(sb.graphql_url(version), json=body, headers=headers, timeout=timeout)


def data_of(sb: ShopifySandbox, query: str, variables: dict | None = None) -> dict:
    reply = post(sb, query, variables)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def gid_num(gid: str) -> int:
    return int(gid.rsplit("/", 1)[1].split("?")[0])


@pytest.fixture
def fake() -> FakeBusiness:
    return FakeBusiness()


@pytest.fixture
def sandbox(fake: FakeBusiness) -> ShopifySandbox:
    with ShopifySandbox(fake, plan="unlimited", max_query_cost=None) as sb:
        yield sb


# -- the schema oracle -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def schema() -> graphql.GraphQLSchema:
    assert SCHEMA_FILE.exists(), f"the published schema is missing: {SCHEMA_FILE} (.ci/run)"
    raw = json.loads(gzip.decompress(SCHEMA_FILE.read_bytes()))
    built = graphql.build_client_schema(raw.get("data", raw))
    built._validation_errors = []  # the published schema trips graphql-core's own checks
    return built


_SCALARS = {
    "ID": lambda v: isinstance(v, str) and re.fullmatch(r"gid://shopify/\w+/\d+(\?\S+)?", v),
    "String": lambda v: isinstance(v, str),
    "URL": lambda v: isinstance(v, str) and v.startswith("http"),
    "Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "DateTime": lambda v: isinstance(v, str) and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v),
    "Decimal": lambda v: isinstance(v, str) and re.fullmatch(r"-?\d+\.\d+", v),
    "Money": lambda v: isinstance(v, str) and re.fullmatch(r"-?\d+\.\d+", v),
    "UnsignedInt64": lambda v: isinstance(v, str) and v.isdigit(),
}


def check_response(schema: graphql.GraphQLSchema, query: str, data: dict,
                   operation: str | None = None) -> int:
    """Validate ``query`` against the schema, then walk ``data`` along it: every key selected
    and nothing else, every value of its field's type. Returns how many leaves were checked."""
    doc = graphql.parse(query)
    assert graphql.validate(schema, doc) == []
    ops = [d for d in doc.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    op = next(o for o in ops if operation is None or o.name.value == operation)
    fragments = {d.name.value: d for d in doc.definitions
                 if isinstance(d, graphql.FragmentDefinitionNode)}
    return _walk(schema, schema.query_type, [op.selection_set], data, fragments, "data")


def _fields(type_: Any, selection_sets: list, fragments: dict) -> dict[str, list]:
    out: dict[str, list] = {}
    for selection_set in selection_sets:
        for sel in selection_set.selections:
            if isinstance(sel, graphql.FieldNode):
                out.setdefault((sel.alias or sel.name).value, []).append(sel)
            else:
                frag = fragments[sel.name.value] if isinstance(
                    sel, graphql.FragmentSpreadNode) else sel
                cond = frag.type_condition.name.value if frag.type_condition else type_.name
                if cond == type_.name or cond in [i.name for i in type_.interfaces]:
                    for key, nodes in _fields(type_, [frag.selection_set], fragments).items():
                        out.setdefault(key, []).extend(nodes)
    return out


def _walk(schema: Any, type_: Any, selection_sets: list, value: Any, fragments: dict,
          where: str) -> int:
    assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
    fields = _fields(type_, selection_sets, fragments)
    assert set(value) == set(fields), f"{where}: keys {sorted(value)} != {sorted(fields)}"
    checked = 0
    for key, nodes in fields.items():
        name = nodes[0].name.value
        if name == "__typename":
            assert value[key] == type_.name
            continue
        field = type_.fields[name]
        subs = [n.selection_set for n in nodes if n.selection_set]
        checked += _value(schema, field.type, subs, value[key], fragments, f"{where}.{key}")
    return checked


def _value(schema: Any, type_: Any, subs: list, value: Any, fragments: dict, where: str) -> int:
    if graphql.is_non_null_type(type_):
        assert value is not None, f"{where}: null for {type_}"
        type_ = type_.of_type
    if value is None:
        return 1
    if graphql.is_list_type(type_):
        assert isinstance(value, list), f"{where}: expected a list"
        return sum(_value(schema, type_.of_type, subs, v, fragments, f"{where}[{i}]")
                   for i, v in enumerate(value))
    if graphql.is_enum_type(type_):
        assert value in type_.values, f"{where}: {value!r} is not a {type_.name}"
        return 1
    if graphql.is_scalar_type(type_):
        check = _SCALARS.get(type_.name, lambda v: isinstance(v, str))
        assert check(value), f"{where}: {value!r} is not a valid {type_.name}"
        return 1
    return _walk(schema, type_, subs, value, fragments, where)


def _selection(type_name: str, depth: int) -> str:
    """Every field the sandbox knows on this type, down to ``depth`` object levels."""
    parts = []
    for name, fdef in TYPES[type_name].items():
        if fdef.kind == "scalar":
            parts.append(name)
            continue
        inner = _selection(fdef.type, depth - 1) if depth > 0 else ""
        if not inner:
            continue
        if fdef.kind == "connection":
            parts.append(f"{name}(first: 20) {{ pageInfo {{ hasNextPage hasPreviousPage "
                         f"startCursor endCursor }} edges {{ cursor node {{ {inner} }} }} "
                         f"nodes {{ {inner} }} }}")
        elif "names" in fdef.args:
            parts.append(f'{name}(names: ["available", "on_hand", "committed"]) {{ {inner} }}')
        elif "first" in fdef.args:
            parts.append(f"{name}(first: 5) {{ {inner} }}")
        else:
            parts.append(f"{name} {{ {inner} }}")
    return " ".join(parts)


def _covered(query: str) -> set[tuple[str, str]]:
    schema_types = {(t, f) for t, fields in TYPES.items() for f in fields}
    names = set(re.findall(r"[A-Za-z_]\w*", query))
    return {(t, f) for t, f in schema_types if f in names}


# -- schema conformance ---------------------------------------------------------------------
def test_every_field_the_sandbox_serves_exists_in_the_published_schema(schema: Any) -> None:
    for type_name, fields in TYPES.items():
        published = schema.get_type(type_name)
        assert published is not None, type_name
        for name, fdef in fields.items():
            field = published.fields.get(name)
            assert field is not None, f"{type_name}.{name} is not in the 2026-10 schema"
            named = graphql.get_named_type(field.type).name
            expected = f"{fdef.type}Connection" if fdef.kind == "connection" else fdef.type
            assert named == expected, f"{type_name}.{name}: {named} != {expected}"
            assert set(fdef.args) <= set(field.args), f"{type_name}.{name} args"
            listy = graphql.is_list_type(graphql.get_nullable_type(field.type))
            assert listy == (fdef.kind == "list"), f"{type_name}.{name} list-ness"
    for name, root in ROOT.items():
        field = schema.query_type.fields[name]
        named = graphql.get_named_type(field.type).name
        expected = f"{root.type}Connection" if root.kind == "connection" else root.type
        assert named == expected and set(root.args) <= set(field.args), name


@pytest.mark.parametrize("as_of", [None, EARLY])
def test_a_query_of_every_field_validates_and_every_value_has_its_schema_type(
        schema: Any, sandbox: ShopifySandbox, as_of: dt.datetime | None) -> None:
    sandbox.as_of = as_of
    queries = [
        f"{{ shop {{ {_selection('Shop', 0)} }} }}",
        f"{{ orders(first: 20, sortKey: UPDATED_AT) {{ pageInfo {{ hasNextPage hasPreviousPage "
        f"startCursor endCursor }} edges {{ cursor node {{ {_selection('Order', 4)} }} }} }} }}",
        f"{{ customers(first: 10) {{ nodes {{ {_selection('Customer', 2)} }} }} }}",
        f"{{ productVariants(first: 10) {{ nodes {{ {_selection('ProductVariant', 4)} }} }} }}",
        f"{{ inventoryItems(first: 10) {{ nodes {{ {_selection('InventoryItem', 4)} }} }} }}",
        f"{{ locations(first: 10) {{ nodes {{ {_selection('Location', 1)} }} }} }}",
        f'{{ refund(id: "gid://shopify/Refund/5020") {{ {_selection("Refund", 3)} }} }}',
        f'{{ order(id: "gid://shopify/Order/{order_id(9)}") {{ {_selection("Order", 2)} }} }}',
    ]
    covered: set[tuple[str, str]] = set()
    for query in queries:
        body = post(sandbox, query).json()
        assert "errors" not in body, body["errors"]
        assert check_response(schema, query, body["data"]) > 0
        cost = body["extensions"]["cost"]
        compiled = compile_query(query)
        assert cost["actualQueryCost"] == actual_cost(compiled.cost_nodes, body["data"])
        assert 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"]
        covered |= _covered(query)
    missing = {(t, f) for t, fields in TYPES.items() for f in fields} - covered
    assert not missing, f"fields never exercised: {sorted(missing)}"


def _variables_for(query: str, ids: dict[str, str]) -> dict:
    """Values for a document's variables: Ints 3, ``id`` arguments of root fields from ids."""
    op = next(d for d in graphql.parse(query).definitions
              if isinstance(d, graphql.OperationDefinitionNode))
    values: dict[str, Any] = {v.variable.name.value: 3 for v in op.variable_definitions or ()
                              if graphql.print_ast(v.type).startswith("Int")}
    for root in op.selection_set.selections:
        for arg in root.arguments or ():
            if arg.name.value == "id" and isinstance(arg.value, graphql.VariableNode):
                values[arg.value.name.value] = ids[root.name.value]
    return values


def test_the_client_queries_run_and_answer_in_the_schema_shapes(schema: Any) -> None:
    queries = pytest.importorskip("ondigital_connect.sources.shopify.queries")
    from ondigital_connect.simulate import SimulatedBusiness

    business = SimulatedBusiness(orders=400, seed=3)
    with ShopifySandbox(business, plan="unlimited", max_query_cost=None) as sb:
        some = data_of(sb, "{ orders(first: 50, reverse: true) { nodes { id "
                           "refunds { id } } } }")["orders"]["nodes"]
        order = next(o for o in some if o["refunds"])
        item = data_of(sb, "{ inventoryItems(first: 1) { nodes { id } } }")
        ids = {"order": order["id"], "refund": order["refunds"][0]["id"],
               "inventoryItem": item["inventoryItems"]["nodes"][0]["id"]}
        assert queries.ALL
        for name, query in queries.ALL.items():
            body = post(sb, query, _variables_for(query, ids)).json()
            assert "errors" not in body, (name, body.get("errors"))
            assert all(v is not None for v in body["data"].values()), name
            assert check_response(schema, query, body["data"]) > 0


# -- pagination -----------------------------------------------------------------------------
ORDERS_PAGE = """query($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id updatedAt } }
    nodes { id }
  }
}"""


def _all_pages(sb: ShopifySandbox, first: int, query: str | None = None) -> list[dict]:
    pages, after = [], None
    while True:
        conn = data_of(sb, ORDERS_PAGE, {"first": first, "after": after, "query": query})["orders"]
        pages.append(conn)
        if not conn["pageInfo"]["hasNextPage"]:
            return pages
        after = conn["pageInfo"]["endCursor"]


def test_orders_paginate_to_the_last_page_in_edges_and_nodes_form(
        schema: Any, sandbox: ShopifySandbox) -> None:
    pages = _all_pages(sandbox, 5)
    assert [len(p["edges"]) for p in pages] == [5, 5, 2]
    ids = [gid_num(e["node"]["id"]) for p in pages for e in p["edges"]]
    assert ids == [order_id(i) for i in ORDERS_BY_UPDATED_NOW]
    assert [gid_num(n["id"]) for p in pages for n in p["nodes"]] == ids
    for n, page in enumerate(pages):
        info = page["pageInfo"]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        assert info["hasPreviousPage"] == (n > 0)
        assert info["hasNextPage"] == (n < len(pages) - 1)
    keys = [(e["node"]["updatedAt"], gid_num(e["node"]["id"])) for p in pages for e in p["edges"]]
    assert keys == sorted(keys)
    check_response(schema, ORDERS_PAGE, {"orders": pages[0]})


def test_sort_keys_reverse_and_an_empty_page(sandbox: ShopifySandbox) -> None:
    query = "query($s: OrderSortKeys, $r: Boolean) { orders(first: 20, sortKey: $s, " \
            "reverse: $r) { nodes { id } pageInfo { hasNextPage endCursor } } }"
    by_id = [gid_num(n["id"]) for n in data_of(sandbox, query, {"s": "ID"})["orders"]["nodes"]]
    assert by_id == [order_id(i) for i in range(12)]
    newest = data_of(sandbox, query, {"s": "UPDATED_AT", "r": True})["orders"]["nodes"]
    assert [gid_num(n["id"]) for n in newest] == [order_id(i) for i in
                                                  reversed(ORDERS_BY_UPDATED_NOW)]
    empty = data_of(sandbox, ORDERS_PAGE, {"first": 5, "query": "updated_at:>2030-01-01"})
    assert empty["orders"]["edges"] == [] and empty["orders"]["pageInfo"] == {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}


def test_keyset_cursors_are_stable_when_orders_change_between_pages(
        sandbox: ShopifySandbox) -> None:
    sandbox.as_of = EARLY
    first = data_of(sandbox, ORDERS_PAGE, {"first": 4})["orders"]
    assert [gid_num(n["id"]) for n in first["nodes"]] == [order_id(i) for i in (0, 1, 3, 4)]
    sandbox.as_of = NOW  # order 6 gets its late refund: it moves to the end
    seen = [gid_num(n["id"]) for n in first["nodes"]]
    after = first["pageInfo"]["endCursor"]
    while after:
        conn = data_of(sandbox, ORDERS_PAGE, {"first": 4, "after": after})["orders"]
        seen += [gid_num(n["id"]) for n in conn["nodes"]]
        after = conn["pageInfo"]["endCursor"] if conn["pageInfo"]["hasNextPage"] else None
    # order 5 ties with order 4 on updatedAt and still follows it (id tiebreak); nothing is
    # skipped or repeated; the updated order 6 comes last.
    assert seen == [order_id(i) for i in (0, 1, 3, 4, 5, 7, 8, 9, 10, 11, 2, 6)]


def test_an_unknown_cursor_is_an_error(sandbox: ShopifySandbox) -> None:
    body = post(sandbox, ORDERS_PAGE, {"first": 2, "after": "not-a-cursor"}).json()
    assert body["errors"][0]["message"] == "Invalid cursor for current pagination sort."
    assert body["data"] is None


@pytest.mark.parametrize(("search", "expected"), [
    ("updated_at:>='2026-10-01T12:00:00Z' AND updated_at:<'2026-10-01T16:00:00Z'", [3, 4, 5]),
    ("updated_at:>=2026-10-01T13:00:00Z updated_at:<=2026-10-01T15:00:00Z", [3, 4, 5]),
    ("updated_at:>2026-10-01T13:00:00Z AND updated_at:<2026-10-01T17:00:00Z", [4, 5]),
    ('updated_at:>"2026-10-14T00:00:00Z"', [6]),
    ("created_at:<'2026-10-01T10:00:00Z' AND status:any", [0, 1]),
    ("updated_at:>=2026-10-04", [2, 6]),
])
def test_the_search_query_filters_on_updated_and_created_at(
        sandbox: ShopifySandbox, search: str, expected: list[int]) -> None:
    nodes = [n for p in _all_pages(sandbox, 2, search) for n in p["nodes"]]
    assert [gid_num(n["id"]) for n in nodes] == [order_id(i) for i in expected]


def test_nested_line_items_paginate_through_order_by_id(sandbox: ShopifySandbox) -> None:
    outer = data_of(sandbox, """{ orders(first: 3, sortKey: ID) { nodes { id
        lineItems(first: 5) { pageInfo { hasNextPage endCursor } nodes { id } } } } }""")
    big = outer["orders"]["nodes"][2]
    assert len(big["lineItems"]["nodes"]) == 5 and big["lineItems"]["pageInfo"]["hasNextPage"]
    lines = [gid_num(n["id"]) for n in big["lineItems"]["nodes"]]
    after = big["lineItems"]["pageInfo"]["endCursor"]
    query = """query($id: ID!, $after: String) { order(id: $id) { lineItems(first: 5,
        after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } } }"""
    while after:
        conn = data_of(sandbox, query, {"id": big["id"], "after": after})["order"]["lineItems"]
        lines += [gid_num(n["id"]) for n in conn["nodes"]]
        after = conn["pageInfo"]["endCursor"] if conn["pageInfo"]["hasNextPage"] else None
    assert lines == [10_000 + 2 * 100 + k for k in range(12)]


def test_refund_line_items_paginate_through_refund_by_id(fake: FakeBusiness) -> None:
    # a fresh sandbox has never rendered the refund: refund(id:) must still find it
    with ShopifySandbox(fake, plan="unlimited") as sb:
        query = """query($id: ID!, $after: String) { refund(id: $id) { id note
            totalRefundedSet { shopMoney { amount currencyCode } }
            refundShippingLines(first: 5) { nodes { subtotalAmountSet { shopMoney { amount } }
              taxAmountSet { shopMoney { amount } } } }
            refundLineItems(first: 5, after: $after) { pageInfo { hasNextPage endCursor }
              nodes { id quantity lineItem { id sku }
                subtotalSet { shopMoney { amount } } } } } }"""
        got, after = [], None
        while True:
            refund = data_of(sb, query, {"id": "gid://shopify/Refund/5020", "after": after})
            conn = refund["refund"]["refundLineItems"]
            got += conn["nodes"]
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
        assert [gid_num(n["id"]) for n in got] == [5020 * 100 + k for k in range(12)]
        assert [gid_num(n["lineItem"]["id"]) for n in got] == [10_200 + k for k in range(12)]
        assert refund["refund"]["totalRefundedSet"]["shopMoney"] == {
            "amount": "1849.0", "currencyCode": "SEK"}
        assert refund["refund"]["refundShippingLines"]["nodes"] == [{
            "subtotalAmountSet": {"shopMoney": {"amount": "49.0"}},
            "taxAmountSet": {"shopMoney": {"amount": "0.0"}}}]
        missing = data_of(sb, query, {"id": "gid://shopify/Refund/999"})
        assert missing == {"refund": None}
        bad = post(sb, query, {"id": "gid://shopify/Order/1"}).json()
        assert bad["errors"][0]["message"] == "Invalid global id 'gid://shopify/Order/1'"


def test_first_over_250_and_missing_first_are_errors(sandbox: ShopifySandbox) -> None:
    body = post(sandbox, "{ orders(first: 251) { nodes { id } } }").json()
    assert "data" not in body and "250" in body["errors"][0]["message"]
    body = post(sandbox, "{ orders { nodes { id } } }").json()
    assert body["errors"][0]["message"] == "you must provide one of first or last"


# -- values ---------------------------------------------------------------------------------
def test_an_order_renders_in_shopify_scalar_formats(sandbox: ShopifySandbox) -> None:
    query = """query($id: ID!) { order(id: $id) { id legacyResourceId name createdAt updatedAt
        cancelledAt cancelReason displayFinancialStatus displayFulfillmentStatus
        presentmentCurrencyCode totalPriceSet { shopMoney { amount currencyCode }
        presentmentMoney { amount currencyCode } } customer { id }
        customerJourneySummary { ready firstVisit { source } }
        lineItems(first: 1) { nodes { taxLines { rate priceSet { shopMoney { amount } } } } } } }"""
    order = data_of(sandbox, query, {"id": f"gid://shopify/Order/{order_id(11)}"})["order"]
    assert order["id"] == "gid://shopify/Order/1011" and order["legacyResourceId"] == "1011"
    assert order["createdAt"] == "2026-10-01T19:00:00Z" and order["cancelledAt"] is None
    assert order["totalPriceSet"] == {
        "shopMoney": {"amount": "449.0", "currencyCode": "SEK"},
        "presentmentMoney": {"amount": "472.63", "currencyCode": "NOK"}}
    assert order["displayFinancialStatus"] == "PAID" and order["customer"] == {
        "id": "gid://shopify/Customer/3"}
    assert order["lineItems"]["nodes"][0]["taxLines"] == [
        {"rate": 0.25, "priceSet": {"shopMoney": {"amount": "20.0"}}}]
    cancelled = data_of(sandbox, query, {"id": f"gid://shopify/Order/{order_id(7)}"})["order"]
    assert cancelled["cancelReason"] == "CUSTOMER"
    assert cancelled["displayFulfillmentStatus"] == "UNFULFILLED"
    guest = data_of(sandbox, query, {"id": f"gid://shopify/Order/{order_id(9)}"})["order"]
    assert guest["customer"] is None
    assert guest["customerJourneySummary"] == {"ready": False, "firstVisit": None}
    assert data_of(sandbox, query, {"id": "gid://shopify/Order/77"}) == {"order": None}


def test_refund_lines_report_their_subtotal_with_tax_in_a_tax_included_shop() -> None:
    from ondigital_connect.sandbox.shopify_render import money
    from ondigital_connect.simulate import SimulatedBusiness

    business = SimulatedBusiness(orders=600, seed=3)
    order = next(o for o in business.orders() if any(r.shipping_shop for r in o.refunds))
    query = """query($id: ID!) { order(id: $id) { taxesIncluded refunds {
        totalRefundedSet { shopMoney { amount } presentmentMoney { amount } }
        refundShippingLines(first: 5) { nodes { subtotalAmountSet { shopMoney { amount } } } }
        refundLineItems(first: 10) { nodes {
          subtotalSet { shopMoney { amount } presentmentMoney { amount } }
          totalTaxSet { shopMoney { amount } } } } } } }"""
    with ShopifySandbox(business, plan="unlimited", max_query_cost=None) as sb:
        got = data_of(sb, query, {"id": f"gid://shopify/Order/{order.order_id}"})["order"]
    assert got["taxesIncluded"] is True  # Nordic prices include VAT
    for refund, sim in zip(got["refunds"], order.refunds, strict=True):
        lines = refund["refundLineItems"]["nodes"]
        assert [n["subtotalSet"]["shopMoney"]["amount"] for n in lines] == [
            money(rl.subtotal_shop + rl.tax_shop) for rl in sim.lines]
        assert [n["subtotalSet"]["presentmentMoney"]["amount"] for n in lines] == [
            money(rl.subtotal_presentment + rl.tax_presentment) for rl in sim.lines]
        assert [n["totalTaxSet"]["shopMoney"]["amount"] for n in lines] == [
            money(rl.tax_shop) for rl in sim.lines]
        goods = sum(Decimal(n["subtotalSet"]["shopMoney"]["amount"]) for n in lines)
        shipping = sum(Decimal(n["subtotalAmountSet"]["shopMoney"]["amount"])
                       for n in refund["refundShippingLines"]["nodes"])
        assert goods + shipping == Decimal(refund["totalRefundedSet"]["shopMoney"]["amount"])


def test_order_and_refund_by_id_are_found_by_id_arithmetic_not_a_scan() -> None:
    from ondigital_connect.simulate import REFUND_ID_BASE, SimulatedBusiness

    business = SimulatedBusiness(orders=20_000, seed=3)
    order = next(o for o in (business.order(i) for i in range(15_000, 15_400))
                 if len(o.refunds) == 1)
    built, calls = business.order, []

    def counted(index: int, **kw: Any) -> Any:
        calls.append(index)
        return built(index, **kw)
    business.order = counted  # type: ignore[method-assign]
    refund_query = "query($id: ID!) { refund(id: $id) { id order { id } } }"
    order_query = "query($id: ID!) { order(id: $id) { id } }"
    refund_id = order.refunds[0].refund_id
    with ShopifySandbox(business, plan="unlimited", max_query_cost=None) as sb:
        assert data_of(sb, refund_query, {"id": f"gid://shopify/Refund/{refund_id}"}) == {
            "refund": {"id": f"gid://shopify/Refund/{refund_id}",
                       "order": {"id": f"gid://shopify/Order/{order.order_id}"}}}
        assert len(calls) <= 2
        missing = REFUND_ID_BASE + 2 * order.index + 1  # its second refund: there is none
        assert data_of(sb, refund_query, {"id": f"gid://shopify/Refund/{missing}"}) == {
            "refund": None}
        beyond = REFUND_ID_BASE + 2 * business.n_orders
        assert data_of(sb, refund_query, {"id": f"gid://shopify/Refund/{beyond}"}) == {
            "refund": None}
        assert len(calls) < 300  # the id scheme was checked on a few orders, nothing scanned
        calls.clear()
        other = business.order(16_000).order_id
        assert data_of(sb, order_query, {"id": f"gid://shopify/Order/{other}"}) == {
            "order": {"id": f"gid://shopify/Order/{other}"}}
        for absent in (other + business.n_orders, 12):
            assert data_of(sb, order_query, {"id": f"gid://shopify/Order/{absent}"}) == {
                "order": None}
        assert len(calls) < 10
        assert sb.server_errors == []


def test_as_of_moves_time_and_a_late_refund_appears(sandbox: ShopifySandbox) -> None:
    query = """query($id: ID!) { order(id: $id) { updatedAt displayFinancialStatus
        totalRefundedSet { shopMoney { amount } } refunds { id createdAt } } }"""
    six = {"id": f"gid://shopify/Order/{order_id(6)}"}
    sandbox.as_of = EARLY
    before = data_of(sandbox, query, six)["order"]
    assert before["refunds"] == [] and before["displayFinancialStatus"] == "PAID"
    since = f"updated_at:>'{EARLY:%Y-%m-%dT%H:%M:%SZ}'"
    assert [n for p in _all_pages(sandbox, 5, since) for n in p["nodes"]] == []
    sandbox.as_of = NOW
    after = data_of(sandbox, query, six)["order"]
    assert after["refunds"] == [{"id": "gid://shopify/Refund/5060",
                                 "createdAt": "2026-10-15T09:30:00Z"}]
    assert after["updatedAt"] == "2026-10-15T09:30:00Z"
    assert after["displayFinancialStatus"] == "REFUNDED"
    assert after["totalRefundedSet"]["shopMoney"]["amount"] == "149.0"
    changed = [n for p in _all_pages(sandbox, 5, since) for n in p["nodes"]]
    assert changed == [{"id": f"gid://shopify/Order/{order_id(6)}"}]
    assert LATE_REFUND > EARLY


def test_customers_variants_inventory_and_locations(sandbox: ShopifySandbox) -> None:
    customers = data_of(sandbox, """{ customers(first: 10, sortKey: UPDATED_AT) { nodes { id
        numberOfOrders emailMarketingConsent { marketingState } } } }""")["customers"]["nodes"]
    assert [c["id"] for c in customers] == [f"gid://shopify/Customer/{n}" for n in (1, 2, 3)]
    assert customers[0] == {"id": "gid://shopify/Customer/1", "numberOfOrders": "3",
                            "emailMarketingConsent": {"marketingState": "SUBSCRIBED"}}
    variants = data_of(sandbox, """{ productVariants(first: 2, sortKey: ID) { nodes { id price
        inventoryItem { inventoryLevels(first: 1) { pageInfo { hasNextPage } nodes {
        location { name } quantities(names: ["available", "on_hand"]) { name quantity }
        } } } } } }""")["productVariants"]["nodes"]
    assert variants[0]["price"] == "100.0"
    levels = variants[0]["inventoryItem"]["inventoryLevels"]
    assert levels["pageInfo"]["hasNextPage"] is True
    assert levels["nodes"] == [{"location": {"name": "Main Warehouse"}, "quantities": [
        {"name": "available", "quantity": 9}, {"name": "on_hand", "quantity": 10}]}]
    locations = data_of(sandbox, "{ locations(first: 5) { nodes { id name } } }")
    assert locations["locations"]["nodes"][1] == {"id": "gid://shopify/Location/502",
                                                  "name": "City Store"}


# -- errors ---------------------------------------------------------------------------------
def test_wrong_or_missing_token_is_401(sandbox: ShopifySandbox) -> None:
    for token in ("shpat_wrong", ""):
        reply = post(sandbox, "{ shop { name } }", token=token)
        assert reply.status_code == 401 and reply.json() == AUTH_BODY


def test_unknown_version_is_404_and_get_is_405(sandbox: ShopifySandbox) -> None:
    assert post(sandbox, "{ shop { name } }", version="2019-04").status_code == 404
    reply = requests.get(sandbox.graphql_url(), headers={"X-Shopify-Access-Token": "x"},
                         timeout=5)
    assert reply.status_code == 405 and "errors" in reply.json()
    assert post(sandbox, "{ shop { name } }", version="2026-07").status_code == 200


def test_an_unknown_field_gets_shopifys_undefined_field_error(sandbox: ShopifySandbox) -> None:
    body = post(sandbox, "query Orders {\n  orders(first: 1) { nodes { id foo } }\n}").json()
    assert body == {"errors": [{
        "message": "Field 'foo' doesn't exist on type 'Order'",
        "locations": [{"line": 2, "column": 33}],
        "path": ["query Orders", "orders", "nodes", "foo"],
        "extensions": {"code": "undefinedField", "typeName": "Order", "fieldName": "foo"}}]}


def test_bad_bodies_and_variables(sandbox: ShopifySandbox) -> None:
    reply = requests.post(sandbox.graphql_url(), data=b"{not json",
                          headers={"X-Shopify-Access-Token": sandbox.token}, timeout=5)
    assert reply.status_code == 400
    body = post(sandbox, "query($id: ID!) { order(id: $id) { id } }").json()
    assert body["errors"][0]["message"] == "Variable $id of type ID! was provided invalid value"
    body = post(sandbox, "{ orders(first: 1) { nodes { lineItems { nodes { id } } } } }").json()
    assert body["errors"][0]["message"] == "you must provide one of first or last"


# -- cost and throttling ----------------------------------------------------------------------
COST_QUERY = """{ shop { name } orders(first: 3) { edges { node { id
  totalPriceSet { shopMoney { amount } } lineItems(first: 4) { nodes { id } }
  refunds(first: 2) { id } } } } }"""


def test_cost_numbers_for_a_known_query(fake: FakeBusiness) -> None:
    clock = Clock()
    with ShopifySandbox(fake, plan="standard", clock=clock) as sb:
        cost = post(sb, COST_QUERY).json()["extensions"]["cost"]
    # requested: shop 1 + orders 2 + 3 x (order 1 + totalPriceSet 1 + shopMoney 1
    #   + lineItems (2 + 4 x 1) + refunds 2 x 1) = 1 + 2 + 3 x 11 = 36
    # actual (orders 0, 1, 2 by id: 1, 2 and 12 lines, order 2 has one refund):
    #   1 + 2 + (1+2+2+1) + (1+2+2+2) + (1+2+2+4+1) = 26
    assert cost == {"requestedQueryCost": 36, "actualQueryCost": 26, "throttleStatus": {
        "maximumAvailable": 2000.0, "currentlyAvailable": 1974, "restoreRate": 100.0}}


def test_throttled_when_the_bucket_is_empty_and_recovers_after_restore() -> None:
    from ondigital_connect.simulate import SimulatedBusiness

    clock = Clock()
    business = SimulatedBusiness(orders=600, seed=5, lines_per_order=3)
    query = "{ orders(first: 250) { nodes { id lineItems(first: 3) { nodes { id } } } } }"
    with ShopifySandbox(business, plan="standard", max_query_cost=None, clock=clock) as sb:
        first = post(sb, query).json()
        assert first["extensions"]["cost"]["requestedQueryCost"] == 2 + 250 * (1 + 2 + 3)
        assert first["extensions"]["cost"]["actualQueryCost"] == 1502
        assert first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 498
        throttled = post(sb, query).json()
        assert "data" not in throttled
        assert throttled["errors"] == [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
        assert throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 498
        clock.now += 10.0  # +1000 points: 1498 < 1502
        again = post(sb, query).json()
        assert again["errors"][0]["message"] == "Throttled"
        assert again["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1498
        clock.now += 0.05  # 1503: enough
        recovered = post(sb, query).json()
        assert recovered["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1
        assert sb.requests.count(status=200) == 4


def test_max_cost_exceeded_is_refused_before_running(fake: FakeBusiness) -> None:
    with ShopifySandbox(fake, plan="standard", clock=Clock()) as sb:
        query = "{ orders(first: 250) { nodes { id lineItems(first: 5) { nodes { id } } } } }"
        body = post(sb, query).json()
        assert body["errors"] == [{
            "message": "Query cost is 2002, which exceeds the single query max cost limit "
                       "(1000).",
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 2002, "maxCost": 1000}}]
        assert "data" not in body
        assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000


# -- faults ---------------------------------------------------------------------------------
SHOP_QUERY = "{ shop { name } }"


@pytest.mark.parametrize(("kind", "status", "ctype"), [
    ("http_500", 500, "application/json"), ("http_502", 502, "text/html"),
    ("http_503", 503, "application/json"), ("html_200", 200, "text/html"),
    ("auth_401", 401, "application/json"),
])
def test_status_faults_fire_once_after_n_requests(sandbox: ShopifySandbox, kind: str,
                                                  status: int, ctype: str) -> None:
    sandbox.faults.add(kind, after=2)
    replies = [post(sandbox, SHOP_QUERY) for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 200, status, 200]
    assert replies[2].headers["Content-Type"].startswith(ctype)
    assert replies[3].json()["data"]["shop"]["name"] == "Fake Shop"
    if kind == "html_200":
        assert replies[2].text.startswith("<!DOCTYPE html>")
    if kind == "auth_401":
        assert replies[2].json() == AUTH_BODY
    assert [f.kind for f in sandbox.faults.fired] == [kind] and sandbox.faults.pending == []
    assert [r.fault for r in sandbox.requests] == [None, None, kind, None]


def test_http_429_has_retry_after_and_shopifys_body(sandbox: ShopifySandbox) -> None:
    sandbox.faults.add("http_429", retry_after=1.5, times=2)
    replies = [post(sandbox, SHOP_QUERY) for _ in range(3)]
    assert [r.status_code for r in replies] == [429, 429, 200]
    assert replies[0].headers["Retry-After"] == "1.5"
    assert replies[0].json() == {"errors": "Exceeded 2 calls per second for api client. Reduce "
                                           "request rates to resume uninterrupted service."}


def test_throttled_fault_reports_less_available_than_requested(
        sandbox: ShopifySandbox) -> None:
    sandbox.faults.add("throttled")
    body = post(sandbox, COST_QUERY).json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED" and "data" not in body
    cost = body["extensions"]["cost"]
    assert cost["throttleStatus"]["currentlyAvailable"] < cost["requestedQueryCost"] == 36
    assert "data" in post(sandbox, COST_QUERY).json()


def test_truncated_json_cuts_the_body_with_a_matching_content_length(
        sandbox: ShopifySandbox) -> None:
    full = post(sandbox, COST_QUERY).content
    sandbox.faults.add("truncated_json")
    reply = post(sandbox, COST_QUERY)
    assert reply.status_code == 200
    assert int(reply.headers["Content-Length"]) == len(reply.content) < len(full)
    assert full.startswith(reply.content[:20]) and reply.content.startswith(b'{"data":')
    with pytest.raises(ValueError, match="."):
        json.loads(reply.content)


def test_slow_answers_late_and_drop_closes_the_connection(sandbox: ShopifySandbox) -> None:
    sandbox.faults.add("slow", seconds=1.0)
    with pytest.raises(requests.Timeout):
        post(sandbox, SHOP_QUERY, timeout=0.3)
    sandbox.faults.add("drop")
    with pytest.raises(requests.ConnectionError):
        post(sandbox, SHOP_QUERY)
    assert post(sandbox, SHOP_QUERY).status_code == 200


def test_a_fault_can_target_one_root_field(sandbox: ShopifySandbox) -> None:
    sandbox.faults.add("http_503", match="customers", after=1)
    customers = "{ customers(first: 1) { nodes { id } } }"
    assert post(sandbox, customers).status_code == 200
    assert post(sandbox, SHOP_QUERY).status_code == 200  # not counted: no customers field
    assert post(sandbox, ORDERS_PAGE, {"first": 1}).status_code == 200
    assert post(sandbox, customers).status_code == 503
    assert post(sandbox, customers).status_code == 200


def test_duplicate_across_pages_repeats_the_previous_last_node(
        sandbox: ShopifySandbox) -> None:
    first = data_of(sandbox, ORDERS_PAGE, {"first": 3})["orders"]
    sandbox.faults.add("duplicate_across_pages")
    second = data_of(sandbox, ORDERS_PAGE, {"first": 3, "after": first["pageInfo"]["endCursor"]})
    assert second["orders"]["nodes"][0] == first["nodes"][-1]
    third = data_of(sandbox, ORDERS_PAGE, {"first": 3, "after": first["pageInfo"]["endCursor"]})
    assert third["orders"]["nodes"][0] != first["nodes"][-1]


def test_fault_arguments_are_checked(sandbox: ShopifySandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        sandbox.faults.add("explode")
    with pytest.raises(ValueError, match="times"):
        sandbox.faults.add("drop", times=0)


# -- overrides ------------------------------------------------------------------------------
ORDER_QUERY = """query($id: ID!) { order(id: $id) { id name updatedAt
  totalPriceSet { shopMoney { amount currencyCode } } refunds { id } } }"""


def test_patches_add_unknown_fields_break_types_and_remove_keys(sandbox: ShopifySandbox) -> None:
    target = order_id(3)
    sandbox.overrides.patch(target, {"giftMessage": "hi", "name": Overrides.REMOVE,
                                     "totalPriceSet": {"shopMoney": {"amount": "abc"}}})
    sandbox.overrides.patch(target, lambda node: {**node, "extra": 1}, times=1)
    order = data_of(sandbox, ORDER_QUERY, {"id": f"gid://shopify/Order/{target}"})["order"]
    assert order["giftMessage"] == "hi" and "name" not in order and order["extra"] == 1
    assert order["totalPriceSet"] == {"shopMoney": {"amount": "abc", "currencyCode": "SEK"}}
    listed = data_of(sandbox, ORDERS_PAGE, {"first": 12})["orders"]["edges"]
    patched = [e["node"] for e in listed if e["node"]["id"].endswith(str(target))]
    assert patched[0]["giftMessage"] == "hi" and "extra" not in patched[0]
    assert all("giftMessage" not in e["node"] for e in listed if e["node"] is not patched[0])
    sandbox.overrides.clear(target)
    assert "giftMessage" not in data_of(sandbox, ORDER_QUERY,
                                        {"id": f"gid://shopify/Order/{target}"})["order"]


def test_a_stale_version_is_served_in_graphql_and_rest(sandbox: ShopifySandbox) -> None:
    target = order_id(2)
    old = T0 + dt.timedelta(hours=5)
    sandbox.overrides.stale_version(target, updated_at=old, factor=Decimal("0.5"), times=2)
    stale = data_of(sandbox, ORDER_QUERY, {"id": f"gid://shopify/Order/{target}"})["order"]
    assert stale["updatedAt"] == "2026-10-01T13:00:00Z" and stale["refunds"] == []
    assert stale["totalPriceSet"]["shopMoney"]["amount"] == "924.5"  # (1800 + 49) / 2
    rest = requests.get(f"{sandbox.rest_url()}?status=any&limit=250",
                        headers={"X-Shopify-Access-Token": sandbox.token}, timeout=5).json()
    row = next(o for o in rest["orders"] if o["id"] == target)
    assert row["total_price"] == "924.50" and row["updated_at"] == "2026-10-01T15:00:00+02:00"
    fresh = data_of(sandbox, ORDER_QUERY, {"id": f"gid://shopify/Order/{target}"})["order"]
    assert fresh["totalPriceSet"]["shopMoney"]["amount"] == "1849.0"
    assert fresh["refunds"] == [{"id": "gid://shopify/Refund/5020"}]


# -- REST orders.json -------------------------------------------------------------------------
def _rest(sb: ShopifySandbox, url: str) -> requests.Response:
    return requests.get(url, headers={"X-Shopify-Access-Token": sb.token}, timeout=5)


def _links(reply: requests.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"',
                                                reply.headers.get("Link", ""))}


def test_rest_orders_follow_link_headers_to_the_last_page(fake: FakeBusiness) -> None:
    with ShopifySandbox(fake, plan="standard", clock=Clock()) as sb:
        url = f"{sb.rest_url()}?limit=5&status=any&updated_at_min=2026-10-01T00:00:00Z"
        pages, replies = [], []
        while url:
            reply = _rest(sb, url)
            assert reply.status_code == 200
            replies.append(reply)
            pages.append(reply.json()["orders"])
            url = _links(reply).get("next")
        assert [len(p) for p in pages] == [5, 5, 2]
        assert [o["id"] for p in pages for o in p] == [order_id(i)
                                                       for i in ORDERS_BY_UPDATED_NOW]
        assert [r.headers["X-Shopify-Shop-Api-Call-Limit"] for r in replies] == [
            "1/40", "2/40", "3/40"]
        next_url = _links(replies[0])["next"]
        assert re.fullmatch(r".*/orders\.json\?limit=5&page_info=[\w-]+", next_url)
        assert set(_links(replies[0])) == {"next"} and set(_links(replies[2])) == {"previous"}
        back = _rest(sb, _links(replies[2])["previous"]).json()["orders"]
        assert [o["id"] for o in back] == [o["id"] for o in pages[1]]
        first = pages[0][0]
        assert first["created_at"] == "2026-10-01T10:00:00+02:00"
        assert first["total_price"] == "149.00" and first["financial_status"] == "paid"
        assert first["total_price_set"]["shop_money"] == {"amount": "149.00",
                                                          "currency_code": "SEK"}
        assert first["line_items"][0]["price"] == "100.00"
        refunded = next(o for p in pages for o in p if o["id"] == order_id(2))
        assert len(refunded["refunds"][0]["refund_line_items"]) == 12
        default = _rest(sb, sb.rest_url() + "?limit=250").json()["orders"]
        assert order_id(7) not in [o["id"] for o in default]  # status defaults to open


def test_rest_bucket_gives_429_when_full_and_leaks(fake: FakeBusiness) -> None:
    clock = Clock()
    with ShopifySandbox(fake, plan="standard", clock=clock) as sb:
        url = sb.rest_url() + "?limit=1&fields=id,updated_at"
        statuses = [_rest(sb, url).status_code for _ in range(40)]
        assert statuses == [200] * 40
        refused = _rest(sb, url)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "2.0"
        assert refused.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
        clock.now += 0.5  # one request leaks out
        ok = _rest(sb, url)
        assert ok.status_code == 200 and ok.json()["orders"][0].keys() == {"id", "updated_at"}
    with ShopifySandbox(fake, plan="unlimited", clock=clock) as sb:
        assert all(_rest(sb, sb.rest_url()).status_code == 200 for _ in range(45))


# -- the server -----------------------------------------------------------------------------
def test_keep_alive_request_log_and_restart(fake: FakeBusiness) -> None:
    sb = ShopifySandbox(fake, plan="unlimited")
    with pytest.raises(RuntimeError):
        _ = sb.url
    sb.start()
    try:
        session = requests.Session()
        for _ in range(3):
            reply = session.post(sb.graphql_url(), json={"query": SHOP_QUERY},
                                 headers={"X-Shopify-Access-Token": sb.token}, timeout=5)
            assert reply.raw.version == 11 and reply.headers["Content-Length"]
        assert len(sb.requests) == 3 and sb.requests[0].api == "graphql"
        assert sb.requests.count(status=200, root_fields=("shop",)) == 3
        assert sb.server_errors == []
    finally:
        sb.stop()
    with pytest.raises(requests.ConnectionError):
        requests.post(f"http://127.0.0.1:{reply.url.split(':')[2].split('/')[0]}/", timeout=2)


def test_real_business_pages_match_the_simulation_in_graphql_and_rest() -> None:
    import numpy as np

    from ondigital_connect.sandbox.shopify_render import money
    from ondigital_connect.simulate import SimulatedBusiness

    business = SimulatedBusiness(orders=1500, seed=11)
    updated = business.updated_at_us()
    rows = [int(r) for r in np.lexsort((np.arange(len(updated)), updated)) if updated[r] >= 0]
    expected = [business.order(r) for r in rows]
    query = """query($after: String) { orders(first: 250, after: $after, sortKey: UPDATED_AT) {
        pageInfo { hasNextPage endCursor } nodes { id updatedAt
        totalPriceSet { shopMoney { amount } } lineItems(first: 50) { nodes { id } } } } }"""
    with ShopifySandbox(business, plan="unlimited", max_query_cost=None) as sb:
        nodes, after = [], None
        while True:
            conn = data_of(sb, query, {"after": after})["orders"]
            nodes += conn["nodes"]
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
        url = f"{sb.rest_url()}?limit=250&status=any"
        rest = []
        while url:
            reply = _rest(sb, url)
            rest += [o["id"] for o in reply.json()["orders"]]
            url = _links(reply).get("next")
    assert [gid_num(n["id"]) for n in nodes] == [o.order_id for o in expected] == rest
    for node, order in zip(nodes, expected, strict=True):
        assert node["totalPriceSet"]["shopMoney"]["amount"] == money(order.total_shop)
        assert [gid_num(n["id"]) for n in node["lineItems"]["nodes"]] == [
            line.line_id for line in order.lines]
