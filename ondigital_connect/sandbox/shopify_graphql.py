"""Compiles a Shopify Admin GraphQL query once into projection code, then runs it fast.

Each query is compiled twice: to dict projections (the reference: patched orders, generic cost
walk) and, when its cost can be tallied while rendering, to JSON-text projections that the
answers use otherwise (see :mod:`shopify_emit`); both give byte-identical answers.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import graphql
from graphql.language import FieldNode

from ondigital_connect.sandbox.shopify_checks import Projector, QueryFailure, error
from ondigital_connect.sandbox.shopify_cost import CostNode, compile_actual
from ondigital_connect.sandbox.shopify_data import LRU, encode_cursor
from ondigital_connect.sandbox.shopify_emit import (
    TEXT,
    TextUnsupported,
    fragment,
    k_of,
    text_connection_builder,
)
from ondigital_connect.sandbox.shopify_objects import ObjectCompiler
from ondigital_connect.sandbox.shopify_roots import (
    ROOT,
    RootDef,
    RootFailure,
    connection_builder,
    page_of_root,
    position_after,
)
from ondigital_connect.sandbox.shopify_values import Env, FieldDef

__all__ = ["Compiled", "QueryFailure", "compile_query"]
_PAGE_INFO = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})


@dataclass(frozen=True, slots=True)
class Compiled:
    """A query compiled for one operation: run it with an :class:`Env`."""

    name: str | None
    root_fields: frozenset[str]
    run: Callable[[Env], dict]
    cost_nodes: tuple[CostNode, ...]
    checks: tuple[Callable[[dict], dict | None], ...]
    actual: Callable[[object], int]  # actual cost of a returned ``data``
    defaults: dict
    required: tuple[tuple[str, str, dict], ...]  # (variable, type, location)
    run_text: Callable[[Env], dict] | None = None  # JSON-text rendering, tallies ``env.tally``

    def variables(self, given: dict | None) -> dict:
        """Defaults merged with the given variables; raises QueryFailure on a missing one."""
        values = {**self.defaults, **(given or {})}
        errors = [error(f"Variable ${name} of type {type_} was provided invalid value",
                        [loc], None, {"value": None, "problems": [
                            {"path": [], "explanation": "Expected value to not be null"}]})
                  for name, type_, loc in self.required if values.get(name) is None]
        errors += [e for check in self.checks if (e := check(values)) is not None]
        if errors:
            raise QueryFailure(errors)
        return values


_CACHE = LRU(256)


def compile_query(query: str, operation_name: str | None = None) -> Compiled:
    """Parse and compile (cached per query string and operation); raises QueryFailure."""
    key = (query, operation_name)
    result = _CACHE.get_or_make(key, lambda: _compile_or_error(query, operation_name))
    if isinstance(result, QueryFailure):
        raise result
    return result


def _compile_or_error(query: str, operation_name: str | None) -> Compiled | QueryFailure:
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError as exc:
        locations = [{"line": loc.line, "column": loc.column} for loc in exc.locations or ()]
        return QueryFailure([error(exc.message, locations, None, None)])
    try:
        compiled = _Compiler(document).compile(operation_name)
    except QueryFailure as exc:
        return exc
    try:
        run_text = _Compiler(document, TEXT).runner(operation_name)
    except TextUnsupported:
        return compiled
    return dataclasses.replace(compiled, run_text=run_text)


class _Compiler(ObjectCompiler):
    """Walks one operation's selections into generated projections, a cost tree and checks."""

    def _roots(self, operation_name: str | None) -> tuple[Any, dict, list]:
        op = self._operation(operation_name)
        self.label = f"query {op.name.value}" if op.name else "query"
        fields = self._collect("QueryRoot", [op.selection_set])
        compiled = [self._root(key, nodes) for key, nodes in fields.items()]
        if self.errors:
            raise QueryFailure(self.errors)
        return op, fields, compiled

    def compile(self, operation_name: str | None) -> Compiled:
        op, fields, compiled = self._roots(operation_name)
        runners = tuple((key, run) for key, run, _ in compiled)
        defaults, required = self._variables(op)
        costs = tuple(cost for _, _, cost in compiled if cost is not None)
        return Compiled(
            op.name.value if op.name else None,
            frozenset(nodes[0].name.value for nodes in fields.values()),
            functools.partial(_run_all, runners), costs, tuple(self.checks),
            compile_actual(costs), defaults, tuple(required))

    def runner(self, operation_name: str | None) -> Callable[[Env], dict]:
        """The run function alone (for the text emitter)."""
        _, _, compiled = self._roots(operation_name)
        return functools.partial(_run_all, tuple((key, run) for key, run, _ in compiled))

    def _connection_parts(self, type_name: str, nodes: list[FieldNode], path: list,
                          nested: tuple | None = None,
                          ) -> tuple[Callable[..., Any], tuple[CostNode, ...], tuple]:
        conn = f"{type_name}Connection"
        fields = self._collect(conn, [n.selection_set for n in nodes])
        parts, costs, paths = [], [], []
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "nodes":
                sub, children = self._object_fn(type_name, field_nodes, [*path, name])
                parts.append((key, "nodes", sub))
                costs.extend(children)
                paths.append((key,))
            elif name == "edges":
                detail, children, node_key = self._edge_parts(type_name, field_nodes,
                                                              [*path, name])
                parts.append((key, "edges", detail))
                costs.extend(children)
                if node_key:
                    paths.append((key, node_key))
            elif name == "pageInfo":
                page_fields = self._collect("PageInfo", [n.selection_set for n in field_nodes])
                for pnodes in page_fields.values():
                    if pnodes[0].name.value not in _PAGE_INFO | {"__typename"}:
                        self._undefined("PageInfo", pnodes[0], [*path, name])
                parts.append((key, "pageInfo", tuple(
                    (pk, pn[0].name.value) for pk, pn in page_fields.items())))
            elif name == "__typename":
                parts.append((key, "typename", conn))
            else:
                self._undefined(conn, field_nodes[0], path)
        built = self._builder(tuple(parts), tuple(costs), tuple(paths), not path[:-1], nested)
        return built, tuple(costs), tuple(paths)

    def _builder(self, parts: tuple, costs: tuple[CostNode, ...], paths: tuple, root: bool,
                 nested: tuple | None) -> Callable[..., Any]:
        if not self.emit.text:
            return connection_builder(parts)
        if len(paths) > 1:
            raise TextUnsupported("a connection whose items are selected twice")
        k = k_of(CostNode("", "connection", None, costs))
        return text_connection_builder(parts, k, bool(paths), root=root, nested=nested)

    def _edge_parts(self, type_name: str, nodes: list[FieldNode],
                    path: list) -> tuple[tuple, tuple[CostNode, ...], str | None]:
        edge = f"{type_name}Edge"
        fields = self._collect(edge, [n.selection_set for n in nodes])
        detail, costs, node_key = [], (), None
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "node":
                sub, costs = self._object_fn(type_name, field_nodes, [*path, name])
                detail.append((key, "node", sub))
                node_key = key
            elif name == "cursor":
                detail.append((key, "cursor", None))
            elif name == "__typename":
                detail.append((key, "typename", edge))
            else:
                self._undefined(edge, field_nodes[0], path)
        return tuple(detail), costs, node_key

    def _nested_connection(self, fdef: FieldDef, key: str, nodes: list[FieldNode], args: dict,
                           path: list) -> tuple[Projector, CostNode]:
        self._page_check(args, nodes[0], path)
        resolve, key_of = fdef.resolve, fdef.key
        first, after, reverse = args.get("first"), args.get("after"), args.get("reverse")
        if self.emit.text and after is None and reverse is None:  # pages itself, no closure
            build, children, paths = self._connection_parts(
                fdef.type, nodes, path, (resolve, first, key_of))
            return build, CostNode(key, "connection", first, children, paths)
        build, children, paths = self._connection_parts(fdef.type, nodes, path)
        where, at = self._loc(nodes[0]), [self.label, *path]

        def connection(src: Any, env: Env) -> dict:
            items = resolve(src, env)
            variables = env.variables
            if reverse is not None and reverse(variables):
                items = items[::-1]
            start, cursor = 0, after(variables) if after else None
            if cursor:
                start = position_after(items, key_of, cursor, where, at)
            size = first(variables)
            page = items[start:start + size]

            def cursor_of(i: int) -> str:
                k = key_of(page[i])
                return encode_cursor(k, k)
            return build(page, cursor_of, start + size < len(items), start > 0, env)
        return connection, CostNode(key, "connection", first, children, paths)

    def _root(self, key: str, nodes: list[FieldNode]) -> tuple[str, Callable, CostNode | None]:
        node = nodes[0]
        name = node.name.value
        if name == "__typename":
            return key, lambda env: "QueryRoot", None
        root = ROOT.get(name)
        if root is None:
            self._undefined("QueryRoot", node, [])
            return key, lambda env: None, None
        args = self._args(node, root.args, [])
        shown = f"{root.type}Connection" if root.kind == "connection" else root.type
        if not self._shape_check(root.kind, shown, node, []):
            return key, lambda env: None, None
        if root.kind == "connection":
            return self._root_connection(root, key, nodes, args)
        sub, children = self._object_fn(root.type, nodes, [name])
        getters = tuple(args.items())
        where, at = self._loc(node), [self.label, name]

        cost = CostNode(key, "object", None, children)
        k, text = k_of(cost), self.emit.text

        def run(env: Env) -> Any:
            values = {n: g(env.variables) for n, g in getters}
            value = root.resolve(env, values, where, at)
            if value is None:
                return None
            if text:
                env.tally.append(k)
                return fragment(sub(value, env))
            return sub(value, env)
        return key, run, cost

    def _root_connection(self, root: RootDef, key: str, nodes: list[FieldNode],
                         args: dict) -> tuple[str, Callable, CostNode]:
        name = nodes[0].name.value
        self._page_check(args, nodes[0], [name])
        build, children, paths = self._connection_parts(root.type, nodes, [name])
        getters = tuple(args.items())
        where, at = self._loc(nodes[0]), [self.label, name]

        def run(env: Env) -> Any:
            values = {n: g(env.variables) for n, g in getters}
            items, page = page_of_root(root, env, values, where, at)
            return build(items, page.cursor, page.has_next, page.has_previous, env)
        return key, run, CostNode(key, "connection", args.get("first"), children, paths)


def _run_all(runners: tuple, env: Env) -> dict:
    try:
        return {key: run(env) for key, run in runners}
    except RootFailure as exc:
        raise QueryFailure([exc.error]) from None
