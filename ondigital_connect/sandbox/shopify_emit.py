"""How generated projections emit values: as dicts and lists, or straight as JSON text.

The dict emitter is the reference (patched orders, cost walks).  The text emitter renders each
object as one ``%``-template filled with already-encoded JSON values, byte-for-byte what
``orjson.dumps`` would write for the dicts, and counts the actual query cost while rendering:
whoever decides that an object is there (a null check, a list, a connection) adds the object's
fixed cost (``1`` plus its never-null descendants) to ``env.tally``.

Text is held as the UTF-8 *bytes* of the JSON spelled as latin-1 characters (``"ä"`` is the two
characters ``"\\xc3\\xa4"``): every escaper below returns that form, so an order's text is
turned into its bytes by a plain copy (``.encode("latin-1")``) instead of a UTF-8 encoding.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

import orjson

from ondigital_connect.sandbox.shopify_cost import CostNode
from ondigital_connect.sandbox.shopify_data import encode_cursor
from ondigital_connect.sandbox.shopify_memo import memoised
from ondigital_connect.sandbox.shopify_values import FieldDef

#: A field's generated value: ("json", code of JSON text) | ("raw", code of a str that needs no
#: escaping, written quoted) | ("lit", JSON text) | ("arr", code of one item's JSON text).
Piece = tuple[str, str]
_QUOTED = frozenset({"ID", "DateTime", "Decimal", "Money", "UnsignedInt64"})
_NEVER_NONE = ("f'", "money(", "str(")  # templates of those types that always give a str
ESCAPE_LIMIT = 16_384


class TextUnsupported(Exception):
    """The query needs the dict projection (its cost cannot be tallied while rendering)."""


def k_of(node: CostNode) -> int:
    """The fixed part of one present object's cost: itself and its never-null descendants."""
    return 1 + sum(k_of(child) for child in node.children if child.fixed)


class Template(str):
    """The code of one object's JSON text (``template % (args,)``), kept splittable so a
    never-null child is spliced into its parent's template instead of formatted apart."""

    template: str
    args: tuple[str, ...]

    def __new__(cls, template: str, args: list[str]) -> Template:
        code = repr(template.replace("%%", "%")) if not args else (
            f"({template!r} % ({', '.join(args)},))")
        made = super().__new__(cls, code)
        made.template, made.args = template, tuple(args)
        return made


class DictEmit:
    """Emits projections that build dicts and lists."""

    text = False
    null = "None"

    @staticmethod
    def scalar(code: str, fdef: FieldDef) -> Piece:
        return ("json", code)

    @staticmethod
    def literal(value: Any) -> Piece:
        return ("json", repr(value))

    @staticmethod
    def obj(fields: list[tuple[str, Piece]]) -> str:
        return "{" + ", ".join(f"{key!r}: {_dict_code(piece)}" for key, piece in fields) + "}"

    @staticmethod
    def present(node: CostNode, code: str) -> str:
        return code

    @staticmethod
    def items(node: CostNode, item: str, temp: str, source: str) -> str:
        return f"[{item} for {temp} in {source}]"

    @staticmethod
    def single(item: str) -> Piece:
        return ("json", f"[{item}]")

    @staticmethod
    def joiner(node: CostNode) -> Callable[[Any, list], Any]:
        return _as_is


def _dict_code(piece: Piece) -> str:
    return f"[{piece[1]}]" if piece[0] == "arr" else piece[1]


