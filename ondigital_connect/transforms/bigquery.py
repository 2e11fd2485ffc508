"""DuckDB transform SQL rendered for BigQuery: sqlglot for the portable parts, rules for the rest.

sqlglot parses the DuckDB statement and generates BigQuery's SQL; explicit rules (one function
each, below) first rewrite what the two engines treat differently, and a final check refuses
anything no rule has reviewed. So a statement renders faithfully or not at all: a ConfigError
names the statement and the construct.

The BigQuery rules, and why each is needed (sqlglot alone gets these wrong or passes them on):

- ``?`` parameters become ``@name`` (the caller names each, in order).
- Money: DuckDB's DECIMAL(38, 9) is BigQuery's NUMERIC, whose precision and scale are fixed at
  38 and 9 (a CAST may not name them); any other DECIMAL is refused, never widened or narrowed.
- ``CAST(timezone(zone, ts) AS DATE)`` (a shop-local date) is ``DATE(ts, zone)``.
- ``regexp_full_match(v, 'p')`` is ``REGEXP_CONTAINS(v, '^(?:p)$')``; ``regexp_extract`` must
  sit in ``coalesce(..., '')`` (DuckDB gives '' for no match, BigQuery NULL); ``regexp_replace``
  without DuckDB's ``'g'`` flag replaces one match, so its pattern must be anchored at ``^``.
- ``LIKE ... ESCAPE '\\'``: backslash is BigQuery's only LIKE escape, so the clause goes.
- ``arg_max``/``arg_min`` ignore rows whose value or key is NULL: ``ARRAY_AGG(... IGNORE
  NULLS ORDER BY key LIMIT 1)[SAFE_OFFSET(0)]`` over non-NULL keys only.
- ``GROUP BY ALL`` lists the ordinals of the non-aggregate columns.
- ``INSERT INTO t BY NAME SELECT ...`` names the SELECT's columns.
- ``now()`` is ``CURRENT_TIMESTAMP()``.
- ``a / b`` is floating division on DuckDB even for DECIMALs (1/0 is infinity), as is
  ``IEEE_DIVIDE(a, b)``; BigQuery's own ``/`` keeps NUMERIC and fails on zero.
- ``ASOF LEFT JOIN t x ON x.k = k AND x.d <= day`` (no BigQuery equivalent) is a range join on a
  table that records where each row's validity ends (:data:`ASOF_UNTIL`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError
from sqlglot.tokens import TokenType

from ondigital_connect.errors import ConfigError
from ondigital_connect.transforms.dialect import local_date

#: as-of joined table -> (the key its rows are dated per, their date column, the column
#: holding the date the key's next row starts)
ASOF_UNTIL = {"_fx": ("currency", "rate_date", "next_date")}
_BIGQUERY_TYPES = {exp.DType.VARCHAR, exp.DType.TEXT, exp.DType.BIGINT, exp.DType.INT,
                   exp.DType.DOUBLE, exp.DType.BOOLEAN, exp.DType.DATE, exp.DType.TIMESTAMPTZ,
                   exp.DType.DECIMAL}
#: what sqlglot does with a construct it cannot write for BigQuery: refuse it
UNSUPPORTED = ErrorLevel.RAISE
_ARG_BY = "ARRAY_AGG(IF(:by IS NULL, NULL, :value) IGNORE NULLS ORDER BY :by {order} LIMIT 1)"


def _snippet(node: exp.Expr) -> str:
    """A node's BigQuery SQL, cut to 80 characters for an error message."""
    text = node.sql("bigquery")
    return text if len(text) <= 80 else f"{text[:77]}..."


def _refuse(name: str, why: str) -> ConfigError:
    """The error for statement ``name`` that cannot be rendered, and why."""
    return ConfigError(f"transform statement {name!r} cannot be rendered for BigQuery: {why}")


def render(sql: str, *, name: str, params: Sequence[str] = (), pretty: bool = False) -> str:
    """DuckDB ``sql`` (its ``?`` parameters named by ``params``, in order) as BigQuery SQL,
    with ``@name`` parameters; a ConfigError naming ``name`` says what cannot be rendered."""
    tree = _parse(_named_parameters(sql, params, name), name)
    for rule in RULES:
        tree = rule(tree, name)
    try:
        out = tree.sql("bigquery", pretty=pretty, unsupported_level=UNSUPPORTED)
    except UnsupportedError as exc:
        raise _refuse(name, str(exc).splitlines()[0]) from None
    check(out, name)
    return out


