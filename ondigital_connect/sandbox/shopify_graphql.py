"""Compiles a Shopify Admin GraphQL query once into projection closures, then runs it fast."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import graphql
from graphql.language import FieldNode

from ondigital_connect.sandbox.shopify_checks import (
    CompilerBase,
    Projector,
    QueryFailure,
    Var,
    error,
    order_projector,
    subst,
)
from ondigital_connect.sandbox.shopify_cost import CostNode, compile_actual
from ondigital_connect.sandbox.shopify_data import LRU, encode_cursor
from ondigital_connect.sandbox.shopify_render import TYPES, Env, FieldDef
from ondigital_connect.sandbox.shopify_roots import (
    ROOT,
    RootDef,
    RootFailure,
    connection_builder,
    page_of_root,
    position_after,
)

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
        return _Compiler(document).compile(operation_name)
    except QueryFailure as exc:
        return exc


class _Compiler(CompilerBase):
    """Walks one operation's selections into generated projections, a cost tree and checks."""

    def compile(self, operation_name: str | None) -> Compiled:
        op = self._operation(operation_name)
        self.label = f"query {op.name.value}" if op.name else "query"
        fields = self._collect("QueryRoot", [op.selection_set])
        compiled = [self._root(key, nodes) for key, nodes in fields.items()]
        if self.errors:
            raise QueryFailure(self.errors)
        runners = tuple((key, run) for key, run, _ in compiled)
        defaults, required = self._variables(op)
        costs = tuple(cost for _, _, cost in compiled if cost is not None)
        return Compiled(
            op.name.value if op.name else None,
            frozenset(nodes[0].name.value for nodes in fields.values()),
            functools.partial(_run_all, runners), costs, tuple(self.checks),
            compile_actual(costs), defaults, tuple(required))

    def _object_fn(self, type_name: str, nodes: list[FieldNode],
                   path: list) -> tuple[Projector, tuple[CostNode, ...]]:
        expr, costs = self._object_expr(type_name, nodes, path, "s")
        project = self.gen.function(expr)
        return (order_projector(project) if type_name == "Order" else project), costs

    def _object_expr(self, type_name: str, nodes: list[FieldNode], path: list,
                     var: Var) -> tuple[str, tuple[CostNode, ...]]:
        fields = self._collect(type_name, [n.selection_set for n in nodes])
        parts, costs = [], []
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                parts.append(f"{key!r}: {type_name!r}")
                continue
            fdef = TYPES[type_name].get(name)
            if fdef is None:
                self._undefined(type_name, field_nodes[0], path)
                continue
            code, cost = self._field(fdef, key, field_nodes, [*path, name], var)
            parts.append(f"{key!r}: {code}")
            if cost is not None:
                costs.append(cost)
        return "{" + ", ".join(parts) + "}", tuple(costs)

    def _source(self, fdef: FieldDef, var: Var) -> str:
        if fdef.expr is not None:
            return subst(fdef.expr, var)
        return f"{self.gen.bind(fdef.resolve)}({subst('$', var)}, e)"

    def _field(self, fdef: FieldDef, key: str, nodes: list[FieldNode], path: list,
               var: Var) -> tuple[str, CostNode | None]:
        shown = f"{fdef.type}Connection" if fdef.kind == "connection" else fdef.type
        args = self._args(nodes[0], fdef.args, path[:-1])
        if not self._shape_check(fdef.kind, shown, nodes[0], path[:-1]):
            return "None", None
        if fdef.kind == "scalar":
            return self._source(fdef, var), None
        if fdef.kind == "list" and not fdef.takes_args:
            return self._inline_list(fdef, key, nodes, args, path, var)
        if fdef.kind in ("connection", "list"):
            make = self._nested_connection if fdef.kind == "connection" else self._list
            fn, cost = make(fdef, key, nodes, args, path)
            return f"{self.gen.bind(fn)}({subst('$', var)}, e)", cost
        if fdef.parts is not None:
            child, children = self._object_expr(
                fdef.type, nodes, path, tuple(subst(p, var) for p in fdef.parts))
            return child, CostNode(key, "object", None, children)
        if fdef.type == "Order":
            sub, children = self._object_fn(fdef.type, nodes, path)
            temp = self.gen.name("_t")
            return (f"(None if ({temp} := {self._source(fdef, var)}) is None "
                    f"else {self.gen.bind(sub)}({temp}, e))",
                    CostNode(key, "object", None, children))
        if fdef.expr == "$" and isinstance(var, str):
            child, children = self._object_expr(fdef.type, nodes, path, var)
            return child, CostNode(key, "object", None, children)
        temp = self.gen.name("_t")
        child, children = self._object_expr(fdef.type, nodes, path, temp)
        return (f"(None if ({temp} := {self._source(fdef, var)}) is None else {child})",
                CostNode(key, "object", None, children))

    def _inline_list(self, fdef: FieldDef, key: str, nodes: list[FieldNode], args: dict,
                     path: list, var: Var) -> tuple[str, CostNode]:
        temp = self.gen.name("_t")
        child, children = self._object_expr(fdef.type, nodes, path, temp)
        first = args.get("first")
        cut = ""
        if first is not None:
            self._size_check(first, nodes[0], path)
            cut = f"[:{self.gen.bind(first)}(e.variables)]"
        code = f"[{child} for {temp} in {self._source(fdef, var)}{cut}]"
        return code, CostNode(key, "list", first, children)

    def _list(self, fdef: FieldDef, key: str, nodes: list[FieldNode], args: dict,
              path: list) -> tuple[Projector, CostNode]:
        sub, children = self._object_fn(fdef.type, nodes, path)
        resolve, first = fdef.resolve, args.get("first")
        if fdef.takes_args:
            values, plain = tuple(args.items()), fdef.resolve

            def resolve(src: Any, env: Env) -> Any:
                return plain(src, env, {n: g(env.variables) for n, g in values})

        def many(src: Any, env: Env) -> list:
            items = resolve(src, env)
            if first is not None:
                size = first(env.variables)
                items = items[:size] if isinstance(size, int) else items
            return [sub(item, env) for item in items]
        return many, CostNode(key, "list", first, children)

    def _connection_parts(self, type_name: str, nodes: list[FieldNode],
                          path: list) -> tuple[Callable[..., dict], tuple[CostNode, ...], tuple]:
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
        return connection_builder(tuple(parts)), tuple(costs), tuple(paths)

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
        build, children, paths = self._connection_parts(fdef.type, nodes, path)
        resolve, key_of = fdef.resolve, fdef.key
        first, after, reverse = args.get("first"), args.get("after"), args.get("reverse")
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

        def run(env: Env) -> Any:
            values = {n: g(env.variables) for n, g in getters}
            value = root.resolve(env, values, where, at)
            return None if value is None else sub(value, env)
        return key, run, CostNode(key, "object", None, children)

    def _root_connection(self, root: RootDef, key: str, nodes: list[FieldNode],
                         args: dict) -> tuple[str, Callable, CostNode]:
        name = nodes[0].name.value
        self._page_check(args, nodes[0], [name])
        build, children, paths = self._connection_parts(root.type, nodes, [name])
        getters = tuple(args.items())
        where, at = self._loc(nodes[0]), [self.label, name]

        def run(env: Env) -> dict:
            values = {n: g(env.variables) for n, g in getters}
            items, page = page_of_root(root, env, values, where, at)
            return build(items, page.cursor, page.has_next, page.has_previous, env)
        return key, run, CostNode(key, "connection", args.get("first"), children, paths)


def _run_all(runners: tuple, env: Env) -> dict:
    try:
        return {key: run(env) for key, run in runners}
    except RootFailure as exc:
        raise QueryFailure([exc.error]) from None
