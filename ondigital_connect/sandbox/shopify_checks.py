"""Shared parts of the query compiler: errors, selections, argument checks, generated code."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import graphql
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    VariableNode,
)

from ondigital_connect.sandbox.shopify_emit import Template
from ondigital_connect.sandbox.shopify_render import EXPR_GLOBALS, TYPES
from ondigital_connect.sandbox.shopify_values import Env

MAX_PAGE = 250
Projector = Callable[[Any, Env], Any]


class QueryFailure(Exception):
    """The query cannot be answered; ``errors`` is Shopify's ``errors`` list."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors[0]["message"] if errors else "query failed")
        self.errors = errors


def error(message: str, locations: list[dict] | None, path: list | None,
          extensions: dict | None) -> dict:
    """One entry of a GraphQL ``errors`` list (keys only when they have values)."""
    out: dict[str, Any] = {"message": message}
    if locations:
        out["locations"] = locations
    if path is not None:
        out["path"] = path
    if extensions:
        out["extensions"] = extensions
    return out


def _has_variable(value: Node) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, graphql.ListValueNode):
        return any(_has_variable(v) for v in value.values)
    if isinstance(value, graphql.ObjectValueNode):
        return any(_has_variable(f.value) for f in value.fields)
    return False


def arg_getter(value: Node) -> Callable[[dict], Any]:
    """Reads an argument's value from the request's variables (constants are folded)."""
    if isinstance(value, VariableNode):
        name = value.name.value
        return lambda variables: variables.get(name)
    if _has_variable(value):
        return lambda variables: graphql.value_from_ast_untyped(value, variables)
    constant = graphql.value_from_ast_untyped(value)
    return lambda variables: constant


Var = str | tuple[str, ...]  # a variable name, or the element expressions of a tuple source
_INDEX = re.compile(r"\$\[(\d+)\]")


def subst(template: str, var: Var) -> str:
    """``template`` with ``$`` standing for ``var`` (``$[i]`` picks a tuple source's element)."""
    if isinstance(var, str):
        return "(" + template.replace("$", var) + ")"
    text = _INDEX.sub(lambda m: var[int(m.group(1))], template)
    if "$" in text:
        text = text.replace("$", "(" + ", ".join(var) + ",)")
    return "(" + text + ")"


def order_projector(base: Projector) -> Projector:
    """An Order projection with the order's patches applied (to a private copy of the node).

    Only the dict projections apply patches: a query is rendered as text only while no patch
    is armed (see :func:`shopify_execute.run_query`).
    """
    def project(order: Any, env: Env) -> dict:
        node = base(order, env)
        if env.overrides.has_patch(order.order_id):
            node = env.overrides.apply(order.order_id, _copy(node))
        return node
    return project


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value (memoised sub-objects are shared between answers)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


MEMO_LIMIT = 100_000
_IMPURE = re.compile(r"\be\b(?!\.(?:shop|store)\.)")


def memoized(project: Projector) -> Projector:
    """``project`` rendered once per source object and store (sources: catalogue items).

    ``remembered.memo`` maps ``id(src)`` to ``(src, store, node)``; generated code may look a
    node up there itself and call ``remembered`` only on a miss.
    """
    memo: dict[int, tuple[Any, Any, Any]] = {}

    def remembered(src: Any, env: Env) -> Any:
        hit = memo.get(id(src))
        if hit is not None and hit[0] is src and hit[1] is env.store:
            return hit[2]
        node = project(src, env)
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[id(src)] = (src, env.store, node)  # keeps ``src`` alive: its id is not reused
        return node
    remembered.memo = memo  # type: ignore[attr-defined]
    return remembered


def memo_lookup(memo: str, fn: str, temp: str) -> str:
    """Generated code of a memoised call (``memo``/``fn`` bound names, ``temp`` the source)."""
    return (f"(_h[2] if (_h := {memo}.get(id({temp}))) is not None and _h[0] is {temp} "
            f"and _h[1] is e.store else {fn}({temp}, e))")


_HOISTABLE = re.compile(r":=|\b_r\d|\b_t\d|tally|\b_tl")


def _hoisted(expr: str) -> tuple[str, str]:
    """A text projection's repeated side-effect-free arguments, computed once up front."""
    if not isinstance(expr, Template):
        return "", expr
    seen: dict[str, int] = {}
    for arg in expr.args:
        seen[arg] = seen.get(arg, 0) + 1
    names = {arg: f"_v{i}" for i, arg in enumerate(a for a, n in seen.items()
                                                   if n > 1 and not _HOISTABLE.search(a))}
    if not names:
        return "", expr
    prologue = "".join(f"    {name} = {arg}\n" for arg, name in names.items())
    return prologue, Template(expr.template, [names.get(a, a) for a in expr.args])


class Gen:
    """Generated projection code of one query: its namespace and fresh names.

    Only the templates of :mod:`shopify_render`, our own names and ``repr`` of response keys
    (GraphQL names) are ever put into the generated source.
    """

    def __init__(self) -> None:
        self.ns: dict[str, Any] = dict(EXPR_GLOBALS)
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def bind(self, value: Any) -> str:
        name = self.name("_r")
        self.ns[name] = value
        return name

    def function(self, expr: str) -> Projector:
        name = self.name("_p")
        prologue, body = _hoisted(expr)
        code = compile(f"def {name}(s, e):\n{prologue}    return {body}\n",
                       "<sandbox-projection>", "exec")
        exec(code, self.ns)  # noqa: S102 - source built from our own templates only
        fn = self.ns[name]
        fn.pure = _IMPURE.search(expr) is None  # reads only its source, the shop and the store
        return fn


