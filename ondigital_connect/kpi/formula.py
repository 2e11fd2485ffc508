"""Metric formulas: arithmetic over named base measures, parsed once, rendered or evaluated.

A formula such as ``(net_sales - cogs) / net_sales`` may use measure names, numbers, ``+ - * /``,
unary minus and parentheses, nothing else. It is parsed with Python's ``ast`` (never ``eval``)
so the set of nodes is closed; SQL rendering divides with ``NULLIF(denominator, 0)`` and Python
evaluation gives ``None`` for a zero denominator, so an empty period never divides by zero.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ondigital_connect.errors import ConfigError

_OPS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed formula: its text, the measures it reads, and whether it divides."""

    text: str
    tree: ast.expr
    measures: tuple[str, ...]

    @property
    def is_ratio(self) -> bool:
        """True when the formula divides (a ratio: recomputed from sums, never summed)."""
        return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)
                   for n in ast.walk(self.tree))

    def sql(self, column: Callable[[str], str]) -> str:
        """SQL for the formula; ``column(measure)`` gives each measure's SQL (e.g. a SUM)."""
        return _sql(self.tree, column)

    def evaluate(self, values: Mapping[str, Decimal | int | None]) -> Decimal | None:
        """The formula's value from measure values (None when a denominator is 0 or a value
        is missing)."""
        return _evaluate(self.tree, values)


def parse(text: str) -> Formula:
    """Parse ``text``; ConfigError names what is not allowed."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ConfigError(f"formula {text!r} does not parse: {exc.msg}") from None
    names: list[str] = []
    for node in ast.walk(tree):
        problem = _disallowed(node)
        if problem:
            raise ConfigError(f"formula {text!r}: {problem}")
        if isinstance(node, ast.Name) and node.id not in names:
            names.append(node.id)
    if not names:
        raise ConfigError(f"formula {text!r} reads no measure")
    return Formula(text.strip(), tree, tuple(names))


def _disallowed(node: ast.AST) -> str | None:
    """Why ``node`` may not appear in a formula, or None when it may."""
    if isinstance(node, ast.BinOp):
        return None if type(node.op) in _OPS else "only + - * / are allowed"
    if isinstance(node, ast.UnaryOp):
        return None if isinstance(node.op, ast.USub) else "only unary minus is allowed"
    if isinstance(node, ast.Constant):
        ok = isinstance(node.value, int | float) and not isinstance(node.value, bool)
        return None if ok else "constants must be numbers"
    if isinstance(node, ast.Name | ast.operator | ast.unaryop | ast.Load):
        return None
    return f"{type(node).__name__} is not allowed"


def _sql(node: ast.expr, column: Callable[[str], str]) -> str:
    if isinstance(node, ast.Name):
        return column(node.id)
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.UnaryOp):
        return f"(-{_sql(node.operand, column)})"
    assert isinstance(node, ast.BinOp)
    left, right = _sql(node.left, column), _sql(node.right, column)
    if isinstance(node.op, ast.Div):
        return f"({left} / NULLIF({right}, 0))"
    return f"({left} {_OPS[type(node.op)]} {right})"


def _evaluate(node: ast.expr, values: Mapping[str, Any]) -> Decimal | None:
    if isinstance(node, ast.Name):
        value = values.get(node.id)
        return None if value is None else Decimal(value)
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.UnaryOp):
        inner = _evaluate(node.operand, values)
        return None if inner is None else -inner
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Div):
        return None if right == 0 else left / right
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    return left * right