class TextEmit:
    """Emits projections that return the JSON text of each value (and tally its cost)."""

    text = True
    null = "'null'"

    @staticmethod
    def scalar(code: str, fdef: FieldDef) -> Piece:
        if fdef.expr is not None and "$" not in fdef.expr:
            try:
                return ("lit", _j(ast.literal_eval(fdef.expr)))
            except (ValueError, SyntaxError, orjson.JSONEncodeError):
                pass
        if fdef.type in _QUOTED:
            if fdef.expr is not None and fdef.expr.startswith(_NEVER_NONE):
                return ("raw", _fstring_template(code) or _inline_money(code) or code)
            if fdef.expr is not None and fdef.expr.startswith("iso(") and code.startswith(
                    "(iso("):
                return ("json", f"(iso_json({code[5:]}")  # "(iso(x))" -> "(iso_json(x))"
            return ("json", f"_q({code})")
        formatter = {"Boolean": "_b", "Int": "_n", "Float": "_j", "URL": "_u"}.get(fdef.type)
        return ("json", f"{formatter}({code})" if formatter else f"_E[{code}]")

    @staticmethod
    def literal(value: Any) -> Piece:
        return ("lit", _j(value))

    @staticmethod
    def obj(fields: list[tuple[str, Piece]]) -> str:
        template: list[str] = []
        args: list[str] = []
        for key, (kind, code) in fields:
            head = _j(key) + ":"
            if kind == "lit":
                template.append(head + code.replace("%", "%%"))
            elif isinstance(code, Template):  # spliced: a never-null object, an id's pieces
                wrap = {"arr": "[%s]", "raw": '"%s"'}.get(kind, "%s")
                template.append(head + wrap % code.template)
                args += code.args
            else:
                template.append(head + {"raw": '"%s"', "arr": "[%s]"}.get(kind, "%s"))
                args.append(code)
        return Template("{" + ",".join(template) + "}", args)

    @staticmethod
    def present(node: CostNode, code: str) -> str:
        return code if node.fixed else f"(e.tally.append({k_of(node)}) or {code})"

    @staticmethod
    def items(node: CostNode, item: str, temp: str, source: str) -> str:
        many = f"{temp}l"  # an empty list (most refunds, fulfillments) skips the comprehension
        return (f"('[]' if not ({many} := {source}) else "
                f"{_list_fn(node)}(e, {k_of(node)}, [{item} for {temp} in {many}]))")

    @staticmethod
    def single(item: str) -> Piece:
        return ("arr", item)

    @staticmethod
    def joiner(node: CostNode) -> Callable[[Any, list], Any]:
        fn, k = TEXT_GLOBALS[_list_fn(node)], k_of(node)
        return lambda env, parts: fn(env, k, parts)


def _as_is(env: Any, items: list) -> list:
    return items


def _list_fn(node: CostNode) -> str:
    """The text list joiner for a list node (an unsized one must have alike items)."""
    if node.first is not None:
        return "_tl"
    if any(not child.fixed for child in node.children):
        raise TextUnsupported("an unsized list costs as its first item only")
    return "_tl1"


DICT = DictEmit()
TEXT = TextEmit()


def _fstring_template(code: str) -> Template | None:
    """An f-string of plain ``{value}`` fields (an id) as a template to splice, if it is one."""
    try:
        node = ast.parse(code, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.JoinedStr):
        return None
    template, args = [], []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str) and (
                part.value.isascii() and encode_basestring(part.value)[1:-1] == part.value):
            template.append(part.value.replace("%", "%%"))
        elif (isinstance(part, ast.FormattedValue) and part.conversion == -1
              and part.format_spec is None):
            template.append("%s")  # str(value), as the f-string's format(value, "")
            args.append(f"({ast.get_source_segment(code, part.value)})")
        else:
            return None
    return Template("".join(template), args)


def _inline_money(code: str) -> str | None:
    """``money(x)`` with its two-decimal fast path inlined (no call for nearly all amounts)."""
    try:
        node = ast.parse(code, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "money" and len(node.args) == 1 and not node.keywords):
        return None
    arg = ast.get_source_segment(code, node.args[0])
    return (f'(str(_m).removesuffix("0") if (_m := ({arg})).same_quantum(_CENT) '
            f"else money(_m))")


def _j(value: Any) -> str:
    """Any JSON value as orjson writes it (UTF-8 bytes as latin-1 characters)."""
    return orjson.dumps(value).decode("latin-1")


def _latin(text: str) -> str:
    return text if text.isascii() else text.encode().decode("latin-1")


class _Escaped(dict):
    """A string-like scalar -> its JSON text (``_E[value]``; strings memoised on first use)."""

    def __missing__(self, value: Any) -> str:
        if value.__class__ is not str:
            return _j(value)
        if len(self) > ESCAPE_LIMIT:
            self.clear()
            self[None] = "null"
        text = self[value] = _latin(encode_basestring(value))
        return text


_E = _Escaped({None: "null"})


def _u(value: Any) -> str:
    """A mostly unique string (URLs): escaped, not memoised."""
    if value.__class__ is str:
        return _latin(encode_basestring(value))
    return _E[value]


def _q(value: str | None) -> str:
    """One of our own formatted strings (ids, timestamps, amounts): quoted, no escaping."""
    return "null" if value is None else f'"{value}"'


def _b(value: Any) -> str:
    return "true" if value is True else "false" if value is False else _j(value)


def _n(value: Any) -> str:
    return str(value) if value.__class__ is int else _j(value)


def _tl(env: Any, k: int, parts: list[str]) -> str:
    """A sized list: every item costs ``k`` (plus what its own parts tallied)."""
    env.tally.append(k * len(parts))
    return "[" + ",".join(parts) + "]"


