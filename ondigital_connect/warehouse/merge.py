"""In-batch de-duplication of entity rows before they reach the warehouse (engine-neutral)."""

from __future__ import annotations

from typing import Any

from ondigital_connect.models.spec import TableSpec
from ondigital_connect.models.tables import children_of

PARENT_SEQ = "_parent_seq"


def key_of(spec: TableSpec, row: dict[str, Any]) -> Any:
    """The primary-key value of a row (a scalar for one-column keys, else a tuple)."""
    if len(spec.primary_key) == 1:
        return row[spec.primary_key[0]]
    return tuple(row[k] for k in spec.primary_key)


def dedupe_batch(
    root: TableSpec, rows: dict[str, list[dict[str, Any]]]
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Keep one version per root key (newest ``version_column``; on a tie the later one).

    Children follow their parent's winning occurrence: a child row names it by
    ``_parent_seq`` (the index of its parent in the root list) when the source sets it,
    otherwise by the parent key (and child keys are then de-duplicated, last one wins).
    Returns the de-duplicated rows and how many root rows were dropped as repeats.
    """
    root_rows = rows.get(root.name, [])
    version = root.version_column
    best: dict[Any, int] = {}
    for i, row in enumerate(root_rows):
        key = key_of(root, row)
        j = best.get(key)
        if j is None or version is None or row[version] >= root_rows[j][version]:
            best[key] = i
    dropped = len(root_rows) - len(best)
    if not dropped:
        return rows, 0
    keep = set(best.values())
    out = {root.name: [root_rows[i] for i in sorted(keep)]}
    for child in children_of(root.name):
        out[child.name] = _children_of_winners(child, rows.get(child.name, []), keep, root_rows)
    return out, dropped


def _children_of_winners(
    child: TableSpec, rows: list[dict[str, Any]], keep: set[int], parents: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if rows and PARENT_SEQ in rows[0]:
        return [r for r in rows if r[PARENT_SEQ] in keep]
    assert child.parent is not None
    winners = {parents[i][child.parent[1]] for i in keep}
    by_key: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row[child.parent[1]] in winners:
            by_key[key_of(child, row)] = row
    return list(by_key.values())