def _parse(sql: str, name: str, read: str = "duckdb") -> exp.Expr:
    """``sql`` parsed by sqlglot; a ConfigError naming the statement if it cannot be."""
    try:
        return sqlglot.parse_one(sql, read=read)
    except ParseError as exc:
        raise _refuse(name, f"sqlglot cannot parse it ({str(exc).splitlines()[0]})") from None


def _named_parameters(sql: str, params: Sequence[str], name: str) -> str:
    """``?`` -> ``$param`` (DuckDB's named form, which sqlglot writes as BigQuery's ``@``)."""
    marks = [t for t in sqlglot.tokenize(sql, read="duckdb")
             if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    if len(marks) != len(params):
        raise _refuse(name, f"it binds {len(marks)} values but {len(params)} are named")
    for token, param in reversed(list(zip(marks, params, strict=True))):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", param):
            raise _refuse(name, f"{param!r} is not a parameter name")
        sql = f"{sql[:token.start]}${param}{sql[token.end + 1:]}"
    return sql


def _asof_joins(tree: exp.Expr, name: str) -> exp.Expr:
    """``ASOF LEFT JOIN t x ON x.k = k AND x.d <= day`` -> ``LEFT JOIN t x ON ... AND
    (x.until IS NULL OR day < x.until)``, exact when ``t`` holds one row per key and day."""
    for join in tree.find_all(exp.Join):
        if join.args.get("method") != "ASOF":
            continue
        table, alias = join.this.name, join.this.alias_or_name
        on = join.args.get("on")
        if (join.side != "LEFT" or table not in ASOF_UNTIL or not isinstance(on, exp.And)
                or not isinstance(on.this, exp.EQ) or not isinstance(on.expression, exp.LTE)):
            raise _refuse(name, f"the as-of join on {table} is not one of the known forms")
        key, since, until = ASOF_UNTIL[table]
        if (on.this.this.sql(), on.expression.this.sql()) != (f"{alias}.{key}",
                                                               f"{alias}.{since}"):
            raise _refuse(name, f"the as-of join on {table} must be ON {alias}.{key} = ... AND "
                                f"{alias}.{since} <= day")
        day = on.expression.expression
        open_end = exp.column(until, alias).is_(exp.null())
        join.set("on", exp.and_(on.copy(), exp.paren(
            exp.or_(open_end, exp.LT(this=day.copy(), expression=exp.column(until, alias))))))
        join.set("method", None)
    return tree


def _types(tree: exp.Expr, name: str) -> exp.Expr:
    """Money: DECIMAL(38, 9) -> NUMERIC (fixed at 38, 9); any other DECIMAL is refused."""
    for node in tree.find_all(exp.DataType):
        if node.this not in _BIGQUERY_TYPES:
            raise _refuse(name, f"type {node.sql('duckdb')} has no reviewed BigQuery type")
        if node.this == exp.DType.DECIMAL:
            if [p.name for p in node.expressions] != ["38", "9"]:
                raise _refuse(name, f"{node.sql('duckdb')} is not DECIMAL(38, 9), the money "
                                    "type (BigQuery's NUMERIC)")
            node.set("expressions", [])
    return tree


def _local_dates(tree: exp.Expr, name: str) -> exp.Expr:
    """``CAST(timezone(zone, ts) AS DATE)`` -> ``DATE(ts, zone)``."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        inner = node.this if isinstance(node, exp.Cast) else None
        if (isinstance(inner, exp.Anonymous) and inner.name.lower() == "timezone"
                and node.to.this == exp.DType.DATE and len(inner.expressions) == 2):
            zone, ts = (e.sql("bigquery") for e in inner.expressions)
            return _parse(local_date(ts, zone, "bigquery"), name, read="bigquery")
        return node
    return tree.transform(rewrite, copy=False)


def _regexes(tree: exp.Expr, name: str) -> exp.Expr:
    """DuckDB's regexp functions as BigQuery's, where they mean the same (see the module doc)."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.RegexpFullMatch):
            pattern = _literal_pattern(node.expression, name)
            return exp.RegexpLike(this=node.this.copy(),
                                  expression=exp.Literal.string(f"^(?:{pattern})$"))
        if isinstance(node, exp.RegexpLike) and node.args.get("flag") is not None:
            raise _refuse(name, f"{_snippet(node)}: regexp flags differ between the engines")
        if isinstance(node, exp.RegexpExtract):
            _check_extract(node, name)
        if isinstance(node, exp.RegexpReplace):
            _check_replace(node, name)
        return node
    return tree.transform(rewrite, copy=False)


def _literal_pattern(node: exp.Expr, name: str) -> str:
    """The regex of a string literal (the rules read patterns, so they must be literals)."""
    if not (isinstance(node, exp.Literal) and node.is_string):
        raise _refuse(name, f"regex {node.sql()} is not a string literal")
    return node.this


def _check_extract(node: exp.RegexpExtract, name: str) -> None:
    """Keep a ``regexp_extract`` only where BigQuery's gives the same: in ``coalesce(.., '')``
    and taking the whole match (no groups) or the pattern's one group."""
    groups = re.compile(_literal_pattern(node.expression, name)).groups
    group = node.args.get("group")
    wanted = int(group.name) if group is not None else 0
    parent = node.parent
    in_coalesce = (isinstance(parent, exp.Coalesce) and parent.this is node
                   and [e.sql() for e in parent.expressions] == ["''"])
    if wanted != groups or groups > 1 or not in_coalesce:
        raise _refuse(name, f"{node.sql('duckdb')} must take the whole match of a pattern "
                            "without groups, or the one group of a pattern with one, inside "
                            "coalesce(..., '')")
    node.set("group", None)


def _check_replace(node: exp.RegexpReplace, name: str) -> None:
    """Keep a ``regexp_replace`` only where it replaces every match on DuckDB too."""
    flags = node.args.get("modifiers")
    flag = flags.name if flags is not None else ""
    if flag not in ("", "g") or (flag == "" and not
                                 _literal_pattern(node.expression, name).startswith("^")):
        raise _refuse(name, f"{node.sql('duckdb')}: BigQuery replaces every match, so give "
                            "DuckDB's 'g' flag or anchor the pattern at ^")
    node.set("modifiers", None)
    node.set("single_replace", None)


def _like_escapes(tree: exp.Expr, name: str) -> exp.Expr:
    """``x LIKE p ESCAPE '\\'`` -> ``x LIKE p`` (BigQuery's LIKE always escapes with \\)."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Escape):
            if node.expression.name != "\\":
                raise _refuse(name, f"LIKE escape {node.expression.sql()} (BigQuery's is \\)")
            return node.this
        return node
    return tree.transform(rewrite, copy=False)


def _arg_min_max(tree: exp.Expr, name: str) -> exp.Expr:
    """``arg_max(value, by)`` -> the value of the row with the largest non-NULL ``by`` among
    rows whose value is not NULL, as DuckDB picks it."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, (exp.ArgMax, exp.ArgMin)):
            order = "DESC" if isinstance(node, exp.ArgMax) else "ASC"
            agg = sqlglot.parse_one(_ARG_BY.format(order=order), read="bigquery")
            agg = exp.replace_placeholders(agg, value=node.this.copy(),
                                           by=node.expression.copy())
            return exp.Bracket(this=agg, expressions=[exp.Literal.number(0)], offset=0,
                               safe=True)
        return node
    return tree.transform(rewrite, copy=False)


def _group_by_all(tree: exp.Expr, name: str) -> exp.Expr:
    """``GROUP BY ALL`` -> the ordinals of the columns that aggregate nothing."""
    for group in tree.find_all(exp.Group):
        if not group.args.get("all"):
            continue
        keys = []
        for number, column in enumerate(group.parent.expressions, 1):
            if column.find(exp.Window, exp.Subquery) or isinstance(
                    column.unalias(), (exp.Literal, exp.Star)):
                raise _refuse(name, f"GROUP BY ALL over {column.sql()} is ambiguous")
            if not column.find(exp.AggFunc):
                keys.append(exp.Literal.number(number))
        group.set("all", None)
        group.set("expressions", keys)
    return tree


def _insert_by_name(tree: exp.Expr, name: str) -> exp.Expr:
    """``INSERT INTO t BY NAME SELECT ...`` -> ``INSERT INTO t (columns) SELECT ...``."""
    for insert in tree.find_all(exp.Insert):
        if not insert.args.get("by_name"):
            continue
        select = insert.expression
        names = select.named_selects
        if len(names) != len(select.selects) or "*" in names:
            raise _refuse(name, "INSERT BY NAME needs every selected column named")
        insert.set("this", exp.Schema(this=insert.this.copy(),
                                      expressions=[exp.to_identifier(n) for n in names]))
        insert.set("by_name", None)
    return tree


def _now(tree: exp.Expr, name: str) -> exp.Expr:
    """``now()`` -> ``CURRENT_TIMESTAMP()``."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "now":
            return exp.CurrentTimestamp()
        return node
    return tree.transform(rewrite, copy=False)


def _float_division(tree: exp.Expr, name: str) -> exp.Expr:
    """``a / b`` -> ``IEEE_DIVIDE(a, b)``: FLOAT64, infinity for a zero divisor, like DuckDB."""
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Div):
            return exp.Anonymous(this="IEEE_DIVIDE", expressions=[node.this, node.expression])
        return node
    return tree.transform(rewrite, copy=False)


RULES: tuple[Callable[[exp.Expr, str], exp.Expr], ...] = (
    _asof_joins, _types, _local_dates, _regexes, _like_escapes, _arg_min_max, _group_by_all,
    _insert_by_name, _now, _float_division)

#: every function a rendered statement may call, each reviewed to mean on BigQuery what it
#: means on DuckDB as the transforms use it (sqlglot's class names; ``Anonymous`` ones by
#: name). ``MD5`` is ``TO_HEX(MD5(...))``, DuckDB's hex digest; ``GroupConcat`` is STRING_AGG;
#: ``RegexpLike`` is REGEXP_CONTAINS; ``StrPosition`` is INSTR; ``Date`` is DATE(ts, zone).
BIGQUERY_FUNCTIONS = frozenset({
    "ArrayAgg", "Cast", "Coalesce", "Count", "CountIf", "CurrentTimestamp", "Date",
    "GroupConcat", "IEEE_DIVIDE", "If", "Lead", "Lower", "MD5", "Max", "Min", "RegexpExtract",
    "RegexpLike", "RegexpReplace", "Round", "RowNumber", "StartsWith", "StrPosition", "Sum",
    "Trim", "Upper"})
#: the arguments those functions may have: BigQuery's third regexp argument is a position,
#: DuckDB's a group or flags; ARRAY_AGG fails on a NULL element unless it ignores NULLs
_ARGS = {"RegexpLike": {"this", "expression"},
         "RegexpExtract": {"this", "expression", "group", "null_if_pos_overflow",
                           "null_if_no_match", "empty_if_group_missing"},  # flags sqlglot sets
         "RegexpReplace": {"this", "expression", "replacement"}}
#: BigQuery's STRING, INT64, FLOAT64, BOOL, DATE, TIMESTAMP and NUMERIC (= DECIMAL(38, 9))
_RENDERED_TYPES = {exp.DType.TEXT, exp.DType.BIGINT, exp.DType.DOUBLE, exp.DType.BOOLEAN,
                   exp.DType.DATE, exp.DType.TIMESTAMPTZ, exp.DType.DECIMAL}
#: sqlglot models these as functions, but they are operators and CASE, the same everywhere
_NOT_FUNCTIONS = (exp.Connector, exp.Case)
#: DuckDB constructs a rule must have rewritten (a FILTER clause, LATERAL, LIKE ... ESCAPE,
#: ``/``, which BigQuery evaluates in NUMERIC and fails on zero)
_LEFT_OVER = {exp.Filter: "a FILTER clause", exp.Lateral: "a LATERAL join",
              exp.Escape: "LIKE ... ESCAPE", exp.Div: "the / operator"}


def check(sql: str, name: str) -> None:
    """Refuse BigQuery ``sql`` that does not parse or holds anything no rule has reviewed."""
    tree = _parse(sql, name, read="bigquery")
    for node in tree.find_all(exp.Func):
        func = node.name.upper() if isinstance(node, exp.Anonymous) else type(node).__name__
        if func not in BIGQUERY_FUNCTIONS and not isinstance(node, _NOT_FUNCTIONS):
            raise _refuse(name, f"{func} ({_snippet(node)}) has no reviewed BigQuery rendering")
        given = {arg for arg, value in node.args.items() if value is not None}
        if func == "ArrayAgg" and not isinstance(node.parent, exp.IgnoreNulls):
            raise _refuse(name, f"{_snippet(node)} fails on a NULL element (IGNORE NULLS)")
        if not given <= _ARGS.get(func, given):
            raise _refuse(name, f"{_snippet(node)} has arguments no rule has reviewed")
    for kind, what in _LEFT_OVER.items():
        if node := tree.find(kind):
            raise _refuse(name, f"{what} remains ({_snippet(node)})")
    for node in tree.find_all(exp.DataType):
        if node.this not in _RENDERED_TYPES or node.expressions:
            raise _refuse(name, f"type {_snippet(node)} is not one the rules render")
    for node in tree.find_all(exp.Join, exp.Group, exp.Insert):
        if node.args.get("method") or node.args.get("all") or node.args.get("by_name"):
            raise _refuse(name, f"{_snippet(node)} remains (ASOF, GROUP BY ALL or BY NAME)")
    if tree.find(exp.Placeholder):
        raise _refuse(name, "a ? parameter remains (BigQuery's are named: @name)")