def _tl1(env: Any, k: int, parts: list[str]) -> str:
    """An unsized list: costs as its first item (the items are all alike)."""
    if parts:
        env.tally.append(k)
    return "[" + ",".join(parts) + "]"


TEXT_GLOBALS: dict[str, Any] = {"_j": _j, "_E": _E, "_u": _u, "_q": _q, "_b": _b, "_n": _n,
                                "_tl": _tl, "_tl1": _tl1}


def text_connection_builder(parts: tuple, k: int, counted: bool, *, root: bool = False,
                            nested: tuple | None = None) -> Callable[..., Any]:
    """The JSON text of a connection page (edges/nodes/pageInfo as selected), cost tallied.

    At the root it is a dict of ``orjson.Fragment`` values instead, one per node: no giant
    intermediate string (whose buffers would cost page faults on every page).  ``nested``
    ``(resolve, first, key_of)`` makes it the whole field of a nested connection without
    ``after``/``reverse``: ``connection(source, env)`` pages the items itself.
    """
    ns: dict[str, Any] = {"_q": _q, "_list": _list, "_F": fragment}
    cursor = "cursor_of({})" if nested is None else "_cursor(items, {})"
    fields: list[tuple[str, Piece]] = []
    wrap, many = ("_F", "") if root else ("", "_list")
    for i, (key, kind, detail) in enumerate(parts):
        ns[f"_d{i}"] = memoised(detail) if root and kind == "nodes" else detail
        if kind == "nodes":
            fields.append((key, ("json", f"{many}([{wrap}(_d{i}(x, env)) for x in items])")))
        elif kind == "edges":
            fields.append((key, ("json", f"{many}([{wrap}({_edge_text(detail, i, cursor)}) "
                                         "for n, x in enumerate(items)])")))
        elif kind == "pageInfo":
            info = TextEmit.obj(_page_info_pieces(detail, cursor))
            fields.append((key, ("json", f"{wrap}({info})")))
        else:
            fields.append((key, DICT.literal(detail) if root else TextEmit.literal(detail)))
    each = f" + {k} * len(items)" if counted else ""
    body = DICT.obj(fields) if root else TextEmit.obj(fields)
    head = "def build(items, cursor_of, has_next, has_prev, env):\n"
    if nested is not None:
        ns["_resolve"], ns["_first"], ns["_cursor"] = nested[0], nested[1], _cursor(nested[2])
        head = ("def build(s, env):\n    whole = _resolve(s, env)\n"
                "    size = _first(env.variables)\n    items = whole[:size]\n"
                "    has_next, has_prev = size < len(whole), False\n")
    source = f"{head}    env.tally.append(2{each})\n    return {body}\n"
    exec(compile(source, "<sandbox-connection>", "exec"), ns)  # noqa: S102 - our templates
    return ns["build"]


def _cursor(key_of: Callable[[Any], int]) -> Callable[[list, int], str]:
    """A nested connection's cursor of ``items[i]`` (its id twice, as the dict path does)."""
    def cursor(items: list, i: int) -> str:
        k = key_of(items[i])
        return encode_cursor(k, k)
    return cursor


def fragment(text: str) -> orjson.Fragment:
    """A rendered text as the bytes it stands for, to embed in ``orjson.dumps``."""
    return orjson.Fragment(text.encode("latin-1"))


def _list(parts: list[str]) -> str:
    return "[" + ",".join(parts) + "]"


def _edge_text(detail: tuple, i: int, cursor: str) -> str:
    fields: list[tuple[str, Piece]] = []
    for j, (key, kind, sub) in enumerate(detail):
        if kind == "node":
            fields.append((key, ("json", f"_d{i}[{j}][2](x, env)")))
        elif kind == "cursor":
            fields.append((key, ("raw", cursor.format("n"))))
        else:
            fields.append((key, TextEmit.literal(sub)))
    return TextEmit.obj(fields)


def _page_info_pieces(detail: tuple, cursor: str) -> list[tuple[str, Piece]]:
    first, last = cursor.format("0"), cursor.format("len(items) - 1")
    code = {
        "hasNextPage": ("json", "('true' if has_next else 'false')"),
        "hasPreviousPage": ("json", "('true' if has_prev else 'false')"),
        "startCursor": ("json", f"(_q({first}) if items else 'null')"),
        "endCursor": ("json", f"(_q({last}) if items else 'null')"),
    }
    return [(key, code.get(name, ("lit", '"PageInfo"'))) for key, name in detail]