class CompilerBase:
    """Validation and selection handling shared by the compiler (Shopify's error shapes)."""

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.source = document.loc.source if document.loc else None
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, graphql.FragmentDefinitionNode)}
        self.errors: list[dict] = []
        self.checks: list[Callable[[dict], dict | None]] = []
        self.label = "query"
        self.gen = Gen()

    def _operation(self, name: str | None) -> OperationDefinitionNode:
        ops = [d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [op for op in ops if name is None or (op.name and op.name.value == name)]
        if not chosen:
            raise QueryFailure([error(f'No operation named "{name}"', None, None, None)])
        if len(chosen) > 1:
            raise QueryFailure([error("An operation name is required", None, None, None)])
        if chosen[0].operation.value != "query":
            raise QueryFailure([error(
                f"The sandbox serves queries only, not {chosen[0].operation.value}s",
                self._loc(chosen[0]), None, None)])
        return chosen[0]

    def _variables(self, op: OperationDefinitionNode) -> tuple[dict, list]:
        defaults, required = {}, []
        for var in op.variable_definitions or ():
            name = var.variable.name.value
            if var.default_value is not None:
                defaults[name] = graphql.value_from_ast_untyped(var.default_value)
            elif isinstance(var.type, graphql.NonNullTypeNode):
                required.append((name, graphql.print_ast(var.type), self._loc(var)[0]))
        return defaults, required

    def _loc(self, node: Node) -> list[dict]:
        if node.loc is None or self.source is None:
            return []
        where = graphql.language.get_location(self.source, node.loc.start)
        return [{"line": where.line, "column": where.column}]

    def _collect(self, type_name: str, selection_sets: list) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect_into(type_name, selection_set, fields)
        return fields

    def _collect_into(self, type_name: str, selection_set: Any, fields: dict) -> None:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                fields.setdefault(key, []).append(sel)
                continue
            if isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is None:
                    self.errors.append(error(
                        f"Fragment {sel.name.value} was used, but not defined", self._loc(sel),
                        None, {"code": "useAndDefineFragment", "fragmentName": sel.name.value}))
                    continue
                condition, inner = frag.type_condition, frag.selection_set
            elif isinstance(sel, InlineFragmentNode):
                condition, inner = sel.type_condition, sel.selection_set
            else:
                continue
            cond = condition.name.value if condition else None
            if cond is None or cond == type_name or cond not in TYPES:
                self._collect_into(type_name, inner, fields)

    def _undefined(self, type_name: str, node: FieldNode, path: list) -> None:
        name = node.name.value
        self.errors.append(error(
            f"Field '{name}' doesn't exist on type '{type_name}'", self._loc(node),
            [self.label, *path, name],
            {"code": "undefinedField", "typeName": type_name, "fieldName": name}))

    def _args(self, node: FieldNode, accepted: tuple[str, ...], path: list) -> dict:
        getters = {}
        for arg in node.arguments or ():
            if arg.name.value not in accepted:
                self.errors.append(error(
                    f"Field '{node.name.value}' doesn't accept argument '{arg.name.value}'",
                    self._loc(arg), [self.label, *path, node.name.value, arg.name.value],
                    {"code": "argumentNotAccepted", "name": node.name.value,
                     "typeName": "Field", "argumentName": arg.name.value}))
                continue
            getters[arg.name.value] = arg_getter(arg.value)
        return getters

    def _shape_check(self, fdef_kind: str, type_name: str, node: FieldNode, path: list) -> bool:
        has_sel = bool(node.selection_set and node.selection_set.selections)
        name = node.name.value
        if fdef_kind == "scalar" and has_sel:
            self.errors.append(error(
                f"Selections can't be made on scalars (field '{name}' returns {type_name} "
                "but has selections [...])", self._loc(node), [self.label, *path, name],
                {"code": "selectionMismatch", "nodeName": f"field '{name}'",
                 "typeName": type_name}))
            return False
        if fdef_kind != "scalar" and not has_sel:
            self.errors.append(error(
                f"Field must have selections (field '{name}' returns {type_name} but has no "
                f"selections. Did you mean '{name} {{ ... }}'?)", self._loc(node),
                [self.label, *path, name],
                {"code": "selectionMismatch", "nodeName": f"field '{name}'",
                 "typeName": type_name}))
            return False
        return True

    def _size_check(self, first: Callable[[dict], Any], node: FieldNode, path: list) -> None:
        where, at = self._loc(node), [self.label, *path]

        def check(variables: dict) -> dict | None:
            size = first(variables)
            if size is None or (isinstance(size, int) and not isinstance(size, bool)
                                and size >= 0):
                return None
            return error(f"Argument 'first' on Field '{path[-1]}' has an invalid value "
                         f"({size}). Expected type 'Int'.", where, at, None)
        self.checks.append(check)

    def _page_check(self, args: dict, node: FieldNode, path: list) -> None:
        first, last = args.get("first"), args.get("last") or args.get("before")
        where, at = self._loc(node), [self.label, *path]

        def check(variables: dict) -> dict | None:
            size = first(variables) if first else None
            if last is not None and last(variables) is not None:
                return error("The sandbox paginates forwards only: use first/after, "
                             "not last/before.", where, at, None)
            if size is None:
                return error("you must provide one of first or last", where, at, None)
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                return error(f"Argument 'first' on Field '{path[-1]}' has an invalid value "
                             f"({size}). Expected type 'Int'.", where, at, None)
            if size > MAX_PAGE:
                return error(f"The first argument of '{path[-1]}' must be at most {MAX_PAGE} "
                             f"(got {size}).", where, at, None)
            return None
        self.checks.append(check)
