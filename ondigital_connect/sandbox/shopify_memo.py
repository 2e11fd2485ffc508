"""Rendered root nodes kept for repeated reads: a warm sandbox answers without rendering again.

Benchmarks use it to take the fake shop's own work off the machine being measured: a warm-up
read renders every order once, before the clock starts, as Shopify's servers would do on their
own hardware. The answer is byte-for-byte what rendering gives, with the same actual cost.
A node is memoised by the query it was rendered for, the request's variables that shape a node
(not the page's ``first``/``after``/``query``), the shop's ``as_of``, and the node's index and
``updated_at``, so a changed order is rendered anew.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: Variables that choose which nodes a page holds, not how a node looks.
PAGING_VARIABLES = frozenset({"first", "after", "last", "before", "query", "reverse", "sortKey"})
Render = Callable[[Any, Any], str]


class NodeMemo:
    """Rendered node texts and their costs, up to ``max_nodes`` (then nothing more is kept)."""

    def __init__(self, max_nodes: int = 2_000_000) -> None:
        self.max_nodes = max_nodes
        self.hits = 0
        self.misses = 0
        self._texts: dict[tuple, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._texts)

    def render(self, render: Render, item: Any, env: Any) -> str:
        """``render(item, env)``, or its remembered text; the node's cost lands in ``env.tally``."""
        key = _key(render, item, env)
        found = self._texts.get(key) if key is not None else None
        if found is not None:
            self.hits += 1
            env.tally.append(found[1])
            return found[0]
        start = len(env.tally)
        text = render(item, env)
        self.misses += 1
        if key is not None and len(self._texts) < self.max_nodes:
            cost = sum(env.tally[start:])
            del env.tally[start:]
            env.tally.append(cost)
            with self._lock:
                self._texts[key] = (text, cost)
        return text


def _key(render: Render, item: Any, env: Any) -> tuple | None:
    """What makes a node's text: None for items without an index and version (not memoised)."""
    index, version = getattr(item, "index", None), getattr(item, "updated_at", None)
    if index is None or version is None:
        return None
    try:
        shaping = tuple(sorted((k, v) for k, v in env.variables.items()
                               if k not in PAGING_VARIABLES))
        hash(shaping)
    except TypeError:  # a list-valued variable: render every time
        return None
    return (render, type(item), index, version, env.as_of, shaping)


def memoised(render: Render) -> Render:
    """``render`` going through the request's memo when the sandbox keeps one."""
    def node(item: Any, env: Any) -> str:
        memo = env.memo
        if memo is None:
            return render(item, env)
        return memo.render(render, item, env)

    return node
