"""Compiles the object selections of a query into generated projection code (dicts or text)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql.language import FieldNode

from ondigital_connect.sandbox.shopify_checks import (
    CompilerBase,
    Projector,
    Var,
    memo_lookup,
    memoized,
    order_projector,
    subst,
)
from ondigital_connect.sandbox.shopify_cost import CostNode
from ondigital_connect.sandbox.shopify_emit import DICT, TEXT_GLOBALS, DictEmit, Piece, TextEmit
from ondigital_connect.sandbox.shopify_render import TYPES
from ondigital_connect.sandbox.shopify_values import Env, FieldDef


class ObjectCompiler(CompilerBase):
    """Objects, scalars and lists of one query, emitted by ``emit`` (dicts or JSON text)."""

    def __init__(self, document: Any, emit: DictEmit | TextEmit = DICT) -> None:
        super().__init__(document)
        self.emit = emit
        if emit.text:
            self.gen.ns.update(TEXT_GLOBALS)

    def _nested_connection(self, fdef: FieldDef, key: str, nodes: list[FieldNode], args: dict,
                           path: list) -> tuple[Projector, CostNode]:
        raise NotImplementedError

    def _object_fn(self, type_name: str, nodes: list[FieldNode],
                   path: list) -> tuple[Projector, tuple[CostNode, ...]]:
        expr, costs = self._object_expr(type_name, nodes, path, "s")
        project = self.gen.function(expr)
        if type_name == "Order" and not self.emit.text:
            return order_projector(project), costs
        return project, costs

    def _object_expr(self, type_name: str, nodes: list[FieldNode], path: list,
                     var: Var) -> tuple[str, tuple[CostNode, ...]]:
        fields = self._collect(type_name, [n.selection_set for n in nodes])
        parts: list[tuple[str, Piece]] = []
        costs = []
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                parts.append((key, self.emit.literal(type_name)))
                continue
            fdef = TYPES[type_name].get(name)
            if fdef is None:
                self._undefined(type_name, field_nodes[0], path)
                continue
            piece, cost = self._field(fdef, key, field_nodes, [*path, name], var)
            parts.append((key, piece))
            if cost is not None:
                costs.append(cost)
        return self.emit.obj(parts), tuple(costs)

    def _source(self, fdef: FieldDef, var: Var) -> str:
        if fdef.expr is not None:
            return subst(fdef.expr, var)
        return f"{self.gen.bind(fdef.resolve)}({subst('$', var)}, e)"

    def _field(self, fdef: FieldDef, key: str, nodes: list[FieldNode], path: list,
               var: Var) -> tuple[Piece, CostNode | None]:
        shown = f"{fdef.type}Connection" if fdef.kind == "connection" else fdef.type
        args = self._args(nodes[0], fdef.args, path[:-1])
        if not self._shape_check(fdef.kind, shown, nodes[0], path[:-1]):
            return ("lit", "null") if self.emit.text else ("json", "None"), None
        if fdef.kind == "scalar":
            return self.emit.scalar(self._source(fdef, var), fdef), None
        if fdef.kind == "list" and not fdef.takes_args:
            return self._inline_list(fdef, key, nodes, args, path, var)
        if fdef.kind in ("connection", "list"):
            make = self._nested_connection if fdef.kind == "connection" else self._list
            fn, cost = make(fdef, key, nodes, args, path)
            return ("json", f"{self.gen.bind(fn)}({subst('$', var)}, e)"), cost
        code, cost = self._object(fdef, key, nodes, path, var)
        return ("json", code), cost

    def _object(self, fdef: FieldDef, key: str, nodes: list[FieldNode], path: list,
                var: Var) -> tuple[str, CostNode]:
        if fdef.parts is not None:
            child, children = self._object_expr(
                fdef.type, nodes, path, tuple(subst(p, var) for p in fdef.parts))
            return child, CostNode(key, "object", None, children, fixed=True)
        if fdef.expr == "$" and isinstance(var, str):
            child, children = self._object_expr(fdef.type, nodes, path, var)
            return child, CostNode(key, "object", None, children, fixed=True)
        if fdef.type == "Order" or fdef.memo:
            return self._object_call(fdef, key, nodes, path, var)
        temp = self.gen.name("_t")
        child, children = self._object_expr(fdef.type, nodes, path, temp)
        cost = CostNode(key, "object", None, children, fixed=not fdef.nullable)
        return (f"({self.emit.null} if ({temp} := {self._source(fdef, var)}) is None "
                f"else {self.emit.present(cost, child)})", cost)

    def _object_call(self, fdef: FieldDef, key: str, nodes: list[FieldNode], path: list,
                     var: Var) -> tuple[str, CostNode]:
        """An object rendered by its own function: an Order (patchable) or a memoised one."""
        sub, children = self._object_fn(fdef.type, nodes, path)
        temp = self.gen.name("_t")
        cost = CostNode(key, "object", None, children, fixed=not fdef.nullable)
        call = f"{self.gen.bind(sub)}({temp}, e)"
        if fdef.memo and getattr(sub, "pure", False):
            sub = memoized(sub)
            call = memo_lookup(self.gen.bind(sub.memo), self.gen.bind(sub), temp)
        return (f"({self.emit.null} if ({temp} := {self._source(fdef, var)}) is None "
                f"else {self.emit.present(cost, call)})", cost)

    def _inline_list(self, fdef: FieldDef, key: str, nodes: list[FieldNode], args: dict,
                     path: list, var: Var) -> tuple[Piece, CostNode]:
        first = args.get("first")
        if fdef.expr == "($,)" and first is None:  # exactly one item: the source itself
            child, children = self._object_expr(fdef.type, nodes, path, var)
            return self.emit.single(child), CostNode(key, "list", None, children, fixed=True)
        temp = self.gen.name("_t")
        child, children = self._object_expr(fdef.type, nodes, path, temp)
        cut = ""
        if first is not None:
            self._size_check(first, nodes[0], path)
            cut = f"[:{self.gen.bind(first)}(e.variables)]"
        cost = CostNode(key, "list", first, children)
        return ("json", self.emit.items(cost, child, temp, f"{self._source(fdef, var)}{cut}")), cost

    def _list(self, fdef: FieldDef, key: str, nodes: list[FieldNode], args: dict,
              path: list) -> tuple[Projector, CostNode]:
        sub, children = self._object_fn(fdef.type, nodes, path)
        cost = CostNode(key, "list", args.get("first"), children)
        resolve, first, join = _resolver(fdef, args), args.get("first"), self.emit.joiner(cost)

        def many(src: Any, env: Env) -> Any:
            items = resolve(src, env)
            if first is not None:
                size = first(env.variables)
                items = items[:size] if isinstance(size, int) else items
            return join(env, [sub(item, env) for item in items])
        return many, cost


def _resolver(fdef: FieldDef, args: dict) -> Callable[[Any, Env], Any]:
    if not fdef.takes_args:
        return fdef.resolve
    values, plain = tuple(args.items()), fdef.resolve

    def resolve(src: Any, env: Env) -> Any:
        return plain(src, env, {n: g(env.variables) for n, g in values})
    return resolve
